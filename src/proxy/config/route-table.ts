// A RouteConfiguration compiled into a route table: virtual host lookup by authority, then first-match over precompiled routes.

import type { Any, Route, RouteConfiguration, RouteMatch, VirtualHost } from '../../xds/envoy/index.js';
import { ConfigCode, type IssueSink } from '../errors.js';
import { findPerRouteFilter, ROUTE_FILTER_CONFIG_TYPE } from '../http/filter-registry.js';
import { allOf, compileHeaderMatcher, compileQueryParameterMatcher, type RequestPredicate } from './header-matcher.js';
import { compileHeaderMutation, type HeaderMutation } from './header-mutation.js';
import type { MatchInput } from './match-input.js';
import {
  compileDirectResponse,
  compileForwardAction,
  compileMirrors,
  compileRedirect,
  compileRetryPolicy,
  type CompiledAction,
  type CompiledMirror,
  type CompiledRetryPolicy,
} from './route-action.js';
import { compileRegexMatcher } from './string-matcher.js';
import { isObject, ptr, runtimeFraction, sample } from './values.js';

export type PathKind = 'prefix' | 'path' | 'regex' | 'separated' | 'connect';

export interface CompiledRoute {
  readonly name: string;
  readonly vhost: CompiledVirtualHost;
  readonly pathKind: PathKind;
  /** The prefix/path as configured (used by prefix rewrites). */
  readonly pathValue: string;
  readonly caseSensitive: boolean;
  readonly matchPath: (pathOnly: string) => boolean;
  /** Headers, query parameters, gRPC and runtime fraction checks; undefined when there are none. */
  readonly matchRest: RequestPredicate | undefined;
  readonly action: CompiledAction;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  /** Per-filter configs by filter name: the route's over the virtual host's over the route configuration's. */
  readonly filterConfigs: ReadonlyMap<string, unknown>;
  readonly operation: string | undefined;
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly CompiledRoute[];
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly table: RouteTable;
}

const EMPTY_CONFIGS: ReadonlyMap<string, unknown> = new Map();

/** Compiles typed_per_filter_config through the filter registry (unwrapping FilterConfig). */
export function compilePerFilterConfigs(map: Record<string, Any> | undefined, sink: IssueSink, field: string): Map<string, unknown> | undefined {
  if (!map) return undefined;
  const out = new Map<string, unknown>();
  for (const [name, raw] of Object.entries(map)) {
    if (!isObject(raw)) continue;
    let any = raw as Any;
    let optional = false;
    if (any['@type'] === ROUTE_FILTER_CONFIG_TYPE) {
      optional = any.isOptional === true;
      if (any.disabled === true) {
        out.set(name, DISABLED);
        continue;
      }
      any = (any.config ?? {}) as Any;
    }
    const ext = findPerRouteFilter(any['@type']);
    const f = field + ptr(name);
    if (!ext) {
      sink.warn(ConfigCode.UnsupportedExtension, f, `per-route config of type ${String(any['@type'])} is not supported${optional ? '' : '; ignored'}`);
      continue;
    }
    out.set(name, ext.parsePerRoute ? ext.parsePerRoute(any, sink, f) : ext.parseConfig(any, sink, f));
  }
  return out;
}

/** Marks a filter disabled for a route (FilterConfig.disabled). */
export const DISABLED = Symbol('filter disabled');

function mergeConfigs(...maps: Array<ReadonlyMap<string, unknown> | undefined>): ReadonlyMap<string, unknown> {
  const present = maps.filter((m): m is ReadonlyMap<string, unknown> => !!m && m.size > 0);
  if (present.length === 0) return EMPTY_CONFIGS;
  if (present.length === 1) return present[0]!;
  const out = new Map<string, unknown>();
  for (const m of present) for (const [k, v] of m) out.set(k, v);
  return out;
}

