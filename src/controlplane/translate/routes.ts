// VirtualService HTTP rules → Envoy routes: matches, weighted destinations, rewrites, redirects, direct responses,
// header edits, retries, timeouts, faults, mirrors and CORS, with Istio's defaults where a rule is silent.

import { resolveHost } from '../../config/hosts.js';
import { istioDurationMs, istioToProtoDuration } from '../../duration.js';
import type { CorsPolicy, Destination, HTTPMatchRequest, HTTPRoute, Headers, StringMatch } from '../../config/types/networking.js';
import { istioConfigPath, outboundCluster, T } from './names.js';
import type { BoundVirtualService, PushContext } from './push-context.js';

type Json = Record<string, unknown>;

/** What the routes are built for: the listener port and the proxy's identity (for sourceLabels / gateways). */
export interface RouteScope {
  port: number;
  gateway: string;
  proxyLabels: Record<string, string>;
  proxyNamespace: string;
  push: PushContext;
}

/** Istio's default retry policy for mesh routes. */
export function defaultRetryPolicy(): Json {
  return {
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    numRetries: 2,
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: { '@type': T.previousHosts } }],
    hostSelectionRetryMaxAttempts: '5',
    retriableStatusCodes: [503],
  };
}

/** The route a host gets without a VirtualService: everything to its cluster on this port. */
export function defaultRoute(cluster: string): Json {
  return { name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s', retryPolicy: defaultRetryPolicy(), maxGrpcTimeout: '0s' } };
}

/** The cluster a destination names, on the listener's port unless it names one (or its service has just one). */
export function destinationCluster(d: Destination | undefined, vsNamespace: string, scope: RouteScope): string {
  const host = resolveHost(d?.host ?? '', vsNamespace, scope.push.mesh.domain);
  const svc = scope.push.service(host);
  const port = d?.port?.number ?? (svc && svc.ports.length === 1 ? svc.ports[0]!.port : scope.port);
  return outboundCluster(port, d?.subset ?? '', host);
}

function stringMatcher(m: StringMatch, ignoreCase = false): Json | undefined {
  if (m.exact !== undefined) return { exact: m.exact, ...(ignoreCase ? { ignoreCase: true } : {}) };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...(ignoreCase ? { ignoreCase: true } : {}) };
  if (m.regex !== undefined) return { safeRegex: { regex: m.regex } };
  return undefined;
}

function headerMatcher(name: string, m: StringMatch, invert = false): Json {
  const sm = stringMatcher(m);
  // An empty match ({}) means "present" in Istio.
  return sm ? { name, stringMatch: sm, ...(invert ? { invertMatch: true } : {}) } : { name, presentMatch: true, ...(invert ? { invertMatch: true } : {}) };
}

