// VirtualService HTTP rules → Envoy routes: matches, weighted destinations, rewrites, redirects, direct responses,
// header edits, retries, timeouts, faults, mirrors and CORS, with Istio's defaults where a rule is silent.

import { resolveHost } from '../../config/hosts.js';
import { matchesLabels } from '../../config/labels.js';
import type { CorsPolicy, Destination, HTTPMatchRequest, HTTPRoute, Headers, StringMatch } from '../../config/types/networking.js';
import { istioDurationMs, istioToProtoDuration } from '../../duration.js';
import {
  TYPE,
  typed,
  type Any,
  type CorsPolicy as EnvoyCorsPolicy,
  type HashPolicy,
  type HeaderMatcher,
  type HeaderValueOption,
  type HttpFault,
  type RedirectAction,
  type RetryPolicy,
  type Route,
  type RouteAction,
  type RouteMatch,
  type StringMatcher,
} from '../../xds/envoy/index.js';
import { clusterPolicy } from './clusters.js';
import { istioConfigPath, outboundClusterName, type OutboundClusterKey } from './names.js';
import type { BoundVirtualService, PushContext } from './push-context.js';

/** What the routes are built for: the listener port and the proxy's identity (for sourceLabels / gateways). */
export interface RouteScope {
  port: number;
  gateway: string;
  proxyLabels: Record<string, string>;
  proxyNamespace: string;
  push: PushContext;
  /** Proxyless gRPC has no default retries and no CORS filter (an unknown per-filter config would be refused). */
  flavour: 'envoy' | 'grpc';
}

/** Istio's default retry policy for mesh routes. */
export function defaultRetryPolicy(): RetryPolicy {
  return {
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    numRetries: 2,
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: typed(TYPE.previousHosts, {}) }],
    hostSelectionRetryMaxAttempts: '5',
    retriableStatusCodes: [503],
  };
}

/** The route a host gets without a VirtualService: everything to its cluster on this port. */
export function defaultRoute(key: OutboundClusterKey, scope: RouteScope): Route {
  const hash = hashPolicyFor(key, scope);
  return {
    name: 'default',
    match: { prefix: '/' },
    route: { cluster: outboundClusterName(key), timeout: '0s', ...(scope.flavour === 'envoy' ? { retryPolicy: defaultRetryPolicy() } : {}), maxGrpcTimeout: '0s', ...(hash ? { hashPolicy: hash } : {}) },
  };
}

/** The cluster a destination names, on the listener's port unless it names one (or its service has just one). */
export function destinationCluster(d: Destination | undefined, vsNamespace: string, scope: RouteScope): OutboundClusterKey {
  const host = resolveHost(d?.host ?? '', vsNamespace, scope.push.cluster.domain);
  const svc = scope.push.service(host);
  const port = d?.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0]!.port : scope.port);
  return { port, subset: d?.subset ?? '', host };
}

function stringMatcher(m: StringMatch, ignoreCase = false): StringMatcher | undefined {
  if (m.exact !== undefined) return { exact: m.exact, ...(ignoreCase ? { ignoreCase: true } : {}) };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...(ignoreCase ? { ignoreCase: true } : {}) };
  if (m.regex !== undefined) return { safeRegex: { regex: m.regex } };
  return undefined;
}

function headerMatcher(name: string, m: StringMatch, invert = false): HeaderMatcher {
  const sm = stringMatcher(m);
  // An empty match ({}) means "present" in Istio.
  return sm ? { name, stringMatch: sm, ...(invert ? { invertMatch: true } : {}) } : { name, presentMatch: true, ...(invert ? { invertMatch: true } : {}) };
}

