// Route actions compiled once: forward (cluster choice, rewrites, timeout, retry, mirror, hash policies), redirect, direct response.

import type {
  DirectResponseAction,
  HashPolicy,
  RedirectAction,
  RequestMirrorPolicy,
  RetryPolicy,
  RouteAction,
} from '../../xds/envoy/index.js';
import { ConfigCode, type IssueSink } from '../errors.js';
import { compileHeaderMatcher, allOf, type RequestPredicate } from './header-matcher.js';
import { compileHeaderMutation, type HeaderMutation } from './header-mutation.js';
import { compileRegexRewrite, type RegexRewrite } from './string-matcher.js';
import { enumName, runtimeFraction, uint } from './values.js';
import { protoDurationMs, badProtoDuration } from '../../duration.js';

// ---------------------------------------------------------------- retry policy

/** retry_on conditions as bits, so the router tests them with one AND. */
export const RetryOn = {
  '5xx': 1 << 0,
  'gateway-error': 1 << 1,
  reset: 1 << 2,
  'connect-failure': 1 << 3,
  'retriable-4xx': 1 << 4,
  'refused-stream': 1 << 5,
  'retriable-status-codes': 1 << 6,
  'retriable-headers': 1 << 7,
  'http3-post-connect-failure': 1 << 8,
  'reset-before-request': 1 << 9,
  // gRPC conditions, read from grpc-status in response headers (trailers-only responses)
  cancelled: 1 << 16,
  'deadline-exceeded': 1 << 17,
  internal: 1 << 18,
  'resource-exhausted': 1 << 19,
  unavailable: 1 << 20,
} as const;

export type RetryCondition = keyof typeof RetryOn;

export interface CompiledRetryPolicy {
  retryOn: number;
  numRetries: number;
  perTryTimeoutMs: number;
  perTryIdleTimeoutMs: number;
  baseIntervalMs: number;
  maxIntervalMs: number;
  retriableStatusCodes: ReadonlySet<number>;
  /** Istio adds `envoy.retry_host_predicates.previous_hosts`: retries avoid hosts already tried. */
  avoidPreviousHosts: boolean;
  hostSelectionMaxAttempts: number;
  retriableRequestHeaders: RequestPredicate | undefined;
}

export function compileRetryPolicy(p: RetryPolicy, sink: IssueSink, field: string): CompiledRetryPolicy {
  let retryOn = 0;
  for (const raw of (p.retryOn ?? '').split(',')) {
    const cond = raw.trim();
    if (!cond) continue;
    const bit = (RetryOn as Record<string, number>)[cond];
    if (bit === undefined) sink.warn(ConfigCode.UnsupportedField, field + '/retryOn', `unknown retry condition "${cond}" ignored`);
    else retryOn |= bit;
  }
  for (const d of ['perTryTimeout', 'perTryIdleTimeout'] as const) {
    if (badProtoDuration(p[d])) sink.error(ConfigCode.InvalidField, field + '/' + d, 'not a duration');
  }
  const base = protoDurationMs(p.retryBackOff?.baseInterval) ?? 25;
  const max = protoDurationMs(p.retryBackOff?.maxInterval) ?? base * 10;
  if (max < base) sink.error(ConfigCode.InvalidField, field + '/retryBackOff/maxInterval', 'maxInterval is below baseInterval');
  const retriableRequestHeaders: RequestPredicate[] = [];
  (p.retriableRequestHeaders ?? []).forEach((h, i) => {
    try {
      retriableRequestHeaders.push(compileHeaderMatcher(h));
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, `${field}/retriableRequestHeaders/${i}`, (e as Error).message);
    }
  });
  return {
    retryOn,
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: protoDurationMs(p.perTryTimeout) ?? 0,
    perTryIdleTimeoutMs: protoDurationMs(p.perTryIdleTimeout) ?? 0,
    baseIntervalMs: base,
    maxIntervalMs: max,
    retriableStatusCodes: new Set((p.retriableStatusCodes ?? []).map(Number)),
    avoidPreviousHosts: (p.retryHostPredicate ?? []).some((h) => h.name === 'envoy.retry_host_predicates.previous_hosts' || h.typedConfig?.['@type']?.toString().endsWith('PreviousHostsPredicate')),
    hostSelectionMaxAttempts: uint(p.hostSelectionRetryMaxAttempts, 1),
    retriableRequestHeaders: retriableRequestHeaders.length ? allOf(retriableRequestHeaders) : undefined,
  };
}

