// Listener compiled into its address, filter chains (with their match) and terminal filter: HTTP connection manager or tcp_proxy.

import { compileRbac, type CompiledRbac } from './rbac.js';
import type { FilterChain, FilterChainMatch, HttpConnectionManager, Listener, TcpProxy, TypedExtension } from '../../xds/envoy/index.js';
import { ConfigCode, IssueSink } from '../errors.js';
import { findHttpFilter, type HttpFilterExtension } from '../http/filter-registry.js';
import { compileCidr, type Cidr } from './cidr.js';
import { readAddress } from './cluster-config.js';
import { RouteTable } from './route-table.js';
import { enumName, ptr, uint } from './values.js';
import { protoDurationMs, badProtoDuration } from '../../duration.js';
import { compileDownstreamTls, type DownstreamTls } from '../tls/tls-context.js';

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const HCM_NAMES = ['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager'];
const TCP_NAMES = ['envoy.filters.network.tcp_proxy', 'envoy.tcp_proxy'];

/**
 * Filters that only observe (metadata exchange, stats, ALPN override) and can be skipped without changing what
 * traffic is allowed. Any other unknown filter rejects the config: skipping an authorization filter would fail open.
 */
const SKIPPABLE = new Set([
  'istio.metadata_exchange',
  'istio.stats',
  'istio.alpn',
  'envoy.filters.http.grpc_stats',
  'envoy.filters.network.metadata_exchange',
  'envoy.filters.listener.tls_inspector',
  'envoy.filters.listener.http_inspector',
  'envoy.filters.listener.original_dst',
  'envoy.filters.listener.original_src',
  'istio.filters.listener.original_dst',
]);

export interface CompiledHttpFilter {
  readonly name: string;
  readonly ext: HttpFilterExtension;
  readonly config: unknown;
}

export interface CompiledHcm {
  readonly statPrefix: string;
  readonly codec: 'AUTO' | 'HTTP1' | 'HTTP2';
  readonly rdsName: string | undefined;
  readonly inlineRoutes: RouteTable | undefined;
  readonly httpFilters: readonly CompiledHttpFilter[];
  /** Downstream connection idle timeout (Envoy's default: 1 h). */
  readonly idleTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  readonly maxRequestsPerConnection: number;
  readonly drainTimeoutMs: number;
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  readonly skipXffAppend: boolean;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly alwaysSetRequestIdInResponse: boolean;
  readonly upgrades: ReadonlyMap<string, boolean>;
  readonly stripPort: 'none' | 'any' | 'matching';
  readonly serverName: string | undefined;
  readonly maxRequestHeadersKb: number;
  readonly mergeSlashes: boolean;
}

export interface CompiledTcpProxy {
  readonly statPrefix: string;
  readonly cluster: string | undefined;
  readonly weighted: ReadonlyArray<{ name: string; weight: number }> | undefined;
  readonly idleTimeoutMs: number;
  readonly maxConnectAttempts: number;
  readonly hashSourceIp: boolean;
  readonly maxDownstreamConnectionDurationMs: number;
  /** HTTP/2 CONNECT to the upstream host with this authority (`%DOWNSTREAM_LOCAL_ADDRESS%` substituted), e.g. HBONE. */
  readonly tunnelingHostname: string | undefined;
}

export type ChainTerminal = { kind: 'http'; hcm: CompiledHcm } | { kind: 'tcp'; tcp: CompiledTcpProxy };

export interface CompiledChainMatch {
  destinationPort: number | undefined;
  prefixRanges: Cidr[];
  sourcePrefixRanges: Cidr[];
  sourcePorts: ReadonlySet<number> | undefined;
  transportProtocol: string | undefined;
  applicationProtocols: readonly string[] | undefined;
  serverNames: readonly string[] | undefined;
  sourceType: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL';
}

export interface CompiledFilterChain {
  readonly name: string;
  readonly match: CompiledChainMatch;
  readonly terminal: ChainTerminal | undefined;
  /** TLS termination on the downstream side (Envoy's DownstreamTlsContext), when the chain has a TLS transport socket. */
  readonly tls: DownstreamTls | undefined;
  /** Network RBAC filters (envoy.filters.network.rbac) in chain order; a connection one denies is closed. */
  readonly connectionRbac: readonly CompiledRbac[];
}