/** One Istio HTTPMatchRequest → an Envoy RouteMatch (undefined when it cannot apply to this proxy/port). */
export function routeMatch(m: HTTPMatchRequest | undefined, scope: RouteScope, vsNamespace: string): RouteMatch | undefined {
  if (m?.port !== undefined && m.port !== scope.port) return undefined;
  if (m?.sourceLabels && !matchesLabels(m.sourceLabels, scope.proxyLabels)) return undefined;
  if (m?.sourceNamespace && m.sourceNamespace !== scope.proxyNamespace) return undefined;
  if (m?.gateways?.length && !m.gateways.some((g) => matchesGateway(g, scope.gateway, vsNamespace))) return undefined;
  const out: RouteMatch = {};
  const uri = m?.uri;
  if (uri?.exact !== undefined) out.path = uri.exact;
  else if (uri?.prefix !== undefined) out.prefix = uri.prefix;
  else if (uri?.regex !== undefined) out.safeRegex = { regex: uri.regex };
  else out.prefix = '/';
  if (m?.ignoreUriCase) out.caseSensitive = false;
  const headers: HeaderMatcher[] = [];
  for (const [name, hm] of Object.entries(m?.headers ?? {})) headers.push(headerMatcher(name.toLowerCase(), hm));
  for (const [name, hm] of Object.entries(m?.withoutHeaders ?? {})) headers.push(headerMatcher(name.toLowerCase(), hm, true));
  if (m?.method) headers.push(headerMatcher(':method', m.method));
  if (m?.authority) headers.push(headerMatcher(':authority', m.authority));
  if (m?.scheme) headers.push(headerMatcher(':scheme', m.scheme));
  if (headers.length) out.headers = headers;
  const query = Object.entries(m?.queryParams ?? {}).map(([name, qm]) => {
    const sm = stringMatcher(qm);
    return sm ? { name, stringMatch: sm } : { name, presentMatch: true };
  });
  if (query.length) out.queryParameters = query;
  return out;
}

/**
 * Does a gateway reference of a VirtualService (`mesh`, `name`, `namespace/name`) name this gateway? A short name is
 * in the VirtualService's own namespace, as Istio resolves it (not the proxy's).
 */
export function matchesGateway(ref: string, gateway: string, vsNamespace: string): boolean {
  return ref === gateway || (ref.includes('/') ? ref : `${vsNamespace}/${ref}`) === gateway;
}

/** A catch-all match: every request on the port (Istio stops at the first rule that has one). */
const isCatchAll = (m: RouteMatch) => m.prefix === '/' && !m.headers && !m.queryParameters;

export interface HeaderEdits {
  add: HeaderValueOption[];
  remove: string[];
}

