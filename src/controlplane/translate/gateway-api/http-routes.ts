// HTTPRoute and GRPCRoute rules → Envoy routes, one per (rule, match), each with the rank the specification orders
// matches by: Exact path, then the longest prefix, then method, then the number of header and query matches (ties go
// to the older route, then its namespace/name, then rule order). Filters become header mutations, redirects, rewrites,
// mirrors and CORS; backendRefs a cluster or weighted clusters, where an unusable backend's share answers 500.

import type { BackendRef, GRPCRouteMatch, GRPCRouteRule, HTTPHeaderFilter, HTTPHeaderMatch, HTTPCORSFilter, HTTPPathModifier, HTTPRouteFilter, HTTPRouteMatch, HTTPRouteRule } from '../../../config/types/gateway-api.js';
import { istioToProtoDuration } from '../../../duration.js';
import {
  TYPE,
  typed,
  type Any,
  type ClusterWeight,
  type CorsPolicy,
  type HeaderMatcher,
  type QueryParameterMatcher,
  type RedirectAction,
  type RegexMatchAndSubstitute,
  type RequestMirrorPolicy,
  type RetryPolicy,
  type Route,
  type RouteAction,
  type RouteMatch,
  type StringMatcher,
} from '../../../xds/envoy/index.js';
import { gatewayApiConfigPath, INVALID_BACKEND, outboundClusterName } from '../names.js';
import { concat, defaultRetryPolicy, headerEdits, headerFields, REDIRECT_CODES, type HeaderEdits } from '../routes.js';
import type { ResolvedBackend } from './backends.js';

/** How a match ranks against others (higher first, field by field). */
export interface MatchRank {
  /** Exact 3, prefix 2, regular expression 1 (Istio's order for the implementation-specific regex). */
  pathType: number;
  pathLength: number;
  method: number;
  headers: number;
  query: number;
}

/** One Envoy route of a rule's match, with its rank and its position for ties. */
export interface RouteEntry {
  route: Route;
  rank: MatchRank;
  /** (rule, match) within its route; the route's own age/name order is the caller's. */
  rule: number;
  match: number;
}

/** What translating a route's rules needs: its backends resolved, and where requests arrive (for redirects). */
export interface RuleContext {
  backend(ref: BackendRef): ResolvedBackend;
  /** The listener's port (a mesh route's service port) and scheme: a redirect without a port or scheme keeps them. */
  port: number;
  scheme: 'http' | 'https';
  /** Proxyless gRPC takes no default retries and no CORS. */
  flavour: 'envoy' | 'grpc';
}

export function compareRanks(a: MatchRank, b: MatchRank): number {
  return b.pathType - a.pathType || b.pathLength - a.pathLength || b.method - a.method || b.headers - a.headers || b.query - a.query;
}

const regexMatcher = (regex: string): StringMatcher => ({ safeRegex: { regex } });

function valueMatcher(m: HTTPHeaderMatch): StringMatcher {
  return m.type === 'RegularExpression' ? regexMatcher(m.value ?? '') : { exact: m.value ?? '' };
}

const headerMatchers = (list: HTTPHeaderMatch[] | undefined): HeaderMatcher[] => (list ?? []).map((h) => ({ name: (h.name ?? '').toLowerCase(), stringMatch: valueMatcher(h) }));

/** A PathPrefix value as the segment match it is: `/` matches everything; a trailing `/` is not part of the segments. */
function prefixSegments(value: string): string {
  return value === '/' || value === '' ? '/' : value.replace(/\/+$/, '') || '/';
}

function pathMatch(path: HTTPRouteMatch['path']): { match: RouteMatch; pathType: number; pathLength: number } {
  const type = path?.type ?? 'PathPrefix';
  const value = path?.value ?? '/';
  if (type === 'Exact') return { match: { path: value }, pathType: 3, pathLength: value.length };
  if (type === 'RegularExpression') return { match: { safeRegex: { regex: value } }, pathType: 1, pathLength: value.length };
  const segments = prefixSegments(value);
  // Gateway API prefixes match whole path segments (`/abc` matches `/abc/x`, never `/abcd`): Envoy's path-separated prefix.
  return { match: segments === '/' ? { prefix: '/' } : { pathSeparatedPrefix: segments }, pathType: 2, pathLength: value.length };
}