export interface CompiledListener {
  readonly name: string;
  readonly raw: Listener;
  readonly address: string;
  readonly port: number;
  readonly bindToPort: boolean;
  /** Hand captured connections to the listener their original destination names (Envoy's use_original_dst). */
  readonly useOriginalDst: boolean;
  /**
   * Restore a captured connection's original destination as its local address: an original_dst listener filter (Istio's
   * virtualInbound, whose chains match the destination port) or useOriginalDst.
   */
  readonly restoresOriginalDst: boolean;
  readonly chains: readonly CompiledFilterChain[];
  readonly defaultChain: CompiledFilterChain | undefined;
  /** Chain selection depends on the application protocol, so the first bytes are inspected first. */
  readonly sniffApplicationProtocol: boolean;
  readonly listenerFiltersTimeoutMs: number;
  readonly continueOnListenerFiltersTimeout: boolean;
  readonly direction: 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED';
  /** An internal listener: never bound, served connections from the proxy's own internal endpoints. */
  readonly internal: boolean;
}

function compileChainMatch(m: FilterChainMatch | undefined, sink: IssueSink, field: string): CompiledChainMatch {
  const cidrs = (list: FilterChainMatch['prefixRanges'], f: string): Cidr[] =>
    (list ?? []).flatMap((r, i) => {
      const c = compileCidr(r.addressPrefix ?? '', uint(r.prefixLen, -1));
      if (!c) sink.error(ConfigCode.InvalidField, `${field}/${f}/${i}`, `"${r.addressPrefix}/${r.prefixLen}" is not a CIDR range`);
      return c ? [c] : [];
    });
  const sourceType = enumName(m?.sourceType, ['ANY', 'SAME_IP_OR_LOOPBACK', 'EXTERNAL'] as const, 'ANY');
  return {
    destinationPort: m?.destinationPort,
    prefixRanges: cidrs(m?.prefixRanges, 'prefixRanges'),
    sourcePrefixRanges: cidrs(m?.sourcePrefixRanges ?? m?.directSourcePrefixRanges, 'sourcePrefixRanges'),
    sourcePorts: m?.sourcePorts?.length ? new Set(m.sourcePorts) : undefined,
    transportProtocol: m?.transportProtocol || undefined,
    applicationProtocols: m?.applicationProtocols?.length ? m.applicationProtocols : undefined,
    serverNames: m?.serverNames?.length ? m.serverNames : undefined,
    sourceType,
  };
}

function typeOf(f: TypedExtension): string | undefined {
  return f.typedConfig?.['@type'] as string | undefined;
}

