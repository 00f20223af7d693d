// Kiali's service wizards as pure functions: request routing, traffic shifting, fault injection, request timeouts and
// TCP traffic shifting, each a DestinationRule with one subset per version and a VirtualService (plus a Gateway when
// a new one is attached). Shared by the browser (which previews and applies the YAML) and the tests.

import { stringify } from 'yaml';
import type { DestinationRuleSpec, HTTPRoute, TLSMode, VirtualServiceSpec } from '../../config/types/networking.js';
import { istioDurationMs } from '../../duration.js';
import { checkGateway, gatewayObject, gatewayRefs, type GatewayAttachment } from './gateway.js';

/** The label Kiali puts on what its wizards write, with the wizard's name: how a later "update" or delete finds them. */
export const WIZARD_LABEL = 'kiali_wizard';

/** Kiali's wizard names, as they appear in the label. */
export type WizardKind = 'request_routing' | 'traffic_shifting' | 'fault_injection' | 'request_timeouts' | 'tcp_traffic_shifting';

export const WIZARD_TITLES: Record<WizardKind, string> = {
  request_routing: 'Request Routing',
  traffic_shifting: 'Traffic Shifting',
  fault_injection: 'Fault Injection',
  request_timeouts: 'Request Timeouts',
  tcp_traffic_shifting: 'TCP Traffic Shifting',
};

export interface Subset {
  name: string;
  labels: Record<string, string>;
}

export interface WeightedRoute {
  subset: string;
  weight: number;
}

export type MatchOp = 'exact' | 'prefix' | 'regex';

/** What an HTTP rule matches: a request header, or the URI. */
export interface HttpMatch {
  header?: { name: string; op: MatchOp; value: string };
  uri?: { op: MatchOp; value: string };
}

/** Istio's HTTPFaultInjection, as the wizard asks for it: a share of requests delayed, a share aborted. */
export interface Fault {
  delay?: { percent: number; fixedDelay: string };
  abort?: { percent: number; httpStatus: number };
}

export interface Retries {
  attempts: number;
  perTryTimeout?: string;
  /** Envoy's retry conditions, comma-separated (`gateway-error,connect-failure,refused-stream`). */
  retryOn?: string;
}

/** One HTTP route: requests it matches (all when no match) go to the weighted subsets, with its fault and timeouts. */
export interface RouteRule {
  match?: HttpMatch;
  weights: WeightedRoute[];
  fault?: Fault;
  timeout?: string;
  retries?: Retries;
}

export interface TrafficPolicyInput {
  tls?: TLSMode;
  loadBalancer?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH';
}

export interface WizardInput {
  kind: WizardKind;
  namespace: string;
  service: string;
  subsets: Subset[];
  /** HTTP routes in order (TCP traffic shifting uses the weights of the first). */
  rules: RouteRule[];
  gateway?: GatewayAttachment;
  trafficPolicy?: TrafficPolicyInput;
  domain?: string;
}

export interface WorkloadLike {
  name: string;
  labels: Record<string, string>;
}

/** One subset per distinct `version` label among the service's workloads, as Kiali's wizards build them. */
export function subsetsFor(workloads: readonly WorkloadLike[]): Subset[] {
  const versions = [...new Set(workloads.map((w) => w.labels.version).filter((v): v is string => !!v))].sort();
  return versions.map((v) => ({ name: v, labels: { version: v } }));
}

/** Weights that add up to 100, split as evenly as whole numbers allow (Kiali's starting point). */
export function evenWeights(subsets: readonly Subset[]): WeightedRoute[] {
  const n = subsets.length;
  return subsets.map((s, i) => ({ subset: s.name, weight: Math.floor(100 / n) + (i < 100 % n ? 1 : 0) }));
}

/** The rule each wizard starts from: every request, spread evenly over the versions. */
export function defaultRule(subsets: readonly Subset[]): RouteRule {
  return { weights: evenWeights(subsets) };
}

