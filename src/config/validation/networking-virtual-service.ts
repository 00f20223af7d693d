// Schema and Istio webhook rules for networking.istio.io VirtualService: hosts, gateways, HTTP/TLS/TCP routes and unreachable rules.

import type { SchemaObject } from 'ajv';
import type { Resource } from '../resource.js';
import {
  BOOLEAN,
  DURATION,
  INTEGER,
  PERCENT,
  STRING,
  STRING_LIST,
  STRING_MAP,
  STRING_MATCH,
  UINT32,
  enumOf,
  listOf,
  mapOf,
  strictObject,
} from './common-schemas.js';
import { isDnsLabel } from './metadata.js';
import { at, asArray, asObject, asString, isIp, isIpOrCidr, isSet, objectSchema, type Issues, type Obj } from './object-check.js';
import { istioDurationMs } from '../../duration.js';
import {
  DESTINATION,
  SPEC,
  checkDestination,
  checkExportTo,
  checkGatewayName,
  checkLabelMap,
  checkPercent,
  checkPortNumber,
  namespaceOf,
  networkingValidator,
  specOf,
  stringsWithIndex,
} from './networking-common.js';
import { gatewayHostProblem, hostsOverlap, hostSubsetOf, wildcardDomainProblem } from './networking-hosts.js';
import {
  checkAuthorityRewrite,
  checkDuration,
  checkHeaderOperations,
  checkStringMatch,
  isJwtClaimHeader,
  matchHeaderNameProblem,
  regexProblem,
} from './networking-matching.js';
import type { KindValidator } from './validator.js';

// ---------------------------------------------------------------- schema

const HEADER_OPERATIONS = strictObject({ set: STRING_MAP, add: STRING_MAP, remove: STRING_LIST });
const HEADERS = strictObject({ request: HEADER_OPERATIONS, response: HEADER_OPERATIONS });
const STRING_MATCH_MAP = mapOf(STRING_MATCH);

const HTTP_MATCH = strictObject({
  name: STRING,
  uri: STRING_MATCH,
  scheme: STRING_MATCH,
  method: STRING_MATCH,
  authority: STRING_MATCH,
  headers: STRING_MATCH_MAP,
  port: UINT32,
  sourceLabels: STRING_MAP,
  gateways: STRING_LIST,
  queryParams: STRING_MATCH_MAP,
  ignoreUriCase: BOOLEAN,
  withoutHeaders: STRING_MATCH_MAP,
  sourceNamespace: STRING,
  statPrefix: STRING,
});

const HTTP_ROUTE: SchemaObject = strictObject({
  name: STRING,
  match: listOf(HTTP_MATCH),
  route: listOf(strictObject({ destination: DESTINATION, weight: INTEGER, headers: HEADERS }, ['destination'])),
  redirect: strictObject({
    uri: STRING,
    authority: STRING,
    port: UINT32,
    derivePort: enumOf('FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'),
    scheme: STRING,
    redirectCode: UINT32,
  }),
  directResponse: strictObject({ status: UINT32, body: strictObject({ string: STRING, bytes: STRING }) }, ['status']),
  delegate: strictObject({ name: STRING, namespace: STRING }),
  rewrite: strictObject({ uri: STRING, authority: STRING, uriRegexRewrite: strictObject({ match: STRING, rewrite: STRING }) }),
  timeout: DURATION,
  retries: strictObject({
    attempts: INTEGER,
    perTryTimeout: DURATION,
    retryOn: STRING,
    retryRemoteLocalities: BOOLEAN,
    retryIgnorePreviousHosts: BOOLEAN,
    backoff: DURATION,
  }),
  fault: strictObject({
    delay: strictObject({ fixedDelay: DURATION, exponentialDelay: DURATION, percentage: PERCENT, percent: INTEGER }),
    abort: strictObject({ httpStatus: INTEGER, grpcStatus: STRING, http2Error: STRING, percentage: PERCENT }),
  }),
  mirror: DESTINATION,
  mirrors: listOf(strictObject({ destination: DESTINATION, percentage: PERCENT }, ['destination'])),
  mirrorPercentage: PERCENT,
  mirrorPercent: UINT32,
  corsPolicy: strictObject({
    allowOrigins: listOf(STRING_MATCH),
    allowOrigin: STRING_LIST,
    allowMethods: STRING_LIST,
    allowHeaders: STRING_LIST,
    exposeHeaders: STRING_LIST,
    maxAge: DURATION,
    allowCredentials: BOOLEAN,
    unmatchedPreflights: enumOf('UNSPECIFIED', 'FORWARD', 'IGNORE'),
  }),
  headers: HEADERS,
});