export function compileHcm(h: HttpConnectionManager, sink: IssueSink, field: string): CompiledHcm {
  let rdsName: string | undefined;
  let inlineRoutes: RouteTable | undefined;
  if (h.rds) {
    rdsName = h.rds.routeConfigName ?? '';
    if (!rdsName) sink.error(ConfigCode.InvalidField, field + '/rds/routeConfigName', 'RDS route config name is empty');
  } else if (h.routeConfig) {
    // Inline routes are reported against the listener, under this field.
    const inner = new IssueSink();
    inlineRoutes = new RouteTable(h.routeConfig, inner);
    for (const i of inner.issues) sink.issues.push({ ...i, resource: sink.resourceName, field: field + '/routeConfig' + i.field });
  } else {
    sink.error(ConfigCode.InvalidField, field, 'HTTP connection manager has neither rds nor routeConfig');
  }
  const filters: CompiledHttpFilter[] = [];
  let sawRouter = false;
  (h.httpFilters ?? []).forEach((f, i) => {
    const ff = `${field}/httpFilters/${i}`;
    if (f.disabled) return;
    const name = f.name ?? '';
    const ext = findHttpFilter(name, typeOf(f));
    if (!ext) {
      if (f.isOptional || SKIPPABLE.has(name)) sink.warn(ConfigCode.UnsupportedExtension, ff, `HTTP filter "${name}" is not supported; skipped`);
      else sink.error(ConfigCode.UnsupportedExtension, ff, `HTTP filter "${name}" (${String(typeOf(f))}) is not supported`);
      return;
    }
    if (ext.names.includes('envoy.filters.http.router')) sawRouter = true;
    filters.push({ name: name || ext.names[0]!, ext, config: ext.parseConfig(f.typedConfig, sink, ff + '/typedConfig') });
  });
  if (!sawRouter) sink.error(ConfigCode.InvalidField, field + '/httpFilters', 'the HTTP filter chain has no router (envoy.filters.http.router)');
  else if (!filters[filters.length - 1]!.ext.names.includes('envoy.filters.http.router')) sink.error(ConfigCode.InvalidField, field + '/httpFilters', 'the router must be the last HTTP filter');
  for (const d of ['streamIdleTimeout', 'requestTimeout', 'requestHeadersTimeout', 'drainTimeout'] as const) {
    if (badProtoDuration(h[d])) sink.error(ConfigCode.InvalidField, `${field}/${d}`, 'not a duration');
  }
  const upgrades = new Map<string, boolean>();
  for (const u of h.upgradeConfigs ?? []) if (u.upgradeType) upgrades.set(u.upgradeType.toLowerCase(), u.enabled !== false);
  const codec = enumName(h.codecType, ['AUTO', 'HTTP1', 'HTTP2', 'HTTP3'] as const, 'AUTO');
  if (codec === 'HTTP3') sink.error(ConfigCode.UnsupportedField, field + '/codecType', 'HTTP/3 is not supported');
  const common = h.commonHttpProtocolOptions;
  return {
    statPrefix: h.statPrefix ?? '',
    codec: codec === 'HTTP3' ? 'AUTO' : codec,
    rdsName,
    inlineRoutes,
    httpFilters: filters,
    idleTimeoutMs: common?.idleTimeout !== undefined ? protoDurationMs(common.idleTimeout) ?? 3_600_000 : 3_600_000,
    streamIdleTimeoutMs: h.streamIdleTimeout !== undefined ? protoDurationMs(h.streamIdleTimeout) ?? 300_000 : 300_000,
    requestTimeoutMs: protoDurationMs(h.requestTimeout) ?? 0,
    requestHeadersTimeoutMs: protoDurationMs(h.requestHeadersTimeout) ?? 0,
    maxConnectionDurationMs: protoDurationMs(common?.maxConnectionDuration) ?? 0,
    maxRequestsPerConnection: uint(common?.maxRequestsPerConnection, 0),
    drainTimeoutMs: protoDurationMs(h.drainTimeout) ?? 5_000,
    useRemoteAddress: h.useRemoteAddress === true,
    xffNumTrustedHops: uint(h.xffNumTrustedHops, 0),
    skipXffAppend: h.skipXffAppend === true,
    generateRequestId: h.generateRequestId !== false,
    preserveExternalRequestId: h.preserveExternalRequestId === true,
    alwaysSetRequestIdInResponse: h.alwaysSetRequestIdInResponse === true,
    upgrades,
    stripPort: h.stripAnyHostPort ? 'any' : h.stripMatchingHostPort ? 'matching' : 'none',
    serverName: h.serverName,
    maxRequestHeadersKb: uint(h.maxRequestHeadersKb, 60),
    mergeSlashes: h.mergeSlashes === true,
  };
}

export function compileTcpProxy(t: TcpProxy, sink: IssueSink, field: string): CompiledTcpProxy {
  let weighted: Array<{ name: string; weight: number }> | undefined;
  if (t.weightedClusters) {
    weighted = (t.weightedClusters.clusters ?? []).filter((c) => c.name && (c.weight ?? 0) > 0).map((c) => ({ name: c.name!, weight: c.weight! }));
    if (weighted.length === 0) sink.error(ConfigCode.InvalidField, field + '/weightedClusters', 'no cluster with a positive weight');
  } else if (!t.cluster) {
    sink.error(ConfigCode.InvalidField, field, 'tcp_proxy names no cluster');
  }
  if (badProtoDuration(t.idleTimeout)) sink.error(ConfigCode.InvalidField, field + '/idleTimeout', 'not a duration');
  return {
    statPrefix: t.statPrefix ?? '',
    cluster: t.cluster || undefined,
    weighted,
    idleTimeoutMs: t.idleTimeout !== undefined ? protoDurationMs(t.idleTimeout) ?? 3_600_000 : 3_600_000,
    maxConnectAttempts: Math.max(1, uint(t.maxConnectAttempts, 1)),
    hashSourceIp: (t.hashPolicy ?? []).some((h) => h.sourceIp !== undefined),
    maxDownstreamConnectionDurationMs: protoDurationMs(t.maxDownstreamConnectionDuration) ?? 0,
    tunnelingHostname: t.tunnelingConfig ? tunnelingHostname(t.tunnelingConfig, sink, field + '/tunnelingConfig') : undefined,
  };
}