function httpMatch(m: HTTPRouteMatch | undefined): { match: RouteMatch; rank: MatchRank; prefix: string | undefined } {
  const p = pathMatch(m?.path);
  const headers = headerMatchers(m?.headers);
  if (m?.method) headers.push({ name: ':method', stringMatch: { exact: m.method } });
  const query: QueryParameterMatcher[] = (m?.queryParams ?? []).map((q) => ({ name: q.name ?? '', stringMatch: valueMatcher(q) }));
  const match: RouteMatch = { ...p.match, ...(headers.length ? { headers } : {}), ...(query.length ? { queryParameters: query } : {}) };
  const prefix = (m?.path?.type ?? 'PathPrefix') === 'PathPrefix' ? prefixSegments(m?.path?.value ?? '/') : undefined;
  return { match, prefix, rank: { pathType: p.pathType, pathLength: p.pathLength, method: m?.method ? 1 : 0, headers: m?.headers?.length ?? 0, query: m?.queryParams?.length ?? 0 } };
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A GRPCRoute method match → the HTTP/2 path (`/<service>/<method>`) it stands for. */
function grpcMatch(m: GRPCRouteMatch | undefined): { match: RouteMatch; rank: MatchRank; prefix: undefined } {
  const headers = headerMatchers(m?.headers);
  const method = m?.method;
  let path: RouteMatch;
  let pathType: number;
  let pathLength: number;
  if (!method || (!method.service && !method.method)) [path, pathType, pathLength] = [{ prefix: '/' }, 2, 1];
  else if ((method.type ?? 'Exact') === 'Exact') {
    if (method.service && method.method) [path, pathType] = [{ path: `/${method.service}/${method.method}` }, 3];
    else if (method.service) [path, pathType] = [{ prefix: `/${method.service}/` }, 2];
    else [path, pathType] = [{ safeRegex: { regex: `/[^/]+/${escapeRegex(method.method!)}` } }, 1];
    pathLength = (method.service ?? '').length + (method.method ?? '').length;
  } else {
    [path, pathType, pathLength] = [{ safeRegex: { regex: `/${method.service || '[^/]+'}/${method.method || '[^/]+'}` } }, 1, (method.service ?? '').length + (method.method ?? '').length];
  }
  return { match: { ...path, ...(headers.length ? { headers } : {}) }, prefix: undefined, rank: { pathType, pathLength, method: 0, headers: headers.length, query: 0 } };
}

/** A Gateway API header modifier as Istio's header operations (set overwrites, add appends, remove). */
function modifierEdits(f: HTTPHeaderFilter | undefined): HeaderEdits {
  return headerEdits({
    set: Object.fromEntries((f?.set ?? []).map((h) => [h.name ?? '', h.value ?? ''])),
    add: Object.fromEntries((f?.add ?? []).map((h) => [h.name ?? '', h.value ?? ''])),
    remove: f?.remove ?? [],
  });
}

function filterEdits(filters: HTTPRouteFilter[] | undefined): { request: HeaderEdits; response: HeaderEdits } {
  const none = modifierEdits(undefined);
  let request = none;
  let response = none;
  for (const f of filters ?? []) {
    if (f.type === 'RequestHeaderModifier') request = concat(request, modifierEdits(f.requestHeaderModifier));
    if (f.type === 'ResponseHeaderModifier') response = concat(response, modifierEdits(f.responseHeaderModifier));
  }
  return { request, response };
}

/**
 * ReplacePrefixMatch: the matched segments replaced by `replacement`. A plain prefix rewrite does it, except where it
 * would leave `//` or glue segments together (replacing with `/`, or when the match was `/`): a regex does those.
 */
function replacePrefix(matched: string, replacement: string): { prefixRewrite: string } | { regexRewrite: RegexMatchAndSubstitute } {
  const from = matched === '/' ? '' : matched;
  const to = replacement === '/' ? '' : replacement.replace(/\/+$/, '');
  if (from === '') return to === '' ? { prefixRewrite: '/' } : { regexRewrite: { pattern: { regex: '^/' }, substitution: `${to}/` } };
  if (to === '') return { regexRewrite: { pattern: { regex: `^${escapeRegex(from)}(/|$)` }, substitution: '/' } };
  return { prefixRewrite: to };
}

function pathModifier(mod: HTTPPathModifier | undefined, matched: string | undefined): { full?: string; prefix?: ReturnType<typeof replacePrefix> } {
  if (mod?.type === 'ReplaceFullPath') return { full: mod.replaceFullPath ?? '/' };
  if (mod?.type === 'ReplacePrefixMatch') return { prefix: replacePrefix(matched ?? '/', mod.replacePrefixMatch ?? '/') };
  return {};
}

const WELL_KNOWN_PORTS: Record<string, number> = { http: 80, https: 443 };

/**
 * RequestRedirect: scheme, hostname, port, path and status (302 by default). Without a port, the spec takes the new
 * scheme's well-known port, else the listener's; Location leaves out 80 for http and 443 for https.
 */
function redirectAction(r: NonNullable<HTTPRouteFilter['requestRedirect']>, matched: string | undefined, ctx: RuleContext): RedirectAction {
  const scheme = r.scheme ?? ctx.scheme;
  const out: RedirectAction = { schemeRedirect: scheme, responseCode: REDIRECT_CODES[r.statusCode ?? 302] ?? 'FOUND' };
  if (r.hostname) out.hostRedirect = r.hostname;
  out.portRedirect = r.port ?? (r.scheme ? WELL_KNOWN_PORTS[r.scheme] : undefined) ?? ctx.port;
  const path = pathModifier(r.path, matched);
  if (path.full !== undefined) out.pathRedirect = path.full;
  if (path.prefix) Object.assign(out, path.prefix);
  return out;
}

/** An origin of GEP-1767 (`*`, `https://*.example.com`, `https://example.com:8080`) as a matcher. */
function originMatcher(origin: string): StringMatcher {
  if (origin === '*') return regexMatcher('.*');
  if (!origin.includes('*')) return { exact: origin };
  return regexMatcher(origin.split('*').map(escapeRegex).join('[^/]*'));
}

function corsPolicy(c: HTTPCORSFilter): CorsPolicy {
  return {
    allowOriginStringMatch: (c.allowOrigins ?? []).map(originMatcher),
    ...(c.allowMethods?.length ? { allowMethods: c.allowMethods.join(',') } : {}),
    ...(c.allowHeaders?.length ? { allowHeaders: c.allowHeaders.join(',') } : {}),
    ...(c.exposeHeaders?.length ? { exposeHeaders: c.exposeHeaders.join(',') } : {}),
    maxAge: String(c.maxAge ?? 5),
    ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
    forwardNotMatchingPreflights: false,
  };
}

function mirrorPolicies(filters: HTTPRouteFilter[] | undefined, ctx: RuleContext): RequestMirrorPolicy[] {
  const out: RequestMirrorPolicy[] = [];
  for (const f of filters ?? []) {
    const m = f.type === 'RequestMirror' ? f.requestMirror : undefined;
    if (!m?.backendRef) continue;
    const b = ctx.backend(m.backendRef);
    // An unusable mirror is left out (ResolvedRefs says why); it must not fail the request itself.
    if (!b.ok) continue;
    const fraction = m.fraction ? (m.fraction.numerator ?? 0) / (m.fraction.denominator ?? 100) : (m.percent ?? 100) / 100;
    out.push({ cluster: outboundClusterName(b.key), runtimeFraction: { defaultValue: { numerator: Math.round(fraction * 1_000_000), denominator: 'MILLION' } }, traceSampled: false });
  }
  return out;
}

/** Gateway API's retry (GEP-1731): status codes, attempts and back-off; Istio's default policy when the rule is silent. */
function retryPolicy(retry: HTTPRouteRule['retry'], backendRequest: string | undefined, ctx: RuleContext): RetryPolicy | undefined {
  let policy: RetryPolicy | undefined;
  if (retry) {
    if (retry.attempts === 0) policy = undefined;
    else policy = {
      retryOn: retry.codes?.length ? 'retriable-status-codes' : 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      numRetries: retry.attempts ?? 2,
      retriableStatusCodes: retry.codes?.length ? retry.codes : [503],
      ...(retry.backoff ? { retryBackOff: { baseInterval: istioToProtoDuration(retry.backoff) } } : {}),
    };
  } else if (ctx.flavour === 'envoy') policy = defaultRetryPolicy();
  // backendRequest bounds each attempt at the backend; request (the route timeout) bounds them all.
  const perTry = istioToProtoDuration(backendRequest);
  if (perTry) policy = { ...(policy ?? { numRetries: 0 }), perTryTimeout: perTry };
  return policy;
}

/** backendRefs → the route's cluster or weighted clusters; undefined when nothing can receive traffic (all weights 0, or none). */
function forward(refs: BackendRef[], ctx: RuleContext): { action: Partial<RouteAction>; request: HeaderEdits; response: HeaderEdits } | undefined {
  const targets = refs
    .map((ref) => {
      const b = ctx.backend(ref);
      return { name: b.ok ? outboundClusterName(b.key) : INVALID_BACKEND, weight: ref.weight ?? 1, edits: filterEdits(ref.filters) };
    })
    .filter((t) => t.weight > 0);
  if (!targets.length) return undefined;
  // An unusable backend names a cluster that does not exist: its share answers 500 (the spec), not Envoy's 503.
  const notFound = { clusterNotFoundResponseCode: 'INTERNAL_SERVER_ERROR' as const };
  if (targets.length === 1) return { action: { cluster: targets[0]!.name, ...notFound }, request: targets[0]!.edits.request, response: targets[0]!.edits.response };
  const clusters: ClusterWeight[] = targets.map((t) => ({ name: t.name, weight: t.weight, ...headerFields(t.edits.request, t.edits.response) }));
  const none = modifierEdits(undefined);
  return { action: { weightedClusters: { clusters }, ...notFound }, request: none, response: none };
}

type AnyRule = HTTPRouteRule & GRPCRouteRule;

/** The part of an Envoy route a rule decides (everything but the match). */
function ruleRoute(rule: AnyRule, matched: string | undefined, ctx: RuleContext): Omit<Route, 'match' | 'name' | 'metadata'> {
  const own = filterEdits(rule.filters);
  const perFilter: Record<string, Any> = {};
  const cors = rule.filters?.find((f) => f.type === 'CORS')?.cors;
  if (cors && ctx.flavour === 'envoy') perFilter['envoy.filters.http.cors'] = typed(TYPE.corsPolicy, corsPolicy(cors));
  const filters = Object.keys(perFilter).length ? { typedPerFilterConfig: perFilter } : {};
  const redirect = rule.filters?.find((f) => f.type === 'RequestRedirect')?.requestRedirect;
  if (redirect) return { ...headerFields(own.request, own.response), ...filters, redirect: redirectAction(redirect, matched, ctx) };
  const fwd = forward(rule.backendRefs ?? [], ctx);
  // No backend to send to (none listed, or all at weight 0): the spec's 500.
  if (!fwd) return { ...headerFields(own.request, own.response), ...filters, directResponse: { status: 500 } };
  const timeout = istioToProtoDuration(rule.timeouts?.request) ?? '0s';
  const action: RouteAction = { ...fwd.action, timeout, maxGrpcTimeout: timeout };
  const rewrite = rule.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite;
  if (rewrite?.hostname) action.hostRewriteLiteral = rewrite.hostname;
  const path = pathModifier(rewrite?.path, matched);
  if (path.full !== undefined) action.regexRewrite = { pattern: { regex: '^.*$' }, substitution: path.full.replace(/\\/g, '\\\\') };
  if (path.prefix) Object.assign(action, path.prefix);
  const retry = retryPolicy(rule.retry, rule.timeouts?.backendRequest, ctx);
  if (retry) action.retryPolicy = retry;
  const mirrors = mirrorPolicies(rule.filters, ctx);
  if (mirrors.length) action.requestMirrorPolicies = mirrors;
  return { ...headerFields(concat(own.request, fwd.request), concat(own.response, fwd.response)), ...filters, route: action };
}

/** The Envoy routes of an HTTPRoute or GRPCRoute: one per (rule, match), unranked order within the route. */
export function routeEntries(route: { kind: string; metadata: { namespace: string; name: string }; spec: { rules?: AnyRule[] } }, ctx: RuleContext): RouteEntry[] {
  const out: RouteEntry[] = [];
  const grpc = route.kind === 'GRPCRoute';
  const metadata = { filterMetadata: { istio: { config: gatewayApiConfigPath(route.kind, route.metadata.namespace, route.metadata.name) } } };
  (route.spec.rules ?? []).forEach((rule, i) => {
    const matches: Array<HTTPRouteMatch | GRPCRouteMatch | undefined> = rule.matches?.length ? rule.matches : [undefined];
    matches.forEach((m, j) => {
      const built = grpc ? grpcMatch(m as GRPCRouteMatch | undefined) : httpMatch(m as HTTPRouteMatch | undefined);
      const name = `${route.metadata.namespace}.${route.metadata.name}.${rule.name ?? i}.${j}`;
      out.push({ route: { name, match: built.match, ...ruleRoute(rule, built.prefix, ctx), metadata }, rank: built.rank, rule: i, match: j });
    });
  });
  return out;
}