const L4_MATCH = { destinationSubnets: STRING_LIST, port: UINT32, sourceLabels: STRING_MAP, gateways: STRING_LIST, sourceNamespace: STRING };
const ROUTE_DESTINATION = strictObject({ destination: DESTINATION, weight: INTEGER }, ['destination']);

const virtualServiceSchema = objectSchema({
  spec: strictObject({
    hosts: STRING_LIST,
    gateways: STRING_LIST,
    http: listOf(HTTP_ROUTE),
    tls: listOf(strictObject({ match: listOf(strictObject({ sniHosts: STRING_LIST, ...L4_MATCH })), route: listOf(ROUTE_DESTINATION) })),
    tcp: listOf(strictObject({ match: listOf(strictObject({ ...L4_MATCH, sourceSubnet: STRING })), route: listOf(ROUTE_DESTINATION) })),
    exportTo: STRING_LIST,
  }),
});

// ---------------------------------------------------------------- rules

/** Retry conditions Envoy understands (x-envoy-retry-on and x-envoy-retry-grpc-on), besides HTTP status codes. */
const RETRY_ON = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);

const GRPC_STATUSES = new Set([
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
]);

/** Redirect codes Envoy can send; other 3xx codes pass Istio's webhook but produce no redirect. */
const ENVOY_REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

interface Context {
  /** No hosts: this VirtualService is only used as a delegate of another one. */
  delegate: boolean;
  /** Bound to gateways only (not to `mesh`). */
  gatewayOnly: boolean;
  hosts: string[];
}

function checkVirtualService(raw: Obj, out: Issues, resource: Resource): void {
  const spec = specOf(raw);
  if (!spec) return;
  const hosts = stringsWithIndex(spec.hosts);
  const gateways = stringsWithIndex(spec.gateways);
  const delegate = asArray(spec.hosts).length === 0;

  if (delegate) {
    // Istio reads a VirtualService without hosts as a delegate, which only carries HTTP routes.
    if (gateways.length > 0) out.error(at(SPEC, 'gateways'), 'a VirtualService without hosts is a delegate and must not list gateways; add hosts, or remove gateways');
    if (asArray(spec.tls).length > 0) out.error(at(SPEC, 'tls'), 'a delegate VirtualService (one without hosts) cannot have tls routes');
    if (asArray(spec.tcp).length > 0) out.error(at(SPEC, 'tcp'), 'a delegate VirtualService (one without hosts) cannot have tcp routes');
  }

  const gatewayOnly = gateways.length > 0 && !gateways.some(([g]) => g === 'mesh');
  const appliesToMesh = !gatewayOnly;
  for (const [g, i] of gateways) checkGatewayName(g, at(SPEC, 'gateways', i), out);

  const sni = asArray(spec.tls).some((r) => asArray(asObject(r)?.match).some((m) => asArray(asObject(m)?.sniHosts).length > 0));
  let hostsValid = true;
  for (const [h, i] of hosts) {
    const p = at(SPEC, 'hosts', i);
    const problem = gatewayOnly ? gatewayHostProblem(h, sni) : wildcardDomainProblem(h);
    if (problem) {
      if (!isIp(h)) {
        out.error(p, problem);
        hostsValid = false;
      }
    } else if (appliesToMesh && h === '*') {
      out.error(p, 'host "*" is not allowed when the VirtualService applies to sidecars (no gateways, or "mesh"): bind it to a gateway or name the hosts');
      hostsValid = false;
    }
  }
  if (hostsValid) {
    for (let a = 0; a < hosts.length; a++) {
      for (let b = a + 1; b < hosts.length; b++) {
        const [ha] = hosts[a]!;
        const [hb, ib] = hosts[b]!;
        if (hostsOverlap(ha, hb)) out.error(at(SPEC, 'hosts', ib), `host "${hb}" overlaps "${ha}" listed before it`);
      }
    }
  }

  if (asArray(spec.http).length === 0 && asArray(spec.tcp).length === 0 && asArray(spec.tls).length === 0) {
    out.error(SPEC, 'a VirtualService needs http, tcp or tls routes');
  }

  const ctx: Context = { delegate, gatewayOnly, hosts: hosts.map(([h]) => h) };
  asArray(spec.http).forEach((r, i) => {
    const p = at(SPEC, 'http', i);
    if (r === null) out.error(p, 'http route must not be null');
    const route = asObject(r);
    if (route) checkHttpRoute(route, p, ctx, out);
  });
  asArray(spec.tls).forEach((r, i) => {
    const route = asObject(r);
    if (route) checkTlsRoute(route, at(SPEC, 'tls', i), ctx, out);
  });
  asArray(spec.tcp).forEach((r, i) => {
    const route = asObject(r);
    if (route) checkTcpRoute(route, at(SPEC, 'tcp', i), out);
  });
  checkExportTo(spec.exportTo, at(SPEC, 'exportTo'), out, namespaceOf(resource));

}