function compilePathMatcher(m: RouteMatch, sink: IssueSink, field: string): { kind: PathKind; value: string; caseSensitive: boolean; test: (p: string) => boolean } | undefined {
  const cs = m.caseSensitive !== false;
  if (typeof m.prefix === 'string') {
    const want = cs ? m.prefix : m.prefix.toLowerCase();
    if (want === '' || want === '/') return { kind: 'prefix', value: m.prefix, caseSensitive: cs, test: want === '' ? () => true : (p) => p.startsWith('/') || p === '*' };
    return { kind: 'prefix', value: m.prefix, caseSensitive: cs, test: cs ? (p) => p.startsWith(want) : (p) => p.toLowerCase().startsWith(want) };
  }
  if (typeof m.path === 'string') {
    const want = cs ? m.path : m.path.toLowerCase();
    return { kind: 'path', value: m.path, caseSensitive: cs, test: cs ? (p) => p === want : (p) => p.toLowerCase() === want };
  }
  if (typeof m.pathSeparatedPrefix === 'string') {
    const raw = m.pathSeparatedPrefix;
    if (!raw.startsWith('/') || (raw.length > 1 && raw.endsWith('/')) || /[?#]/.test(raw)) {
      sink.error(ConfigCode.InvalidField, field + '/pathSeparatedPrefix', 'must start with "/", not end with "/" and contain no "?" or "#"');
    }
    const want = cs ? raw : raw.toLowerCase();
    const test = (p: string) => p === want || (p.startsWith(want) && p.charCodeAt(want.length) === 47 /* / */);
    return { kind: 'separated', value: raw, caseSensitive: cs, test: cs ? test : (p) => test(p.toLowerCase()) };
  }
  if (m.safeRegex) {
    try {
      const re = compileRegexMatcher(m.safeRegex);
      return { kind: 'regex', value: m.safeRegex.regex ?? '', caseSensitive: cs, test: (p) => re.test(p) };
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, field + '/safeRegex', (e as Error).message);
      return undefined;
    }
  }
  if (m.connectMatcher) return { kind: 'connect', value: '', caseSensitive: cs, test: () => true };
  sink.error(ConfigCode.InvalidField, field, 'route match sets no path specifier (prefix, path, safeRegex, pathSeparatedPrefix)');
  return undefined;
}

function compileRest(m: RouteMatch, sink: IssueSink, field: string, isConnect: boolean): RequestPredicate | undefined {
  const preds: RequestPredicate[] = [];
  if (isConnect) preds.push((r) => r.method === 'CONNECT');
  (m.headers ?? []).forEach((h, i) => {
    try {
      preds.push(compileHeaderMatcher(h));
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, `${field}/headers/${i}`, (e as Error).message);
    }
  });
  (m.queryParameters ?? []).forEach((q, i) => {
    try {
      preds.push(compileQueryParameterMatcher(q));
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, `${field}/queryParameters/${i}`, (e as Error).message);
    }
  });
  if (m.grpc) preds.push((r) => r.isGrpc);
  if (m.runtimeFraction) {
    const p = runtimeFraction(m.runtimeFraction, 1);
    preds.push(() => sample(p));
  }
  return allOf(preds);
}

class VirtualHostImpl implements CompiledVirtualHost {
  routes: CompiledRoute[] = [];
  constructor(
    readonly name: string,
    readonly domains: readonly string[],
    readonly requestHeaders: HeaderMutation,
    readonly responseHeaders: HeaderMutation,
    readonly table: RouteTable,
  ) {}
}

/** A compiled RouteConfiguration. */
export class RouteTable {
  readonly name: string;
  readonly requestHeaders: HeaderMutation;
  readonly responseHeaders: HeaderMutation;
  readonly mostSpecificHeaderMutationsWins: boolean;
  readonly ignorePortInHostMatching: boolean;
  readonly virtualHosts: CompiledVirtualHost[] = [];
  private readonly exact = new Map<string, CompiledVirtualHost>();
  /** `*.example.com` (stored as ".example.com"), longest first. */
  private readonly suffixes: Array<[string, CompiledVirtualHost]> = [];
  /** `example.*` (stored as "example."), longest first. */
  private readonly prefixes: Array<[string, CompiledVirtualHost]> = [];
  private star: CompiledVirtualHost | undefined;

