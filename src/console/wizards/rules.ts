// The model every service wizard shares, Kiali's and the Gateway API's alike: which wizard, the versions of the
// service (one per `version` label), the rules (a match, then weights over versions, with faults and timeouts where
// the wizard asks), where the routes attach, and the checks that keep the input to what makes valid config.

import { istioDurationMs } from '../../duration.js';
import type { TLSMode } from '../../config/types/networking.js';
import { checkGateway, type GatewayAttachment } from './gateway.js';

/** The label Kiali puts on what its wizards write, with the wizard's name: how a later "update" or delete finds them. */
export const WIZARD_LABEL = 'kiali_wizard';

/** Kiali's wizard names, as they appear in the label (`k8s_…`: the Gateway API wizards, which write an HTTPRoute). */
export type WizardKind = 'request_routing' | 'traffic_shifting' | 'fault_injection' | 'request_timeouts' | 'tcp_traffic_shifting' | 'k8s_request_routing' | 'k8s_traffic_shifting';

export const WIZARD_TITLES: Record<WizardKind, string> = {
  request_routing: 'Request Routing',
  traffic_shifting: 'Traffic Shifting',
  fault_injection: 'Fault Injection',
  request_timeouts: 'Request Timeouts',
  tcp_traffic_shifting: 'TCP Traffic Shifting',
  k8s_request_routing: 'K8s Request Routing',
  k8s_traffic_shifting: 'K8s Traffic Shifting',
};

/** Whether a wizard writes Gateway API routes (HTTPRoute, parents and per-version Services) rather than Istio's. */
export function isGatewayApiWizard(kind: WizardKind): boolean {
  return kind === 'k8s_request_routing' || kind === 'k8s_traffic_shifting';
}

/** Whether a wizard's single rule is a set of weights (its page is the weights table). */
export function isShifting(kind: WizardKind): boolean {
  return kind === 'traffic_shifting' || kind === 'tcp_traffic_shifting' || kind === 'k8s_traffic_shifting';
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
}

/** The weight of one version; the subset `WHOLE_SERVICE` is the service itself, every version as it balances them. */
export interface WeightedRoute {
  subset: string;
  weight: number;
}

export const WHOLE_SERVICE = '';

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

/** A Service a Gateway API route sends traffic to, at one port. */
export interface BackendService {
  name: string;
  port: number;
}

/**
 * What the Gateway API wizards route to: Gateway API weights Services, not subsets, so each version needs a Service of
 * its own (Istio's bookinfo-versions.yaml: `reviews-v1` selecting `app: reviews, version: v1`).
 */
export interface GatewayApiBackends {
  /** The service's port the routes are for (the mesh parentRef's port, the whole service's backend port). */
  port: number;
  /** The per-version Service of each version that has one. */
  versions: Record<string, BackendService>;
}

export interface WizardInput {
  kind: WizardKind;
  namespace: string;
  service: string;
  subsets: Subset[];
  /** HTTP routes in order (TCP traffic shifting uses the weights of the first). */
  rules: RouteRule[];
  /** Istio wizards: an Istio Gateway; Gateway API wizards: a Kubernetes Gateway (none: the route is for the mesh). */
  gateway?: GatewayAttachment;
  trafficPolicy?: TrafficPolicyInput;
  /** Gateway API wizards: the service's port and per-version Services. */
  backends?: GatewayApiBackends;
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

export function serviceHost(input: Pick<WizardInput, 'service' | 'namespace' | 'domain'>): string {
  return `${input.service}.${input.namespace}.svc.${input.domain ?? 'cluster.local'}`;
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
    if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 100) return at(`weight of ${w.subset || 'the service'} must be a whole number from 0 to 100`);
  }
  if (r.weights.reduce((a, w) => a + w.weight, 0) !== 100) return at('weights must add up to 100');
  if (r.match) {
    if (kind === 'tcp_traffic_shifting') return at('TCP routes match no HTTP attributes');
    if (!r.match.header && !r.match.uri) return at('a match needs a header or a URI');
    if (r.match.header && (!r.match.header.name || !r.match.header.value)) return at('a header match needs a name and a value');
    if (r.match.uri && !r.match.uri.value) return at('a URI match needs a value');
    // The Gateway API matches headers exactly or by regular expression; a prefix is Istio's alone.
    if (isGatewayApiWizard(kind) && r.match.header?.op === 'prefix') return at('Gateway API header matches are exact or regex, not prefix');
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

/** Why the rules (and the gateway option) cannot make valid config, or undefined: what every wizard checks. */
export function checkRules(input: WizardInput): string | undefined {
  const wholeServiceOnly = input.rules.length > 0 && input.rules.every((r) => r.weights.every((w) => w.subset === WHOLE_SERVICE));
  if (input.subsets.length === 0 && !wholeServiceOnly) return `the workloads of ${input.service} have no version label: there is nothing to route between`;
  if (input.rules.length === 0) return 'add a rule';
  const names = new Set([WHOLE_SERVICE, ...input.subsets.map((s) => s.name)]);
  for (const [i, r] of input.rules.entries()) {
    const problem = checkRule(r, names, i, input.kind);
    if (problem) return problem;
  }
  if (input.kind === 'tcp_traffic_shifting' && input.rules.length !== 1) return 'TCP traffic shifting has one rule';
  return input.gateway ? checkGateway(input.gateway, isGatewayApiWizard(input.kind) ? 'gateway-api' : 'istio') : undefined;
}