/** One Istio HTTPMatchRequest → an Envoy RouteMatch (undefined when it cannot apply to this proxy/port). */
export function routeMatch(m: HTTPMatchRequest | undefined, scope: RouteScope): Json | undefined {
  if (m?.port !== undefined && m.port !== scope.port) return undefined;
  if (m?.sourceLabels && !Object.entries(m.sourceLabels).every(([k, v]) => scope.proxyLabels[k] === v)) return undefined;
  if (m?.sourceNamespace && m.sourceNamespace !== scope.proxyNamespace) return undefined;
  if (m?.gateways?.length && !m.gateways.some((g) => g === scope.gateway || (g.includes('/') ? g : `${scope.proxyNamespace}/${g}`) === scope.gateway)) return undefined;
  const out: Json = {};
  const uri = m?.uri;
  if (uri?.exact !== undefined) out.path = uri.exact;
  else if (uri?.prefix !== undefined) out.prefix = uri.prefix;
  else if (uri?.regex !== undefined) out.safeRegex = { regex: uri.regex };
  else out.prefix = '/';
  if (m?.ignoreUriCase) out.caseSensitive = false;
  const headers: Json[] = [];
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

function headerEdits(h: Headers['request'] | undefined, prefix: 'request' | 'response'): Json {
  if (!h) return {};
  const add: Json[] = [];
  for (const [key, value] of Object.entries(h.set ?? {})) add.push({ header: { key, value }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  for (const [key, value] of Object.entries(h.add ?? {})) add.push({ header: { key, value }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' });
  const out: Json = {};
  if (add.length) out[`${prefix}HeadersToAdd`] = add;
  if (h.remove?.length) out[`${prefix}HeadersToRemove`] = h.remove;
  return out;
}

const millionths = (percent: number | undefined) => ({ numerator: Math.round((percent ?? 100) * 10000), denominator: 'MILLION' });

const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

function faultConfig(f: HTTPRoute['fault']): Json | undefined {
  if (!f) return undefined;
  const out: Json = { '@type': T.fault };
  if (f.delay) {
    const pct = f.delay.percentage?.value ?? f.delay.percent ?? 100;
    out.delay = { fixedDelay: istioToProtoDuration(f.delay.fixedDelay ?? f.delay.exponentialDelay) ?? '0s', percentage: millionths(pct) };
  }
  if (f.abort) {
    const abort: Json = { percentage: millionths(f.abort.percentage?.value ?? 100) };
    if (f.abort.httpStatus !== undefined) abort.httpStatus = f.abort.httpStatus;
    else if (f.abort.grpcStatus !== undefined) abort.grpcStatus = GRPC_CODES[f.abort.grpcStatus] ?? Number(f.abort.grpcStatus);
    else abort.httpStatus = 503;
    out.abort = abort;
  }
  return out;
}

function corsConfig(c: CorsPolicy | undefined): Json | undefined {
  if (!c) return undefined;
  const origins = [...(c.allowOrigins ?? []).map((o) => stringMatcher(o)).filter((x): x is Json => !!x), ...(c.allowOrigin ?? []).map((o) => (o === '*' ? { safeRegex: { regex: '.*' } } : { exact: o }))];
  const out: Json = { '@type': T.corsPolicy, allowOriginStringMatch: origins };
  if (c.allowMethods?.length) out.allowMethods = c.allowMethods.join(',');
  if (c.allowHeaders?.length) out.allowHeaders = c.allowHeaders.join(',');
  if (c.exposeHeaders?.length) out.exposeHeaders = c.exposeHeaders.join(',');
  if (c.maxAge) out.maxAge = String(Math.round((istioDurationMs(c.maxAge) ?? 0) / 1000));
  if (c.allowCredentials !== undefined) out.allowCredentials = c.allowCredentials;
  if (c.unmatchedPreflights === 'IGNORE') out.forwardNotMatchingPreflights = false;
  return out;
}

function retryPolicy(r: HTTPRoute['retries']): Json | undefined {
  if (!r) return defaultRetryPolicy();
  if (r.attempts === 0) return undefined;
  const conditions = (r.retryOn ?? 'connect-failure,refused-stream,unavailable,cancelled,503').split(',').map((s) => s.trim()).filter(Boolean);
  const codes = conditions.filter((c) => /^\d{3}$/.test(c)).map(Number);
  const named = conditions.filter((c) => !/^\d{3}$/.test(c));
  if (codes.length && !named.includes('retriable-status-codes')) named.push('retriable-status-codes');
  const out: Json = {
    retryOn: named.join(','),
    numRetries: r.attempts ?? 2,
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: { '@type': T.previousHosts } }],
    hostSelectionRetryMaxAttempts: '5',
  };
  if (codes.length) out.retriableStatusCodes = codes;
  if (r.perTryTimeout) out.perTryTimeout = istioToProtoDuration(r.perTryTimeout);
  return out;
}

const REDIRECT_CODES: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

/** Consistent-hash policy of the destination's DestinationRule, as Istio puts it on the route. */
export function hashPolicyFor(cluster: string, scope: RouteScope): Json[] | undefined {
  const [, portText, subset, host] = cluster.split('|');
  const found = scope.push.destinationRuleFor(host!, scope.proxyNamespace, scope.proxyLabels);
  if (!found) return undefined;
  const port = Number(portText);
  const tp = found.rule.spec.trafficPolicy;
  const subsetPolicy = subset ? found.subsets.find((s) => s.name === subset)?.trafficPolicy : undefined;
  const lb = (subsetPolicy?.portLevelSettings ?? []).find((p) => p.port?.number === port)?.loadBalancer ?? subsetPolicy?.loadBalancer ?? (tp?.portLevelSettings ?? []).find((p) => p.port?.number === port)?.loadBalancer ?? tp?.loadBalancer;
  const ch = lb?.consistentHash;
  if (!ch) return undefined;
  if (ch.httpHeaderName) return [{ header: { headerName: ch.httpHeaderName } }];
  if (ch.httpCookie) return [{ cookie: { name: ch.httpCookie.name, ...(ch.httpCookie.ttl ? { ttl: istioToProtoDuration(ch.httpCookie.ttl) } : {}), ...(ch.httpCookie.path ? { path: ch.httpCookie.path } : {}) } }];
  if (ch.useSourceIp) return [{ connectionProperties: { sourceIp: true } }];
  if (ch.httpQueryParameterName) return [{ queryParameter: { name: ch.httpQueryParameterName } }];
  return undefined;
}

/** The Envoy routes of one VirtualService for one port and proxy (several per rule when a rule has several matches). */
export function virtualServiceRoutes(b: BoundVirtualService, scope: RouteScope): Json[] {
  const out: Json[] = [];
  const ns = b.vs.metadata.namespace;
  const metadata = { filterMetadata: { istio: { config: istioConfigPath('virtual-service', ns, b.vs.metadata.name) } } };
  for (const rule of b.vs.spec.http ?? []) {
    const matches = rule.match?.length ? rule.match.map((m) => routeMatch(m, scope)).filter((m): m is Json => !!m) : [routeMatch(undefined, scope)!];
    if (!matches.length) continue;
    const base = ruleAction(rule, ns, scope);
    for (const match of matches) out.push({ name: rule.name ?? '', match, ...base, metadata, decorator: { operation: `${b.hosts[0] ?? ''}:${scope.port}/*` } });
    // Istio stops at a catch-all rule: later rules are unreachable (IST0130).
    if (!rule.match?.length) break;
  }
  return out;
}

function ruleAction(rule: HTTPRoute, ns: string, scope: RouteScope): Json {
  const out: Json = { ...headerEdits(rule.headers?.request, 'request'), ...headerEdits(rule.headers?.response, 'response') };
  const perFilter: Json = {};
  const fault = faultConfig(rule.fault);
  if (fault) perFilter['envoy.filters.http.fault'] = fault;
  const cors = corsConfig(rule.corsPolicy);
  if (cors) perFilter['envoy.filters.http.cors'] = cors;
  if (Object.keys(perFilter).length) out.typedPerFilterConfig = perFilter;

  if (rule.directResponse) {
    const body = rule.directResponse.body;
    out.directResponse = { status: rule.directResponse.status ?? 200, ...(body?.string !== undefined ? { body: { inlineString: body.string } } : body?.bytes !== undefined ? { body: { inlineBytes: body.bytes } } : {}) };
    return out;
  }
  if (rule.redirect) {
    const r = rule.redirect;
    const redirect: Json = {};
    if (r.uri) redirect.pathRedirect = r.uri;
    if (r.authority) redirect.hostRedirect = r.authority;
    if (r.port) redirect.portRedirect = r.port;
    if (r.scheme) redirect.schemeRedirect = r.scheme;
    redirect.responseCode = REDIRECT_CODES[r.redirectCode ?? 301] ?? 'MOVED_PERMANENTLY';
    out.redirect = redirect;
    return out;
  }
  const action: Json = { timeout: istioToProtoDuration(rule.timeout) ?? '0s', maxGrpcTimeout: istioToProtoDuration(rule.timeout) ?? '0s' };
  const dests = rule.route ?? [];
  const clusters = dests.map((d) => ({ d, name: destinationCluster(d.destination, ns, scope) }));
  if (clusters.length === 1) {
    action.cluster = clusters[0]!.name;
    // A lone destination's header edits apply to the route, after the rule's own.
    const d = clusters[0]!.d;
    for (const edits of [headerEdits(d.headers?.request, 'request'), headerEdits(d.headers?.response, 'response')]) {
      for (const [k, v] of Object.entries(edits)) out[k] = [...((out[k] as unknown[] | undefined) ?? []), ...(v as unknown[])];
    }
  } else if (clusters.length > 1) {
    const anyWeight = dests.some((d) => d.weight);
    action.weightedClusters = {
      clusters: clusters
        .map(({ d, name }) => ({ name, weight: anyWeight ? (d.weight ?? 0) : Math.floor(100 / clusters.length), ...headerEdits(d.headers?.request, 'request'), ...headerEdits(d.headers?.response, 'response') }))
        .filter((c) => c.weight > 0),
    };
  }
  if (rule.rewrite?.uri !== undefined) action.prefixRewrite = rule.rewrite.uri;
  if (rule.rewrite?.uriRegexRewrite) action.regexRewrite = { pattern: { regex: rule.rewrite.uriRegexRewrite.match ?? '' }, substitution: rule.rewrite.uriRegexRewrite.rewrite ?? '' };
  if (rule.rewrite?.authority) action.hostRewriteLiteral = rule.rewrite.authority;
  const retry = retryPolicy(rule.retries);
  if (retry) action.retryPolicy = retry;
  const mirrors = [
    ...(rule.mirror ? [{ cluster: destinationCluster(rule.mirror, ns, scope), percent: rule.mirrorPercentage?.value ?? rule.mirrorPercent ?? 100 }] : []),
    ...(rule.mirrors ?? []).map((m) => ({ cluster: destinationCluster(m.destination, ns, scope), percent: m.percentage?.value ?? 100 })),
  ];
  if (mirrors.length) action.requestMirrorPolicies = mirrors.map((m) => ({ cluster: m.cluster, runtimeFraction: { defaultValue: millionths(m.percent) }, traceSampled: false }));
  const hash = typeof action.cluster === 'string' ? hashPolicyFor(action.cluster, scope) : undefined;
  if (hash) action.hashPolicy = hash;
  out.route = action;
  return out;
}