// ---------------------------------------------------------------- hash policy

export type CompiledHashPolicy =
  | { kind: 'header'; name: string; rewrite: RegexRewrite | undefined; terminal: boolean }
  | { kind: 'cookie'; name: string; ttlMs: number | undefined; path: string; attributes: string; terminal: boolean }
  | { kind: 'sourceIp'; terminal: boolean }
  | { kind: 'query'; name: string; terminal: boolean };

function compileHashPolicies(list: HashPolicy[] | undefined, sink: IssueSink, field: string): CompiledHashPolicy[] {
  const out: CompiledHashPolicy[] = [];
  (list ?? []).forEach((h, i) => {
    const f = `${field}/${i}`;
    const terminal = h.terminal === true;
    if (h.header?.headerName) {
      let rewrite: RegexRewrite | undefined;
      if (h.header.regexRewrite) {
        try {
          rewrite = compileRegexRewrite(h.header.regexRewrite);
        } catch (e) {
          sink.error(ConfigCode.InvalidRegex, f + '/header/regexRewrite', (e as Error).message);
        }
      }
      out.push({ kind: 'header', name: h.header.headerName.toLowerCase(), rewrite, terminal });
    } else if (h.cookie?.name) {
      const attrs = (h.cookie.attributes ?? []).map((a) => (a.value ? `; ${a.name}=${a.value}` : `; ${a.name}`)).join('');
      out.push({ kind: 'cookie', name: h.cookie.name, ttlMs: protoDurationMs(h.cookie.ttl), path: h.cookie.path ?? '', attributes: attrs, terminal });
    } else if (h.connectionProperties?.sourceIp) {
      out.push({ kind: 'sourceIp', terminal });
    } else if (h.queryParameter?.name) {
      out.push({ kind: 'query', name: h.queryParameter.name, terminal });
    } else if (h.filterState) {
      sink.warn(ConfigCode.UnsupportedField, f + '/filterState', 'filter state hashing is not supported');
    } else {
      sink.error(ConfigCode.InvalidField, f, 'hash policy sets no policy specifier');
    }
  });
  return out;
}

// ---------------------------------------------------------------- mirroring

export interface CompiledMirror {
  cluster: string | undefined;
  clusterHeader: string | undefined;
  fraction: number;
  appendShadowSuffix: boolean;
}

export function compileMirrors(list: RequestMirrorPolicy[] | undefined, sink: IssueSink, field: string): CompiledMirror[] {
  const out: CompiledMirror[] = [];
  (list ?? []).forEach((m, i) => {
    if (!m.cluster && !m.clusterHeader) {
      sink.error(ConfigCode.InvalidField, `${field}/${i}`, 'mirror policy names no cluster');
      return;
    }
    out.push({
      cluster: m.cluster || undefined,
      clusterHeader: m.clusterHeader ? m.clusterHeader.toLowerCase() : undefined,
      fraction: runtimeFraction(m.runtimeFraction, 1),
      appendShadowSuffix: m.disableShadowHostSuffixAppend !== true,
    });
  });
  return out;
}

// ---------------------------------------------------------------- forward action

export interface WeightedTarget {
  name: string;
  clusterHeader: string | undefined;
  weight: number;
  requestHeaders: HeaderMutation;
  responseHeaders: HeaderMutation;
  hostRewrite: string | undefined;
}

export interface ForwardAction {
  kind: 'forward';
  cluster: string | undefined;
  clusterHeader: string | undefined;
  weighted: { targets: WeightedTarget[]; total: number; headerName: string | undefined } | undefined;
  clusterNotFoundStatus: number;
  prefixRewrite: string | undefined;
  regexRewrite: RegexRewrite | undefined;
  hostRewrite: string | undefined;
  hostRewriteHeader: string | undefined;
  hostRewritePathRegex: RegexRewrite | undefined;
  autoHostRewrite: boolean;
  appendXForwardedHost: boolean;
  /** 0 disables the route timeout; Envoy's default is 15 s. */
  timeoutMs: number;
  idleTimeoutMs: number;
  retry: CompiledRetryPolicy | undefined;
  mirrors: CompiledMirror[];
  hashPolicies: CompiledHashPolicy[];
  upgrades: ReadonlyMap<string, boolean>;
  /** CONNECT is terminated here (the route's CONNECT upgrade has connect_config): the stream's bytes go to the upstream as TCP. */
  connectTerminate: boolean;
  /** When set, a grpc-timeout header bounds the request; 0 means no cap on it. */
  grpcTimeoutHeaderMaxMs: number | undefined;
  grpcTimeoutHeaderOffsetMs: number;
  maxStreamDurationMs: number;
}