// ---------------------------------------------------------------- HTTP routes

function checkHttpRoute(route: Obj, path: string, ctx: Context, out: Issues): void {
  checkRouteConflicts(route, path, ctx, out);
  asArray(route.match).forEach((m, i) => checkHttpMatch(m, at(path, 'match', i), ctx, out));
  checkHeaderOperations(route.headers, at(path, 'headers'), out);
  checkCors(asObject(route.corsPolicy), at(path, 'corsPolicy'), out);
  checkFault(asObject(route.fault), at(path, 'fault'), out);

  if (typeof route.mirrorPercent === 'number') {
    if (route.mirrorPercent > 100) out.error(at(path, 'mirrorPercent'), `must be at most 100 (got ${route.mirrorPercent})`);
    out.warn(at(path, 'mirrorPercent'), 'mirrorPercent is deprecated; use mirrorPercentage: {value: N}');
  }
  const mirrorValue = asObject(route.mirrorPercentage)?.value;
  if (typeof mirrorValue === 'number' && (mirrorValue < 0 || mirrorValue > 100)) out.error(at(path, 'mirrorPercentage', 'value'), `must be between 0 and 100 (got ${mirrorValue})`);
  checkDestination(route.mirror, at(path, 'mirror'), out);
  asArray(route.mirrors).forEach((m, i) => {
    const p = at(path, 'mirrors', i);
    const mirror = asObject(m);
    if (m === null) out.error(p, 'mirror must not be null');
    if (!mirror) return;
    checkDestination(mirror.destination, at(p, 'destination'), out);
    const v = asObject(mirror.percentage)?.value;
    if (typeof v === 'number' && (v < 0 || v > 100)) out.error(at(p, 'percentage', 'value'), `must be between 0 and 100 (got ${v})`);
  });

  checkRedirect(asObject(route.redirect), at(path, 'redirect'), out);
  checkDirectResponse(asObject(route.directResponse), at(path, 'directResponse'), out);
  checkRetries(asObject(route.retries), route.timeout, at(path, 'retries'), out);
  checkRewrite(asObject(route.rewrite), at(path, 'rewrite'), out);
  checkAuthorityRewrite(asObject(route.rewrite), route.headers, path, out);
  checkRouteDestinations(asArray(route.route), at(path, 'route'), out, true);
  checkDuration(route.timeout, at(path, 'timeout'), out);

  const delegate = asObject(route.delegate);
  if (delegate) {
    if ((asString(delegate.name) ?? '') === '') out.error(at(path, 'delegate'), 'delegate.name is required: the name of the VirtualService to delegate to');
    if (typeof delegate.namespace === 'string' && delegate.namespace !== '' && !isDnsLabel(delegate.namespace)) {
      out.error(at(path, 'delegate', 'namespace'), `"${delegate.namespace}" is not a valid namespace name`);
    }
  }
}