export function headerEdits(h: Headers['request'] | undefined): HeaderEdits {
  const add: HeaderValueOption[] = [];
  for (const [key, value] of Object.entries(h?.set ?? {})) add.push({ header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  for (const [key, value] of Object.entries(h?.add ?? {})) add.push({ header: { key, value }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' });
  return { add, remove: h?.remove ?? [] };
}

/** Request and response header edits, as the fields of a Route or a weighted cluster. */
export function headerFields(request: HeaderEdits, response: HeaderEdits): Pick<Route, 'requestHeadersToAdd' | 'requestHeadersToRemove' | 'responseHeadersToAdd' | 'responseHeadersToRemove'> {
  return {
    ...(request.add.length ? { requestHeadersToAdd: request.add } : {}),
    ...(request.remove.length ? { requestHeadersToRemove: request.remove } : {}),
    ...(response.add.length ? { responseHeadersToAdd: response.add } : {}),
    ...(response.remove.length ? { responseHeadersToRemove: response.remove } : {}),
  };
}

export const concat = (a: HeaderEdits, b: HeaderEdits): HeaderEdits => ({ add: [...a.add, ...b.add], remove: [...a.remove, ...b.remove] });

export const millionths = (percent: number | undefined) => ({ numerator: Math.round((percent ?? 100) * 10000), denominator: 'MILLION' as const });

const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

function faultConfig(f: HTTPRoute['fault']): HttpFault | undefined {
  if (!f) return undefined;
  const out: HttpFault = {};
  if (f.delay) {
    const pct = f.delay.percentage?.value ?? f.delay.percent ?? 100;
    out.delay = { fixedDelay: istioToProtoDuration(f.delay.fixedDelay ?? f.delay.exponentialDelay) ?? '0s', percentage: millionths(pct) };
  }
  if (f.abort) {
    const percentage = millionths(f.abort.percentage?.value ?? 100);
    if (f.abort.httpStatus !== undefined) out.abort = { httpStatus: f.abort.httpStatus, percentage };
    else if (f.abort.grpcStatus !== undefined) out.abort = { grpcStatus: GRPC_CODES[f.abort.grpcStatus] ?? Number(f.abort.grpcStatus), percentage };
    else out.abort = { httpStatus: 503, percentage };
  }
  return out;
}

function corsConfig(c: CorsPolicy | undefined): EnvoyCorsPolicy | undefined {
  if (!c) return undefined;
  const origins = [...(c.allowOrigins ?? []).map((o) => stringMatcher(o)).filter((x): x is StringMatcher => !!x), ...(c.allowOrigin ?? []).map((o): StringMatcher => (o === '*' ? { safeRegex: { regex: '.*' } } : { exact: o }))];
  const out: EnvoyCorsPolicy = { allowOriginStringMatch: origins };
  if (c.allowMethods?.length) out.allowMethods = c.allowMethods.join(',');
  if (c.allowHeaders?.length) out.allowHeaders = c.allowHeaders.join(',');
  if (c.exposeHeaders?.length) out.exposeHeaders = c.exposeHeaders.join(',');
  if (c.maxAge) out.maxAge = String(Math.round((istioDurationMs(c.maxAge) ?? 0) / 1000));
  if (c.allowCredentials !== undefined) out.allowCredentials = c.allowCredentials;
  if (c.unmatchedPreflights === 'IGNORE') out.forwardNotMatchingPreflights = false;
  return out;
}

/** A rule's retries: Istio's default when silent (none for proxyless gRPC), none when `attempts: 0`. */
function retryPolicy(r: HTTPRoute['retries'], scope: RouteScope): RetryPolicy | undefined {
  if (!r) return scope.flavour === 'envoy' ? defaultRetryPolicy() : undefined;
  if (r.attempts === 0) return undefined;
  const conditions = (r.retryOn ?? 'connect-failure,refused-stream,unavailable,cancelled,503').split(',').map((s) => s.trim()).filter(Boolean);
  const codes = conditions.filter((c) => /^\d{3}$/.test(c)).map(Number);
  const named = conditions.filter((c) => !/^\d{3}$/.test(c));
  if (codes.length && !named.includes('retriable-status-codes')) named.push('retriable-status-codes');
  return {
    retryOn: named.join(','),
    numRetries: r.attempts ?? 2,
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: typed(TYPE.previousHosts, {}) }],
    hostSelectionRetryMaxAttempts: '5',
    ...(codes.length ? { retriableStatusCodes: codes } : {}),
    ...(r.perTryTimeout ? { perTryTimeout: istioToProtoDuration(r.perTryTimeout) } : {}),
  };
}

export const REDIRECT_CODES: Record<number, RedirectAction['responseCode']> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

/** Consistent-hash policy of the destination's DestinationRule (its subset's and port's settings first), as Istio puts it on the route. */
export function hashPolicyFor(key: OutboundClusterKey, scope: RouteScope): HashPolicy[] | undefined {
  const found = scope.push.destinationRuleFor(key.host, scope.proxyNamespace, scope.proxyLabels);
  if (!found) return undefined;
  const ch = clusterPolicy(found, key).loadBalancer?.consistentHash;
  if (!ch) return undefined;
  if (ch.httpHeaderName) return [{ header: { headerName: ch.httpHeaderName } }];
  if (ch.httpCookie) return [{ cookie: { name: ch.httpCookie.name, ...(ch.httpCookie.ttl ? { ttl: istioToProtoDuration(ch.httpCookie.ttl) } : {}), ...(ch.httpCookie.path ? { path: ch.httpCookie.path } : {}) } }];
  if (ch.useSourceIp) return [{ connectionProperties: { sourceIp: true } }];
  if (ch.httpQueryParameterName) return [{ queryParameter: { name: ch.httpQueryParameterName } }];
  return undefined;
}

/** The Envoy routes of one VirtualService for one port and proxy (several per rule when a rule has several matches). */
export function virtualServiceRoutes(b: BoundVirtualService, scope: RouteScope): { routes: Route[]; catchAll: boolean } {
  const routes: Route[] = [];
  const ns = b.vs.metadata.namespace;
  const metadata = { filterMetadata: { istio: { config: istioConfigPath('virtual-service', ns, b.vs.metadata.name) } } };
  let catchAll = false;
  for (const rule of b.vs.spec.http ?? []) {
    const matches = rule.match?.length ? rule.match.map((m) => routeMatch(m, scope, ns)).filter((m): m is RouteMatch => !!m) : [routeMatch(undefined, scope, ns)!];
    if (!matches.length) continue;
    const base = ruleAction(rule, ns, scope);
    for (const match of matches) {
      routes.push({ name: rule.name ?? '', match, ...base, metadata, decorator: { operation: `${b.hosts[0] ?? ''}:${scope.port}/*` } });
      if (isCatchAll(match)) catchAll = true;
    }
    // Istio stops at a catch-all rule: later rules are unreachable (IST0130).
    if (!rule.match?.length) break;
  }
  return { routes, catchAll };
}

function ruleAction(rule: HTTPRoute, ns: string, scope: RouteScope): Omit<Route, 'name' | 'match'> {
  let request = headerEdits(rule.headers?.request);
  let response = headerEdits(rule.headers?.response);
  const perFilter: Record<string, Any> = {};
  const fault = faultConfig(rule.fault);
  if (fault) perFilter['envoy.filters.http.fault'] = typed(TYPE.fault, fault);
  const cors = scope.flavour === 'envoy' ? corsConfig(rule.corsPolicy) : undefined;
  if (cors) perFilter['envoy.filters.http.cors'] = typed(TYPE.corsPolicy, cors);
  const filters = Object.keys(perFilter).length ? { typedPerFilterConfig: perFilter } : {};

  if (rule.directResponse) {
    const body = rule.directResponse.body;
    return { ...headerFields(request, response), ...filters, directResponse: { status: rule.directResponse.status ?? 200, ...(body?.string !== undefined ? { body: { inlineString: body.string } } : body?.bytes !== undefined ? { body: { inlineBytes: body.bytes } } : {}) } };
  }
  if (rule.redirect) {
    const r = rule.redirect;
    const redirect: RedirectAction = {};
    if (r.uri) redirect.pathRedirect = r.uri;
    if (r.authority) redirect.hostRedirect = r.authority;
    if (r.port) redirect.portRedirect = r.port;
    if (r.scheme) redirect.schemeRedirect = r.scheme;
    redirect.responseCode = REDIRECT_CODES[r.redirectCode ?? 301] ?? 'MOVED_PERMANENTLY';
    return { ...headerFields(request, response), ...filters, redirect };
  }
  const timeout = istioToProtoDuration(rule.timeout) ?? '0s';
  const action: RouteAction = { timeout, maxGrpcTimeout: timeout };
  const dests = rule.route ?? [];
  const clusters = dests.map((d) => ({ d, key: destinationCluster(d.destination, ns, scope) }));
  if (clusters.length === 1) {
    const { d, key } = clusters[0]!;
    action.cluster = outboundClusterName(key);
    // A lone destination's header edits apply to the route, after the rule's own.
    request = concat(request, headerEdits(d.headers?.request));
    response = concat(response, headerEdits(d.headers?.response));
    const hash = hashPolicyFor(key, scope);
    if (hash) action.hashPolicy = hash;
  } else if (clusters.length > 1) {
    const anyWeight = dests.some((d) => d.weight);
    action.weightedClusters = {
      clusters: clusters
        .map(({ d, key }) => ({ name: outboundClusterName(key), weight: anyWeight ? (d.weight ?? 0) : Math.floor(100 / clusters.length), ...headerFields(headerEdits(d.headers?.request), headerEdits(d.headers?.response)) }))
        .filter((c) => c.weight > 0),
    };
  }
  if (rule.rewrite?.uri !== undefined) action.prefixRewrite = rule.rewrite.uri;
  if (rule.rewrite?.uriRegexRewrite) action.regexRewrite = { pattern: { regex: rule.rewrite.uriRegexRewrite.match ?? '' }, substitution: rule.rewrite.uriRegexRewrite.rewrite ?? '' };
  if (rule.rewrite?.authority) action.hostRewriteLiteral = rule.rewrite.authority;
  const retry = retryPolicy(rule.retries, scope);
  if (retry) action.retryPolicy = retry;
  const mirrors = [
    ...(rule.mirror ? [{ key: destinationCluster(rule.mirror, ns, scope), percent: rule.mirrorPercentage?.value ?? rule.mirrorPercent ?? 100 }] : []),
    ...(rule.mirrors ?? []).map((m) => ({ key: destinationCluster(m.destination, ns, scope), percent: m.percentage?.value ?? 100 })),
  ];
  if (mirrors.length) action.requestMirrorPolicies = mirrors.map((m) => ({ cluster: outboundClusterName(m.key), runtimeFraction: { defaultValue: millionths(m.percent) }, traceSampled: false }));
  return { ...headerFields(request, response), ...filters, route: action };
}