export interface RedirectActionC {
  kind: 'redirect';
  scheme: string | undefined;
  host: string | undefined;
  port: number | undefined;
  path: string | undefined;
  prefixRewrite: string | undefined;
  regexRewrite: RegexRewrite | undefined;
  status: number;
  stripQuery: boolean;
}

export interface DirectResponseActionC {
  kind: 'direct';
  status: number;
  body: string | undefined;
}

export type CompiledAction = ForwardAction | RedirectActionC | DirectResponseActionC | { kind: 'nonForwarding' };

const NOT_FOUND_CODES = ['SERVICE_UNAVAILABLE', 'NOT_FOUND', 'INTERNAL_SERVER_ERROR'] as const;
const NOT_FOUND_STATUS = { SERVICE_UNAVAILABLE: 503, NOT_FOUND: 404, INTERNAL_SERVER_ERROR: 500 };

export function compileForwardAction(a: RouteAction, sink: IssueSink, field: string, vhostRetry: CompiledRetryPolicy | undefined, inheritedMirrors: CompiledMirror[]): ForwardAction {
  let weighted: ForwardAction['weighted'];
  if (!a.cluster && !a.clusterHeader && !a.weightedClusters) sink.error(ConfigCode.InvalidField, field, 'route action names no cluster, clusterHeader or weightedClusters');
  if (a.weightedClusters) {
    const targets: WeightedTarget[] = [];
    (a.weightedClusters.clusters ?? []).forEach((c, i) => {
      const f = `${field}/weightedClusters/clusters/${i}`;
      if (!c.name && !c.clusterHeader) {
        sink.error(ConfigCode.InvalidField, f, 'weighted cluster has no name');
        return;
      }
      const weight = c.weight ?? 0;
      if (weight === 0) return; // weight 0 clusters never receive traffic
      targets.push({
        name: c.name ?? '',
        clusterHeader: c.clusterHeader ? c.clusterHeader.toLowerCase() : undefined,
        weight,
        requestHeaders: compileHeaderMutation(c.requestHeadersToAdd, c.requestHeadersToRemove, sink, f, 'requestHeadersToAdd', 'requestHeadersToRemove'),
        responseHeaders: compileHeaderMutation(c.responseHeadersToAdd, c.responseHeadersToRemove, sink, f, 'responseHeadersToAdd', 'responseHeadersToRemove'),
        hostRewrite: c.hostRewriteLiteral || undefined,
      });
      if (c.typedPerFilterConfig && Object.keys(c.typedPerFilterConfig).length) sink.warn(ConfigCode.UnsupportedField, f + '/typedPerFilterConfig', 'per-filter config on a weighted cluster is ignored');
    });
    const sum = targets.reduce((s, t) => s + t.weight, 0);
    const total = a.weightedClusters.totalWeight ?? sum;
    if (sum === 0) sink.error(ConfigCode.InvalidField, field + '/weightedClusters', 'weighted clusters have no weight');
    weighted = { targets, total: Math.max(total, sum), headerName: a.weightedClusters.headerName?.toLowerCase() };
  }
  for (const d of ['timeout', 'idleTimeout'] as const) if (badProtoDuration(a[d])) sink.error(ConfigCode.InvalidField, `${field}/${d}`, 'not a duration');
  let regexRewrite: RegexRewrite | undefined;
  if (a.regexRewrite) {
    try {
      regexRewrite = compileRegexRewrite(a.regexRewrite);
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, field + '/regexRewrite', (e as Error).message);
    }
  }
  if (a.prefixRewrite !== undefined && a.regexRewrite) sink.error(ConfigCode.InvalidField, field, 'prefixRewrite and regexRewrite are exclusive');
  let hostRewritePathRegex: RegexRewrite | undefined;
  if (a.hostRewritePathRegex) {
    try {
      hostRewritePathRegex = compileRegexRewrite(a.hostRewritePathRegex);
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, field + '/hostRewritePathRegex', (e as Error).message);
    }
  }
  const upgrades = new Map<string, boolean>();
  for (const u of a.upgradeConfigs ?? []) if (u.upgradeType) upgrades.set(u.upgradeType.toLowerCase(), u.enabled !== false);
  const msd = a.maxStreamDuration;
  let grpcMax: number | undefined = msd?.grpcTimeoutHeaderMax !== undefined ? protoDurationMs(msd.grpcTimeoutHeaderMax) : undefined;
  if (grpcMax === undefined && a.maxGrpcTimeout !== undefined) grpcMax = protoDurationMs(a.maxGrpcTimeout);
  const notFound = enumName(a.clusterNotFoundResponseCode, NOT_FOUND_CODES, 'SERVICE_UNAVAILABLE');
  return {
    kind: 'forward',
    cluster: a.cluster || undefined,
    clusterHeader: a.clusterHeader ? a.clusterHeader.toLowerCase() : undefined,
    weighted,
    clusterNotFoundStatus: NOT_FOUND_STATUS[notFound],
    prefixRewrite: a.prefixRewrite,
    regexRewrite,
    hostRewrite: a.hostRewriteLiteral || undefined,
    hostRewriteHeader: a.hostRewriteHeader ? a.hostRewriteHeader.toLowerCase() : undefined,
    hostRewritePathRegex,
    autoHostRewrite: a.autoHostRewrite === true,
    appendXForwardedHost: a.appendXForwardedHost === true,
    timeoutMs: a.timeout === undefined ? 15_000 : protoDurationMs(a.timeout) ?? 15_000,
    idleTimeoutMs: protoDurationMs(a.idleTimeout) ?? 0,
    retry: a.retryPolicy ? compileRetryPolicy(a.retryPolicy, sink, field + '/retryPolicy') : vhostRetry,
    mirrors: a.requestMirrorPolicies ? compileMirrors(a.requestMirrorPolicies, sink, field + '/requestMirrorPolicies') : inheritedMirrors,
    hashPolicies: compileHashPolicies(a.hashPolicy, sink, field + '/hashPolicy'),
    upgrades,
    connectTerminate: (a.upgradeConfigs ?? []).some((u) => u.upgradeType?.toUpperCase() === 'CONNECT' && u.enabled !== false && u.connectConfig !== undefined),
    grpcTimeoutHeaderMaxMs: grpcMax,
    grpcTimeoutHeaderOffsetMs: protoDurationMs(msd?.grpcTimeoutHeaderOffset ?? a.grpcTimeoutOffset) ?? 0,
    maxStreamDurationMs: protoDurationMs(msd?.maxStreamDuration) ?? 0,
  };
}