/** What an HTTP route does: exactly one of route, redirect, directResponse or delegate, and what each excludes. */
function checkRouteConflicts(route: Obj, path: string, ctx: Context, out: Issues): void {
  const has = (f: string): boolean => isSet(route[f]);
  const hasRoute = asArray(route.route).length > 0;
  if (!ctx.delegate && has('delegate')) {
    // A root route hands the request to another VirtualService, so it cannot also answer it.
    for (const f of ['route', 'redirect', 'directResponse']) {
      if (has(f)) out.error(at(path, f), `a route with delegate must not also set ${f}`);
    }
    return;
  }
  if (ctx.delegate && has('delegate')) out.error(at(path, 'delegate'), 'a delegate VirtualService (one without hosts) cannot delegate again');
  if (has('redirect')) {
    if (hasRoute) out.error(path, 'set only one of route and redirect');
    if (has('fault')) out.error(at(path, 'fault'), 'fault cannot be used with redirect');
    if (has('rewrite')) out.error(at(path, 'rewrite'), 'rewrite cannot be used with redirect');
    if (has('directResponse')) out.error(path, 'set only one of redirect and directResponse');
  } else if (has('directResponse')) {
    if (hasRoute) out.error(path, 'set only one of route and directResponse');
    if (has('fault')) out.error(at(path, 'fault'), 'fault cannot be used with directResponse');
    if (has('rewrite')) out.error(at(path, 'rewrite'), 'rewrite cannot be used with directResponse');
  } else if (!hasRoute && !has('delegate')) {
    out.error(path, 'an HTTP route needs one of route, redirect, directResponse or delegate');
  }
  if (has('mirror') && asArray(route.mirrors).length > 0) out.error(at(path, 'mirrors'), 'set only one of mirror and mirrors');
}

function checkHttpMatch(value: unknown, path: string, ctx: Context, out: Issues): void {
  if (value === null) {
    out.error(path, 'match must not be null');
    return;
  }
  const m = asObject(value);
  if (!m) return;
  for (const field of ['headers', 'withoutHeaders'] as const) {
    for (const [name, v] of Object.entries(asObject(m[field]) ?? {})) {
      const p = at(path, field, name);
      const problem = matchHeaderNameProblem(name);
      if (problem) out.error(p, problem);
      if (isJwtClaimHeader(name) && !ctx.gatewayOnly) out.error(p, `routing on JWT claims ("${name}") only works in VirtualServices bound to gateways`);
      // In withoutHeaders, regex "*" is Istio's shorthand for "header present", not a regex.
      if (field === 'withoutHeaders' && asObject(v)?.regex === '*') continue;
      checkStringMatch(v, p, out);
    }
  }
  // Envoy allows an empty URI prefix (matches everything); other string matches need a value.
  checkStringMatch(m.uri, at(path, 'uri'), out, { allowEmptyPrefix: true });
  for (const field of ['scheme', 'method', 'authority'] as const) checkStringMatch(m[field], at(path, field), out);
  for (const [name, v] of Object.entries(asObject(m.queryParams) ?? {})) checkStringMatch(v, at(path, 'queryParams', name), out);
  if (m.port !== 0) checkPortNumber(m.port, at(path, 'port'), out);
  checkLabelMap(m.sourceLabels, at(path, 'sourceLabels'), out);
  for (const [g, i] of stringsWithIndex(m.gateways)) checkGatewayName(g, at(path, 'gateways', i), out);
  if (typeof m.sourceNamespace === 'string' && m.sourceNamespace !== '' && !isDnsLabel(m.sourceNamespace)) {
    out.error(at(path, 'sourceNamespace'), `"${m.sourceNamespace}" is not a valid namespace name`);
  }
}

function checkCors(cors: Obj | undefined, path: string, out: Issues): void {
  if (!cors) return;
  asArray(cors.allowOrigins).forEach((o, i) => {
    const p = at(path, 'allowOrigins', i);
    const origin = asObject(o);
    if (!origin) return;
    const value = asString(origin.exact) ?? asString(origin.prefix) ?? asString(origin.regex) ?? '';
    if (value === '') out.error(p, 'an allowed origin needs a non-empty exact, prefix or regex');
    else checkStringMatch(origin, p, out);
  });
  if (asArray(cors.allowOrigin).length > 0) out.warn(at(path, 'allowOrigin'), 'allowOrigin is deprecated; use allowOrigins with exact, prefix or regex matches');
  for (const [method, i] of stringsWithIndex(cors.allowMethods)) {
    if (!HTTP_METHODS.has(method)) out.error(at(path, 'allowMethods', i), `"${method}" is not a supported HTTP method (use upper case: ${[...HTTP_METHODS].join(', ')})`);
  }
  for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
    for (const [name, i] of stringsWithIndex(cors[field])) {
      if (name === '*') continue;
      const problem = matchHeaderNameProblem(name);
      if (problem) out.error(at(path, field, i), problem);
    }
  }
  checkDuration(cors.maxAge, at(path, 'maxAge'), out, { wholeSeconds: true });
}

