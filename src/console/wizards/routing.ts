// Kiali's service wizards as pure functions: request routing, traffic shifting, fault injection, request timeouts and
// TCP traffic shifting, each a DestinationRule with one subset per version and a VirtualService (plus a Gateway when
// a new one is attached); the Gateway API wizards' HTTPRoute comes from http-route.ts. Shared by the browser (which
// previews and applies the YAML) and the tests.

import { stringify } from 'yaml';
import type { DestinationRuleSpec, HTTPRoute, VirtualServiceSpec } from '../../config/types/networking.js';
import { gatewayObject, gatewayRefs } from './gateway.js';
import { checkHttpRouteWizard, httpRouteWizardObjects } from './http-route.js';
import { checkRules, isGatewayApiWizard, serviceHost, WHOLE_SERVICE, WIZARD_LABEL, type RouteRule, type WeightedRoute, type WizardInput } from './rules.js';

/** Why the input cannot make valid config, or undefined. */
export function checkWizard(input: WizardInput): string | undefined {
  return checkRules(input) ?? (isGatewayApiWizard(input.kind) ? checkHttpRouteWizard(input) : undefined);
}

function destinations(input: WizardInput, weights: readonly WeightedRoute[]): Array<{ destination: { host: string; subset?: string }; weight?: number }> {
  const host = serviceHost(input);
  const kept = weights.filter((w) => w.weight > 0);
  const destination = (w: WeightedRoute) => (w.subset === WHOLE_SERVICE ? { host } : { host, subset: w.subset });
  // One destination takes everything: Istio's form without a weight, as Kiali writes it.
  return kept.map((w) => (kept.length === 1 ? { destination: destination(w) } : { destination: destination(w), weight: w.weight }));
}

function httpRoute(input: WizardInput, r: RouteRule): HTTPRoute {
  const route: HTTPRoute = {};
  if (r.match) {
    const m: NonNullable<HTTPRoute['match']>[number] = {};
    if (r.match.header) m.headers = { [r.match.header.name]: { [r.match.header.op]: r.match.header.value } };
    if (r.match.uri) m.uri = { [r.match.uri.op]: r.match.uri.value };
    route.match = [m];
  }
  route.route = destinations(input, r.weights);
  if (r.fault?.delay || r.fault?.abort) {
    route.fault = {};
    if (r.fault.delay) route.fault.delay = { percentage: { value: r.fault.delay.percent }, fixedDelay: r.fault.delay.fixedDelay };
    if (r.fault.abort) route.fault.abort = { percentage: { value: r.fault.abort.percent }, httpStatus: r.fault.abort.httpStatus };
  }
  if (r.timeout) route.timeout = r.timeout;
  if (r.retries) route.retries = { attempts: r.retries.attempts, ...(r.retries.perTryTimeout ? { perTryTimeout: r.retries.perTryTimeout } : {}), ...(r.retries.retryOn ? { retryOn: r.retries.retryOn } : {}) };
  return route;
}

export interface WizardObjects {
  destinationRule: { apiVersion: string; kind: 'DestinationRule'; metadata: Metadata; spec: DestinationRuleSpec };
  virtualService: { apiVersion: string; kind: 'VirtualService'; metadata: Metadata; spec: VirtualServiceSpec };
  /** A Gateway the wizard creates (attaching an existing one creates nothing). */
  gateway?: ReturnType<typeof gatewayObject>;
}

interface Metadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

/** What an Istio wizard writes: the DestinationRule, the VirtualService and a new Gateway if one was asked for. */
export function buildWizard(input: WizardInput): WizardObjects {
  const metadata: Metadata = { name: input.service, namespace: input.namespace, labels: { [WIZARD_LABEL]: input.kind } };
  // At a gateway the VirtualService also answers for the gateway's host names (a wildcard server host needs none).
  const spec: VirtualServiceSpec = { hosts: [...new Set([input.service, ...(input.gateway?.hosts ?? []).filter((h) => h !== '*')])] };
  if (input.gateway) spec.gateways = gatewayRefs(input.gateway, input.namespace, input.service);
  if (input.kind === 'tcp_traffic_shifting') spec.tcp = [{ route: destinations(input, input.rules[0]!.weights) }];
  else spec.http = input.rules.map((r) => httpRoute(input, r));
  const dr: DestinationRuleSpec = { host: serviceHost(input), subsets: input.subsets.map((s) => ({ name: s.name, labels: s.labels })) };
  const tp = input.trafficPolicy;
  if (tp?.tls || tp?.loadBalancer) dr.trafficPolicy = { ...(tp.tls ? { tls: { mode: tp.tls } } : {}), ...(tp.loadBalancer ? { loadBalancer: { simple: tp.loadBalancer } } : {}) };
  const out: WizardObjects = {
    destinationRule: { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata, spec: dr },
    virtualService: { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata, spec },
  };
  const gw = input.gateway ? gatewayObject(input.gateway, input.namespace, input.service, metadata.labels) : undefined;
  if (gw) out.gateway = gw;
  return out;
}

/**
 * The objects a wizard writes, in the order they are applied: what others refer to first (an Istio wizard's
 * DestinationRule, then its Gateway, then the VirtualService; a Gateway API wizard's new Gateway, then its HTTPRoute).
 */
export function wizardObjects(input: WizardInput): object[] {
  if (isGatewayApiWizard(input.kind)) {
    const o = httpRouteWizardObjects(input);
    return [...(o.gateway ? [o.gateway] : []), o.httpRoute];
  }
  const o = buildWizard(input);
  return [o.destinationRule, ...(o.gateway ? [o.gateway] : []), o.virtualService];
}

/** The objects as one YAML text, in `wizardObjects`' order. */
export function wizardYaml(input: WizardInput): string {
  return wizardObjects(input).map((x) => stringify(x)).join('---\n');
}