// ---------------------------------------------------------------- redirect and direct response

const REDIRECT_CODES = ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'] as const;
const REDIRECT_STATUS = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };

export function compileRedirect(r: RedirectAction, sink: IssueSink, field: string): RedirectActionC {
  let regexRewrite: RegexRewrite | undefined;
  if (r.regexRewrite) {
    try {
      regexRewrite = compileRegexRewrite(r.regexRewrite);
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, field + '/regexRewrite', (e as Error).message);
    }
  }
  const set = [r.pathRedirect !== undefined, r.prefixRewrite !== undefined, r.regexRewrite !== undefined].filter(Boolean).length;
  if (set > 1) sink.error(ConfigCode.InvalidField, field, 'pathRedirect, prefixRewrite and regexRewrite are exclusive');
  return {
    kind: 'redirect',
    scheme: r.httpsRedirect ? 'https' : r.schemeRedirect || undefined,
    host: r.hostRedirect || undefined,
    port: r.portRedirect || undefined,
    path: r.pathRedirect,
    prefixRewrite: r.prefixRewrite,
    regexRewrite,
    status: REDIRECT_STATUS[enumName(r.responseCode, REDIRECT_CODES, 'MOVED_PERMANENTLY')],
    stripQuery: r.stripQuery === true,
  };
}

export function compileDirectResponse(d: DirectResponseAction, sink: IssueSink, field: string): DirectResponseActionC {
  const status = d.status ?? 0;
  if (status < 100 || status > 599) sink.error(ConfigCode.InvalidField, field + '/status', `status ${status} is not an HTTP status`);
  let body: string | undefined;
  if (d.body?.inlineString !== undefined) body = d.body.inlineString;
  else if (d.body?.inlineBytes !== undefined) body = Buffer.from(d.body.inlineBytes, 'base64').toString('utf8');
  else if (d.body?.filename !== undefined) sink.warn(ConfigCode.UnsupportedField, field + '/body/filename', 'bodies from files are not read; the body is empty');
  return { kind: 'direct', status, body };
}