function checkFault(fault: Obj | undefined, path: string, out: Issues): void {
  if (!fault) return;
  const abort = asObject(fault.abort);
  const delay = asObject(fault.delay);
  if (!abort && !delay) {
    out.error(path, 'fault injection needs an abort, a delay, or both');
    return;
  }
  if (abort) {
    const p = at(path, 'abort');
    checkPercent(abort.percentage, at(p, 'percentage'), out);
    const kinds = ['httpStatus', 'grpcStatus', 'http2Error'].filter((k) => isSet(abort[k]));
    if (kinds.length > 1) out.error(p, `set only one of httpStatus, grpcStatus or http2Error (found ${kinds.join(' and ')})`);
    if (kinds.length === 0) out.warn(p, 'abort has no httpStatus or grpcStatus, so it does nothing');
    if (typeof abort.httpStatus === 'number' && (abort.httpStatus < 200 || abort.httpStatus > 599)) {
      out.error(at(p, 'httpStatus'), `HTTP status ${abort.httpStatus} is not between 200 and 599`);
    }
    if (typeof abort.grpcStatus === 'string' && !GRPC_STATUSES.has(abort.grpcStatus)) {
      out.error(at(p, 'grpcStatus'), `"${abort.grpcStatus}" is not a gRPC status name such as NOT_FOUND or UNAVAILABLE`);
    }
    if (isSet(abort.http2Error)) out.error(at(p, 'http2Error'), 'HTTP/2 error aborts are not supported yet; use httpStatus');
  }
  if (delay) {
    const p = at(path, 'delay');
    checkPercent(delay.percentage, at(p, 'percentage'), out);
    if (typeof delay.percent === 'number') {
      if (delay.percent < 0 || delay.percent > 100) out.error(at(p, 'percent'), `must be between 0 and 100 (got ${delay.percent})`);
      out.warn(at(p, 'percent'), 'percent is deprecated; use percentage: {value: N}');
    }
    if (isSet(delay.fixedDelay) && isSet(delay.exponentialDelay)) out.error(p, 'set only one of fixedDelay and exponentialDelay');
    if (isSet(delay.exponentialDelay)) out.error(at(p, 'exponentialDelay'), 'exponentialDelay is not supported yet; use fixedDelay');
    else if (!isSet(delay.fixedDelay)) out.error(p, 'delay needs fixedDelay (for example "5s")');
    checkDuration(delay.fixedDelay, at(p, 'fixedDelay'), out);
  }
}

function checkRedirect(redirect: Obj | undefined, path: string, out: Issues): void {
  if (!redirect) return;
  if (!['uri', 'authority', 'scheme'].some((f) => (asString(redirect[f]) ?? '') !== '') && !isSet(redirect.port) && !isSet(redirect.derivePort)) {
    out.error(path, 'redirect must set at least one of uri, authority, scheme, port or derivePort');
  }
  if (isSet(redirect.port) && isSet(redirect.derivePort)) out.error(path, 'set only one of port and derivePort');
  const code = redirect.redirectCode;
  if (typeof code === 'number' && code !== 0) {
    if (code < 300 || code > 399) out.error(at(path, 'redirectCode'), `${code} is not a redirect code: use 301, 302, 303, 307 or 308`);
    else if (!ENVOY_REDIRECT_CODES.has(code)) out.warn(at(path, 'redirectCode'), `${code} is not a code the proxy can send; use 301, 302, 303, 307 or 308`);
  }
  if (typeof redirect.scheme === 'string' && redirect.scheme !== '' && redirect.scheme !== 'http' && redirect.scheme !== 'https') {
    out.error(at(path, 'scheme'), `redirect scheme must be "http" or "https" (got "${redirect.scheme}")`);
  }
  if (redirect.port !== 0) checkPortNumber(redirect.port, at(path, 'port'), out);
}

