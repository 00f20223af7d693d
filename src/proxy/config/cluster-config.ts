// Cluster and ClusterLoadAssignment compiled into plain settings: discovery type, LB policy, thresholds, outlier detection, protocol.

import { isIP } from 'node:net';
import type { Address, Cluster, ClusterLoadAssignment, OutlierDetection } from '../../xds/envoy/index.js';
import { ORIGINAL_DST_METADATA } from '../../xds/envoy/index.js';
import { ConfigCode, type IssueSink } from '../errors.js';
import { enumName, uint } from './values.js';
import { protoDurationMs, badProtoDuration } from '../../duration.js';
import { compileUpstreamTls, type UpstreamTls } from '../tls/tls-context.js';
import { parseHostPort } from '../http/router.js';

export type DiscoveryType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST';
export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RING_HASH' | 'RANDOM' | 'MAGLEV' | 'CLUSTER_PROVIDED' | 'LOAD_BALANCING_POLICY_CONFIG';
export type UpstreamProtocol = 'http1' | 'http2' | 'downstream';
export type HostHealth = 'healthy' | 'unhealthy' | 'degraded' | 'draining';

const DISCOVERY: readonly DiscoveryType[] = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'];
const LB: readonly LbPolicy[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH', 'RANDOM', 'LOAD_BALANCING_POLICY_CONFIG', 'MAGLEV', 'CLUSTER_PROVIDED'];
const HEALTH = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'] as const;

export interface Thresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

export interface CompiledOutlierDetection {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  enforcingConsecutive5xx: number;
  enforcingConsecutiveGatewayFailure: number;
  enforcingConsecutiveLocalOriginFailure: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
  alwaysEjectOneHost: boolean;
}

export interface EndpointSpec {
  address: string;
  port: number;
  weight: number;
  health: HostHealth;
  priority: number;
  region: string;
  zone: string;
  subZone: string;
  hostname: string;
  /** Set for STRICT_DNS/LOGICAL_DNS endpoints whose address is a name to resolve. */
  needsResolve: boolean;
  /**
   * An internal listener of this proxy (`envoyInternalAddress`): connections go there in process. `address`/`port` are
   * then what that listener sees as the original destination (the endpoint's `envoy.filters.listener.original_dst`
   * metadata `local`, else its endpoint id), as Istio's HBONE endpoints carry them.
   */
  internal?: { listener: string; endpointId: string };
}


export interface CompiledCluster {
  /** Upstream TLS (Envoy's UpstreamTlsContext), when the cluster has a TLS transport socket. */
  readonly tls: UpstreamTls | undefined;
  readonly name: string;
  readonly raw: Cluster;
  readonly type: DiscoveryType;
  /** Which ClusterLoadAssignment feeds an EDS cluster. */
  readonly edsServiceName: string;
  readonly connectTimeoutMs: number;
  readonly lbPolicy: LbPolicy;
  readonly ringHash: { minRingSize: number; maxRingSize: number };
  readonly maglevTableSize: number;
  readonly leastRequestChoiceCount: number;
  readonly panicThresholdPercent: number;
  readonly thresholds: Thresholds;
  readonly outlier: CompiledOutlierDetection | undefined;
  readonly protocol: UpstreamProtocol;
  /** Idle time after which pooled upstream connections close. */
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  readonly staticEndpoints: EndpointSpec[] | undefined;
  readonly dnsRefreshMs: number;
  readonly dnsFamily: 0 | 4 | 6;
  readonly originalDst: { useHttpHeader: boolean; headerName: string; portOverride: number | undefined };
  /** upstreamBindConfig's source address: the local address every upstream connection binds. */
  readonly sourceAddress: string | undefined;
}

/** Node servers close idle keep-alive connections after 5 s; pooled sockets must be dropped before that. */
export const DEFAULT_POOL_IDLE_MS = 4_000;

const HTTP_OPTIONS_TYPE = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function readThresholds(c: Cluster): Thresholds {
  const t = (c.circuitBreakers?.thresholds ?? []).find((x) => x.priority === undefined || x.priority === 'DEFAULT' || x.priority === 0) ?? {};
  return {
    maxConnections: uint(t.maxConnections, 1024),
    maxPendingRequests: uint(t.maxPendingRequests, 1024),
    maxRequests: uint(t.maxRequests, 1024),
    maxRetries: uint(t.maxRetries, 3),
  };
}

function readOutlier(o: OutlierDetection, sink: IssueSink): CompiledOutlierDetection {
  for (const d of ['interval', 'baseEjectionTime', 'maxEjectionTime'] as const) {
    if (badProtoDuration(o[d])) sink.error(ConfigCode.InvalidField, `/outlierDetection/${d}`, 'not a duration');
  }
  // Envoy's validation: the ejection sweep interval must be positive (0 would spin a timer).
  if (o.interval !== undefined && protoDurationMs(o.interval) === 0) sink.error(ConfigCode.InvalidField, '/outlierDetection/interval', 'must be greater than 0s');
  const base = protoDurationMs(o.baseEjectionTime) ?? 30_000;
  return {
    consecutive5xx: uint(o.consecutive5xx, 5),
    consecutiveGatewayFailure: uint(o.consecutiveGatewayFailure, 5),
    consecutiveLocalOriginFailure: uint(o.consecutiveLocalOriginFailure, 5),
    enforcingConsecutive5xx: uint(o.enforcingConsecutive5xx, 100),
    enforcingConsecutiveGatewayFailure: uint(o.enforcingConsecutiveGatewayFailure, 0),
    enforcingConsecutiveLocalOriginFailure: uint(o.enforcingConsecutiveLocalOriginFailure, 100),
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors === true,
    intervalMs: protoDurationMs(o.interval) ?? 10_000,
    baseEjectionTimeMs: base,
    maxEjectionTimeMs: Math.max(protoDurationMs(o.maxEjectionTime) ?? 300_000, base),
    maxEjectionPercent: Math.min(100, uint(o.maxEjectionPercent, 10)),
    alwaysEjectOneHost: o.alwaysEjectOneHost === true,
  };
}

function readProtocol(c: Cluster, sink: IssueSink): { protocol: UpstreamProtocol; idleTimeoutMs: number | undefined; maxRequestsPerConnection: number } {
  let protocol: UpstreamProtocol = c.http2ProtocolOptions ? 'http2' : 'http1';
  if (c.protocolSelection === 'USE_DOWNSTREAM_PROTOCOL' || c.protocolSelection === 1) protocol = 'downstream';
  let idle = protoDurationMs(c.commonHttpProtocolOptions?.idleTimeout);
  let maxPerConn = uint(c.maxRequestsPerConnection ?? c.commonHttpProtocolOptions?.maxRequestsPerConnection, 0);
  const opts = c.typedExtensionProtocolOptions?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  if (opts) {
    if (opts['@type'] && opts['@type'] !== HTTP_OPTIONS_TYPE) sink.warn(ConfigCode.UnsupportedExtension, '/typedExtensionProtocolOptions', `unexpected type ${String(opts['@type'])}`);
    const explicit = opts.explicitHttpConfig as Record<string, unknown> | undefined;
    if (explicit?.http2ProtocolOptions !== undefined) protocol = 'http2';
    else if (explicit?.httpProtocolOptions !== undefined) protocol = 'http1';
    else if (opts.useDownstreamProtocolConfig !== undefined) protocol = 'downstream';
    else if (opts.autoConfig !== undefined) {
      // ALPN-based selection needs TLS; on plaintext Envoy's auto config means HTTP/1.1.
      protocol = 'http1';
    }
    const common = opts.commonHttpProtocolOptions as { idleTimeout?: string; maxRequestsPerConnection?: number } | undefined;
    if (common?.idleTimeout !== undefined) idle = protoDurationMs(common.idleTimeout);
    if (common?.maxRequestsPerConnection !== undefined) maxPerConn = uint(common.maxRequestsPerConnection, 0);
  }
  return { protocol, idleTimeoutMs: idle, maxRequestsPerConnection: maxPerConn };
}

/** An internal endpoint's listener and the destination it stands for (`ip:port`, `[ip6]:port`). */
function internalTarget(a: NonNullable<Address['envoyInternalAddress']>, originalDst: Record<string, unknown> | undefined): { address: string; port: number } | undefined {
  if (!a.serverListenerName) return undefined;
  const local = typeof originalDst?.local === 'string' ? originalDst.local : a.endpointId ?? '';
  // Without a destination (Istio's main_internal) the connection says where it goes (a terminated CONNECT's authority).
  if (!local) return { address: '', port: 0 };
  const target = parseHostPort(local, 0);
  return target && target.port > 0 && isIP(target.host) ? { address: target.host, port: target.port } : undefined;
}

export function readAddress(a: Address | undefined): { address: string; port: number } | undefined {
  const s = a?.socketAddress;
  if (!s || typeof s.address !== 'string') return undefined;
  return { address: s.address, port: uint(s.portValue, 0) };
}

/** Endpoints of a ClusterLoadAssignment (or of a cluster's inline load_assignment). */
export function compileEndpoints(cla: ClusterLoadAssignment | undefined, sink: IssueSink, resolvable: boolean, field = ''): EndpointSpec[] {
  const out: EndpointSpec[] = [];
  (cla?.endpoints ?? []).forEach((loc, i) => {
    (loc.lbEndpoints ?? []).forEach((ep, j) => {
      const f = `${field}/endpoints/${i}/lbEndpoints/${j}`;
      const internal = ep.endpoint?.address?.envoyInternalAddress;
      const addr = internal ? internalTarget(internal, ep.metadata?.filterMetadata?.[ORIGINAL_DST_METADATA]) : readAddress(ep.endpoint?.address);
      if (!addr) {
        if (internal) sink.error(ConfigCode.InvalidField, f + '/endpoint/address/envoyInternalAddress', 'an internal endpoint needs serverListenerName and an `ip:port` (endpointId or original_dst metadata `local`)');
        else if (ep.endpoint?.address?.pipe) sink.warn(ConfigCode.UnsupportedField, f + '/endpoint/address', 'pipe addresses are not supported');
        else sink.error(ConfigCode.InvalidField, f + '/endpoint/address', 'endpoint has no socket address');
        return;
      }
      const isName = !internal && isIP(addr.address) === 0;
      if (isName && !resolvable) sink.error(ConfigCode.InvalidField, f + '/endpoint/address/socketAddress/address', `"${addr.address}" is not an IP address (only DNS clusters resolve names)`);
      const h = enumName(ep.healthStatus, HEALTH, 'UNKNOWN');
      out.push({
        address: addr.address,
        port: addr.port,
        weight: uint(ep.loadBalancingWeight, 1) || 1,
        health: h === 'UNHEALTHY' || h === 'TIMEOUT' ? 'unhealthy' : h === 'DEGRADED' ? 'degraded' : h === 'DRAINING' ? 'draining' : 'healthy',
        priority: uint(loc.priority, 0),
        region: loc.locality?.region ?? '',
        zone: loc.locality?.zone ?? '',
        subZone: loc.locality?.subZone ?? '',
        hostname: ep.endpoint?.hostname ?? '',
        needsResolve: isName && resolvable,
        ...(internal ? { internal: { listener: internal.serverListenerName!, endpointId: internal.endpointId ?? '' } } : {}),
      });
    });
  });
  return out;
}

export function compileCluster(c: Cluster, sink: IssueSink): CompiledCluster {
  const name = c.name ?? '';
  sink.at(`Cluster/${name}`);
  if (!name) sink.error(ConfigCode.InvalidField, '/name', 'cluster has no name');
  const type = enumName(c.type, DISCOVERY, 'STATIC');
  if (typeof c.type === 'string' && !DISCOVERY.includes(c.type as DiscoveryType)) sink.error(ConfigCode.InvalidField, '/type', `unknown discovery type ${c.type}`);
  const lbPolicy = enumName(c.lbPolicy, LB, 'ROUND_ROBIN');
  if (lbPolicy === 'LOAD_BALANCING_POLICY_CONFIG') sink.warn(ConfigCode.UnsupportedField, '/lbPolicy', 'load_balancing_policy is not supported; round robin is used');
  if (badProtoDuration(c.connectTimeout)) sink.error(ConfigCode.InvalidField, '/connectTimeout', 'not a duration');
  const tls = compileUpstreamTls(c.transportSocket as Record<string, unknown> | undefined, sink, '/transportSocket');
  const proto = readProtocol(c, sink);
  const resolvable = type === 'STRICT_DNS' || type === 'LOGICAL_DNS';
  let staticEndpoints: EndpointSpec[] | undefined;
  if (type !== 'EDS' && type !== 'ORIGINAL_DST') staticEndpoints = compileEndpoints(c.loadAssignment, sink, resolvable, '/loadAssignment');
  const family = enumName(c.dnsLookupFamily, ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const, 'AUTO');
  return {
    name,
    raw: c,
    type,
    edsServiceName: c.edsClusterConfig?.serviceName || name,
    tls,
    connectTimeoutMs: protoDurationMs(c.connectTimeout) ?? 5_000,
    lbPolicy: lbPolicy === 'LOAD_BALANCING_POLICY_CONFIG' ? 'ROUND_ROBIN' : lbPolicy,
    ringHash: { minRingSize: uint(c.ringHashLbConfig?.minimumRingSize, 1024), maxRingSize: uint(c.ringHashLbConfig?.maximumRingSize, 8 * 1024 * 1024) },
    maglevTableSize: uint(c.maglevLbConfig?.tableSize, 65537),
    leastRequestChoiceCount: Math.max(2, uint(c.leastRequestLbConfig?.choiceCount, 2)),
    panicThresholdPercent: c.commonLbConfig?.healthyPanicThreshold ? Number(c.commonLbConfig.healthyPanicThreshold.value ?? 0) : 50,
    thresholds: readThresholds(c),
    outlier: c.outlierDetection ? readOutlier(c.outlierDetection, sink) : undefined,
    protocol: proto.protocol,
    idleTimeoutMs: proto.idleTimeoutMs && proto.idleTimeoutMs > 0 ? proto.idleTimeoutMs : DEFAULT_POOL_IDLE_MS,
    maxRequestsPerConnection: proto.maxRequestsPerConnection,
    staticEndpoints,
    dnsRefreshMs: protoDurationMs(c.dnsRefreshRate) ?? 5_000,
    dnsFamily: family === 'V4_ONLY' ? 4 : family === 'V6_ONLY' ? 6 : 0,
    originalDst: {
      useHttpHeader: c.originalDstLbConfig?.useHttpHeader === true,
      headerName: (c.originalDstLbConfig?.httpHeaderName || 'x-envoy-original-dst-host').toLowerCase(),
      portOverride: c.originalDstLbConfig?.upstreamPortOverride,
    },
    sourceAddress: c.upstreamBindConfig?.sourceAddress?.address || undefined,
  };
}