function checkDuration(what: string, d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const ms = istioDurationMs(d);
  if (ms === undefined) return `${what} "${d}" is not a duration (e.g. 500ms, 2s, 1m)`;
  if (ms <= 0) return `${what} must be more than 0`;
  return undefined;
}

function checkPercent(what: string, p: number): string | undefined {
  return Number.isFinite(p) && p >= 0 && p <= 100 ? undefined : `${what} must be a percentage from 0 to 100`;
}

function checkRule(r: RouteRule, names: Set<string>, i: number, kind: WizardKind): string | undefined {
  const at = (m: string) => `rule ${i + 1}: ${m}`;
  if (r.weights.length === 0) return at('it routes nowhere');
  for (const w of r.weights) {
    if (!names.has(w.subset)) return at(`unknown subset ${w.subset}`);
    if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 100) return at(`weight of ${w.subset} must be a whole number from 0 to 100`);
  }
  if (r.weights.reduce((a, w) => a + w.weight, 0) !== 100) return at('weights must add up to 100');
  if (r.match) {
    if (kind === 'tcp_traffic_shifting') return at('TCP routes match no HTTP attributes');
    if (!r.match.header && !r.match.uri) return at('a match needs a header or a URI');
    if (r.match.header && (!r.match.header.name || !r.match.header.value)) return at('a header match needs a name and a value');
    if (r.match.uri && !r.match.uri.value) return at('a URI match needs a value');
  }
  if (r.fault?.delay) {
    const p = checkPercent('delay percentage', r.fault.delay.percent) ?? checkDuration('fixed delay', r.fault.delay.fixedDelay);
    if (p) return at(p);
  }
  if (r.fault?.abort) {
    const s = r.fault.abort.httpStatus;
    if (!Number.isInteger(s) || s < 200 || s > 599) return at('abort status must be an HTTP status from 200 to 599');
    const p = checkPercent('abort percentage', r.fault.abort.percent);
    if (p) return at(p);
  }
  const t = checkDuration('timeout', r.timeout) ?? checkDuration('per-try timeout', r.retries?.perTryTimeout);
  if (t) return at(t);
  if (r.retries && (!Number.isInteger(r.retries.attempts) || r.retries.attempts < 0)) return at('retry attempts must be a whole number');
  return undefined;
}

/** Why the input cannot make valid config, or undefined. */
export function checkWizard(input: WizardInput): string | undefined {
  if (input.subsets.length === 0) return `the workloads of ${input.service} have no version label: there is nothing to route between`;
  if (input.rules.length === 0) return 'add a rule';
  const names = new Set(input.subsets.map((s) => s.name));
  for (const [i, r] of input.rules.entries()) {
    const problem = checkRule(r, names, i, input.kind);
    if (problem) return problem;
  }
  if (input.kind === 'tcp_traffic_shifting' && input.rules.length !== 1) return 'TCP traffic shifting has one rule';
  return input.gateway ? checkGateway(input.gateway) : undefined;
}

export function serviceHost(input: Pick<WizardInput, 'service' | 'namespace' | 'domain'>): string {
  return `${input.service}.${input.namespace}.svc.${input.domain ?? 'cluster.local'}`;
}

function destinations(input: WizardInput, weights: readonly WeightedRoute[]): Array<{ destination: { host: string; subset: string }; weight?: number }> {
  const host = serviceHost(input);
  const kept = weights.filter((w) => w.weight > 0);
  // One destination takes everything: Istio's form without a weight, as Kiali writes it.
  return kept.map((w) => (kept.length === 1 ? { destination: { host, subset: w.subset } } : { destination: { host, subset: w.subset }, weight: w.weight }));
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

/** The objects as one YAML text: DestinationRule first (its subsets exist before routes use them), Gateway, VirtualService. */
export function wizardYaml(input: WizardInput): string {
  const o = buildWizard(input);
  return [o.destinationRule, ...(o.gateway ? [o.gateway] : []), o.virtualService].map((x) => stringify(x)).join('---\n');
}