function checkDirectResponse(response: Obj | undefined, path: string, out: Issues): void {
  if (!response) return;
  const status = response.status;
  if (typeof status === 'number' && (status < 200 || status > 599)) out.error(at(path, 'status'), `HTTP status ${status} is not between 200 and 599`);
  const body = asObject(response.body);
  if (!body) return;
  if (isSet(body.string) && isSet(body.bytes)) out.error(at(path, 'body'), 'set only one of string and bytes');
  // bytes are base64: about three bytes per four characters.
  const size = typeof body.string === 'string' ? Buffer.byteLength(body.string) : typeof body.bytes === 'string' ? Math.floor((body.bytes.length * 3) / 4) : 0;
  if (size > 1024 * 1024) out.error(at(path, 'body'), 'direct response body must be smaller than 1MB');
  else if (size > 100 * 1024) out.warn(at(path, 'body'), 'large direct response bodies (over 100KB) slow down configuration pushes');
}

function checkRetries(retries: Obj | undefined, timeout: unknown, path: string, out: Issues): void {
  if (!retries) return;
  const attempts = typeof retries.attempts === 'number' ? retries.attempts : 0;
  if (attempts < 0) out.error(at(path, 'attempts'), `must not be negative (got ${attempts})`);
  if (attempts === 0 && (isSet(retries.perTryTimeout) || (asString(retries.retryOn) ?? '') !== '' || isSet(retries.retryRemoteLocalities))) {
    out.error(path, 'retry settings are configured but attempts is 0 (retries disabled); set attempts');
  }
  checkDuration(retries.perTryTimeout, at(path, 'perTryTimeout'), out);
  checkDuration(retries.backoff, at(path, 'backoff'), out);
  if (typeof retries.retryOn === 'string' && retries.retryOn !== '') {
    for (const policy of retries.retryOn.split(',')) {
      if (RETRY_ON.has(policy) || (/^\d{3}$/.test(policy) && Number(policy) >= 100 && Number(policy) <= 599)) continue;
      const hint = policy.trim() !== policy ? ' (remove the spaces around commas)' : '';
      out.error(at(path, 'retryOn'), `"${policy}" is not a retry condition${hint}; use e.g. 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream or an HTTP status code`);
    }
  }
  const perTry = typeof retries.perTryTimeout === 'string' ? istioDurationMs(retries.perTryTimeout) : undefined;
  const total = typeof timeout === 'string' ? istioDurationMs(timeout) : undefined;
  if (perTry !== undefined && total !== undefined && total > 0 && perTry >= total && attempts > 0) {
    out.warn(at(path, 'perTryTimeout'), `perTryTimeout (${String(retries.perTryTimeout)}) is not shorter than the route timeout (${String(timeout)}), so no retry can happen`);
  }
}

function checkRewrite(rewrite: Obj | undefined, path: string, out: Issues): void {
  if (!rewrite) return;
  const uri = asString(rewrite.uri) ?? '';
  const regex = asObject(rewrite.uriRegexRewrite);
  if (uri !== '' && regex) out.error(path, 'set only one of uri and uriRegexRewrite');
  if (uri === '' && !regex && (asString(rewrite.authority) ?? '') === '') out.error(path, 'rewrite must set uri, uriRegexRewrite or authority');
  if (regex) {
    const p = at(path, 'uriRegexRewrite');
    const match = asString(regex.match) ?? '';
    if (match === '' || (asString(regex.rewrite) ?? '') === '') out.error(p, 'uriRegexRewrite needs both match and rewrite');
    if (match !== '') {
      const problem = regexProblem(match);
      if (problem) out.error(at(p, 'match'), problem);
    }
  }
}

/**
 * Weighted destinations. Since Istio 1.15 weights are relative (a destination gets weight/total of the traffic),
 * so only a zero total is rejected; a total other than 100 draws a warning, as it is usually a slip.
 */