/** The authority of a tunnel: a literal, or Envoy's %DOWNSTREAM_LOCAL_ADDRESS% (what Istio's HBONE originator uses). */
function tunnelingHostname(c: NonNullable<TcpProxy['tunnelingConfig']>, sink: IssueSink, field: string): string | undefined {
  const h = c.hostname ?? '';
  if (!h) sink.error(ConfigCode.InvalidField, field + '/hostname', 'a tunnel needs a hostname');
  const unknown = [...h.matchAll(/%([A-Z_]+)%/g)].map((m) => m[1]).filter((v) => v !== 'DOWNSTREAM_LOCAL_ADDRESS');
  if (unknown.length) sink.error(ConfigCode.UnsupportedField, field + '/hostname', `only %DOWNSTREAM_LOCAL_ADDRESS% is supported, not %${unknown[0]}%`);
  if (c.usePost) sink.error(ConfigCode.UnsupportedField, field + '/usePost', 'tunnels use CONNECT');
  return h;
}

function compileChain(c: FilterChain, sink: IssueSink, field: string): CompiledFilterChain {
  let terminal: ChainTerminal | undefined;
  const connectionRbac: CompiledRbac[] = [];
  (c.filters ?? []).forEach((f, i) => {
    const ff = `${field}/filters/${i}`;
    const type = typeOf(f);
    const name = f.name ?? '';
    if (type === HCM_TYPE || (!type && HCM_NAMES.includes(name))) {
      terminal = { kind: 'http', hcm: compileHcm((f.typedConfig ?? {}) as HttpConnectionManager, sink, ff + '/typedConfig') };
    } else if (type === TCP_PROXY_TYPE || (!type && TCP_NAMES.includes(name))) {
      terminal = { kind: 'tcp', tcp: compileTcpProxy((f.typedConfig ?? {}) as TcpProxy, sink, ff + '/typedConfig') };
    } else if (type === NETWORK_RBAC_TYPE || (!type && name === 'envoy.filters.network.rbac')) {
      connectionRbac.push(compileRbac(f.typedConfig as Record<string, unknown> | undefined, sink, ff + '/typedConfig'));
    } else if (SKIPPABLE.has(name) || f.isOptional) {
      sink.warn(ConfigCode.UnsupportedExtension, ff, `network filter "${name}" is not supported; skipped`);
    } else {
      sink.error(ConfigCode.UnsupportedExtension, ff, `network filter "${name}" (${String(type)}) is not supported`);
    }
  });
  if (!terminal) sink.error(ConfigCode.InvalidField, field + '/filters', 'filter chain has no http_connection_manager or tcp_proxy');
  const tls = compileDownstreamTls(c.transportSocket as Record<string, unknown> | undefined, sink, field + '/transportSocket');
  return { name: c.name ?? '', match: compileChainMatch(c.filterChainMatch, sink, field + '/filterChainMatch'), terminal, tls, connectionRbac };
}

export function compileListener(l: Listener, sink: IssueSink): CompiledListener {
  const name = l.name ?? '';
  sink.at(`Listener/${name}`);
  if (!name) sink.error(ConfigCode.InvalidField, '/name', 'listener has no name');
  const internal = l.internalListener !== undefined;
  const addr = readAddress(l.address);
  if (!addr && !internal) sink.error(ConfigCode.InvalidField, '/address', 'listener has no socket address');
  const chains = (l.filterChains ?? []).map((c, i) => compileChain(c, sink, ptr('filterChains', i)));
  const defaultChain = l.defaultFilterChain ? compileChain(l.defaultFilterChain, sink, '/defaultFilterChain') : undefined;
  if (chains.length === 0 && !defaultChain) sink.error(ConfigCode.InvalidField, '/filterChains', 'listener has no filter chains');
  const bindToPort = !internal && (l.bindToPort ?? l.deprecatedV1?.bindToPort ?? true);
  const all = defaultChain ? [...chains, defaultChain] : chains;
  const sniff = all.some((c) => c.match.applicationProtocols !== undefined);
  const direction = enumName(l.trafficDirection, ['UNSPECIFIED', 'INBOUND', 'OUTBOUND'] as const, 'UNSPECIFIED');
  return {
    name,
    raw: l,
    address: addr?.address ?? '0.0.0.0',
    port: addr?.port ?? 0,
    bindToPort,
    useOriginalDst: l.useOriginalDst === true,
    restoresOriginalDst: l.useOriginalDst === true || (l.listenerFilters ?? []).some((f) => f.name === 'envoy.filters.listener.original_dst' || f.name === 'istio.filters.listener.original_dst'),
    chains,
    defaultChain,
    sniffApplicationProtocol: sniff,
    listenerFiltersTimeoutMs: l.listenerFiltersTimeout !== undefined ? protoDurationMs(l.listenerFiltersTimeout) ?? 15_000 : 15_000,
    continueOnListenerFiltersTimeout: l.continueOnListenerFiltersTimeout === true,
    direction,
    internal,
  };
}