  constructor(readonly raw: RouteConfiguration, sink: IssueSink) {
    this.name = raw.name ?? '';
    this.requestHeaders = compileHeaderMutation(raw.requestHeadersToAdd, raw.requestHeadersToRemove, sink, '', 'requestHeadersToAdd', 'requestHeadersToRemove');
    this.responseHeaders = compileHeaderMutation(raw.responseHeadersToAdd, raw.responseHeadersToRemove, sink, '', 'responseHeadersToAdd', 'responseHeadersToRemove');
    this.mostSpecificHeaderMutationsWins = raw.mostSpecificHeaderMutationsWins === true;
    this.ignorePortInHostMatching = raw.ignorePortInHostMatching === true;
    const rcFilters = compilePerFilterConfigs(raw.typedPerFilterConfig, sink, '/typedPerFilterConfig');
    const rcMirrors = compileMirrors(raw.requestMirrorPolicies, sink, '/requestMirrorPolicies');
    const seenDomains = new Set<string>();
    (raw.virtualHosts ?? []).forEach((vh, i) => {
      const vhost = this.compileVirtualHost(vh, sink, ptr('virtualHosts', i), rcFilters, rcMirrors);
      this.virtualHosts.push(vhost);
      (vh.domains ?? []).forEach((d, j) => {
        const domain = String(d).toLowerCase();
        if (seenDomains.has(domain)) {
          sink.error(ConfigCode.DuplicateName, ptr('virtualHosts', i, 'domains', j), `domain "${d}" appears in more than one virtual host`);
          return;
        }
        seenDomains.add(domain);
        if (domain === '*') this.star = vhost;
        else if (domain.startsWith('*')) this.suffixes.push([domain.slice(1), vhost]);
        else if (domain.endsWith('*')) this.prefixes.push([domain.slice(0, -1), vhost]);
        else this.exact.set(domain, vhost);
      });
    });
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  private compileVirtualHost(vh: VirtualHost, sink: IssueSink, field: string, rcFilters: ReadonlyMap<string, unknown> | undefined, rcMirrors: CompiledMirror[]): VirtualHostImpl {
    if (!vh.domains || vh.domains.length === 0) sink.error(ConfigCode.InvalidField, field + '/domains', 'virtual host has no domains');
    const vhost = new VirtualHostImpl(
      vh.name ?? '',
      (vh.domains ?? []).map(String),
      compileHeaderMutation(vh.requestHeadersToAdd, vh.requestHeadersToRemove, sink, field, 'requestHeadersToAdd', 'requestHeadersToRemove'),
      compileHeaderMutation(vh.responseHeadersToAdd, vh.responseHeadersToRemove, sink, field, 'responseHeadersToAdd', 'responseHeadersToRemove'),
      this,
    );
    const vhFilters = compilePerFilterConfigs(vh.typedPerFilterConfig, sink, field + '/typedPerFilterConfig');
    const vhCors = vh.cors ? compileLegacyCors(vh.cors, sink, field + '/cors') : undefined;
    const vhRetry = vh.retryPolicy ? compileRetryPolicy(vh.retryPolicy, sink, field + '/retryPolicy') : undefined;
    const vhMirrors = vh.requestMirrorPolicies ? compileMirrors(vh.requestMirrorPolicies, sink, field + '/requestMirrorPolicies') : rcMirrors;
    (vh.routes ?? []).forEach((r, i) => {
      const route = this.compileRoute(r, vhost, sink, `${field}/routes/${i}`, mergeConfigs(rcFilters, vhCors, vhFilters), vhRetry, vhMirrors);
      if (route) vhost.routes.push(route);
    });
    return vhost;
  }

  private compileRoute(
    r: Route,
    vhost: CompiledVirtualHost,
    sink: IssueSink,
    field: string,
    inherited: ReadonlyMap<string, unknown>,
    vhRetry: CompiledRetryPolicy | undefined,
    vhMirrors: CompiledMirror[],
  ): CompiledRoute | undefined {
    const m = r.match;
    if (!m) {
      sink.error(ConfigCode.InvalidField, field + '/match', 'route has no match');
      return undefined;
    }
    const path = compilePathMatcher(m, sink, field + '/match');
    if (!path) return undefined;
    let action: CompiledAction;
    if (r.route) action = compileForwardAction(r.route, sink, field + '/route', vhRetry, vhMirrors);
    else if (r.redirect) action = compileRedirect(r.redirect, sink, field + '/redirect');
    else if (r.directResponse) action = compileDirectResponse(r.directResponse, sink, field + '/directResponse');
    else if (r.nonForwardingAction) action = { kind: 'nonForwarding' };
    else {
      sink.error(ConfigCode.InvalidField, field, 'route has no action (route, redirect, directResponse)');
      return undefined;
    }
    const routeCors = r.route?.cors ? compileLegacyCors(r.route.cors, sink, field + '/route/cors') : undefined;
    const own = compilePerFilterConfigs(r.typedPerFilterConfig, sink, field + '/typedPerFilterConfig');
    return {
      name: r.name ?? '',
      vhost,
      pathKind: path.kind,
      pathValue: path.value,
      caseSensitive: path.caseSensitive,
      matchPath: path.test,
      matchRest: compileRest(m, sink, field + '/match', path.kind === 'connect'),
      action,
      requestHeaders: compileHeaderMutation(r.requestHeadersToAdd, r.requestHeadersToRemove, sink, field, 'requestHeadersToAdd', 'requestHeadersToRemove'),
      responseHeaders: compileHeaderMutation(r.responseHeadersToAdd, r.responseHeadersToRemove, sink, field, 'responseHeadersToAdd', 'responseHeadersToRemove'),
      filterConfigs: mergeConfigs(inherited, routeCors, own),
      operation: r.decorator?.operation,
    };
  }

  /** Envoy's virtual host selection: exact, then longest `*suffix`, then longest `prefix*`, then `*`. */
  findVirtualHost(authority: string): CompiledVirtualHost | undefined {
    if (this.ignorePortInHostMatching) authority = stripPort(authority);
    const exact = this.exact.get(authority);
    if (exact) return exact;
    for (const [suffix, vh] of this.suffixes) if (authority.length > suffix.length && authority.endsWith(suffix)) return vh;
    for (const [prefix, vh] of this.prefixes) if (authority.length > prefix.length && authority.startsWith(prefix)) return vh;
    return this.star;
  }

  /** The first route of the matching virtual host that matches the request. */
  route(req: MatchInput): CompiledRoute | undefined {
    const vh = this.findVirtualHost(req.authority);
    if (!vh) return undefined;
    const path = req.pathOnly;
    for (const r of vh.routes) {
      if (r.matchPath(path) && (r.matchRest === undefined || r.matchRest(req))) return r;
    }
    return undefined;
  }
}

/** `host:port` → `host`, keeping IPv6 literals (`[::1]:80` → `[::1]`). */
export function stripPort(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0) return authority;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close > 0 && colon > close ? authority.slice(0, colon) : authority;
  }
  return authority.indexOf(':') === colon ? authority.slice(0, colon) : authority;
}

// The deprecated RouteAction.cors / VirtualHost.cors fields (which Istio 1.16 emits) feed the CORS filter
// under its well-known name, as if they had been given as typed_per_filter_config.
const CORS_NAME = 'envoy.filters.http.cors';
const CORS_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

function compileLegacyCors(cors: object, sink: IssueSink, field: string): ReadonlyMap<string, unknown> | undefined {
  const ext = findPerRouteFilter(CORS_TYPE);
  if (!ext) return undefined;
  const any: Any = { '@type': CORS_TYPE, ...cors };
  return new Map([[CORS_NAME, ext.parsePerRoute ? ext.parsePerRoute(any, sink, field) : ext.parseConfig(any, sink, field)]]);
}

/** Compiles a RouteConfiguration; issues go to the sink with resource "RouteConfiguration/<name>". */
export function compileRouteTable(raw: RouteConfiguration, sink: IssueSink): RouteTable {
  sink.at(`RouteConfiguration/${raw.name ?? ''}`);
  return new RouteTable(raw, sink);
}