function checkRouteDestinations(routes: unknown[], path: string, out: Issues, http: boolean): void {
  let total = 0;
  let weighted = 0;
  let unweighted = -1;
  routes.forEach((r, i) => {
    const p = at(path, i);
    if (r === null) {
      out.error(p, 'route destination must not be null');
      return;
    }
    const route = asObject(r);
    if (!route) return;
    if (http) checkHeaderOperations(route.headers, at(p, 'headers'), out);
    checkDestination(route.destination, at(p, 'destination'), out);
    if (typeof route.weight === 'number') {
      if (route.weight < 0) out.error(at(p, 'weight'), `weight must not be negative (got ${route.weight})`);
      total += route.weight;
      weighted++;
    } else if (unweighted < 0) unweighted = i;
  });
  if (routes.length < 2) return;
  if (total === 0) {
    out.error(path, 'total weight is 0: give at least one destination a positive weight');
    return;
  }
  if (weighted > 0 && unweighted >= 0) out.warn(at(path, unweighted), 'this destination has no weight, so it receives no traffic (weights of the others are set)');
  if (total !== 100) out.warn(path, `total weight is ${total}, not 100; traffic is split in proportion to the weights`);
}

// ---------------------------------------------------------------- TLS and TCP routes

function checkL4Match(m: Obj, path: string, out: Issues): void {
  for (const [subnet, i] of stringsWithIndex(m.destinationSubnets)) {
    if (!isIpOrCidr(subnet)) out.error(at(path, 'destinationSubnets', i), `"${subnet}" is not an IP address or CIDR block`);
  }
  if (m.port !== 0) checkPortNumber(m.port, at(path, 'port'), out);
  checkLabelMap(m.sourceLabels, at(path, 'sourceLabels'), out);
  for (const [g, i] of stringsWithIndex(m.gateways)) checkGatewayName(g, at(path, 'gateways', i), out);
  if (typeof m.sourceNamespace === 'string' && m.sourceNamespace !== '' && !isDnsLabel(m.sourceNamespace)) {
    out.error(at(path, 'sourceNamespace'), `"${m.sourceNamespace}" is not a valid namespace name`);
  }
}

function checkTlsRoute(route: Obj, path: string, ctx: Context, out: Issues): void {
  const matches = asArray(route.match);
  if (matches.length === 0) out.error(path, 'a TLS route needs at least one match with sniHosts');
  matches.forEach((value, i) => {
    const p = at(path, 'match', i);
    if (value === null) out.error(p, 'match must not be null');
    const m = asObject(value);
    if (!m) return;
    const sniHosts = stringsWithIndex(m.sniHosts);
    if (sniHosts.length === 0) out.error(p, 'a TLS match needs at least one entry in sniHosts');
    for (const [sni, j] of sniHosts) checkSniHost(sni, at(p, 'sniHosts', j), ctx, out);
    checkL4Match(m, p, out);
  });
  if (asArray(route.route).length === 0) out.error(path, 'a TLS route needs a route (its destinations)');
  checkRouteDestinations(asArray(route.route), at(path, 'route'), out, false);
}

function checkSniHost(sni: string, path: string, ctx: Context, out: Issues): void {
  const problem = ctx.gatewayOnly ? gatewayHostProblem(sni, true) : wildcardDomainProblem(sni);
  if (problem) {
    if (isIp(sni)) out.warn(path, `"${sni}" is an IP address; SNI carries host names and most clients never send an IP`);
    else out.error(path, problem);
    return;
  }
  if (!ctx.hosts.some((h) => hostSubsetOf(sni, h))) {
    out.error(path, `SNI host "${sni}" is not covered by any of the VirtualService hosts (${ctx.hosts.join(', ') || 'none'})`);
  }
}

function checkTcpRoute(route: Obj, path: string, out: Issues): void {
  asArray(route.match).forEach((value, i) => {
    const p = at(path, 'match', i);
    if (value === null) out.error(p, 'match must not be null');
    const m = asObject(value);
    if (m) checkL4Match(m, p, out);
  });
  if (asArray(route.route).length === 0) out.error(path, 'a TCP route needs a route (its destinations)');
  checkRouteDestinations(asArray(route.route), at(path, 'route'), out, false);
}

export const virtualServiceValidator: KindValidator = networkingValidator({ name: 'dns-subdomain', schema: virtualServiceSchema, check: checkVirtualService });
