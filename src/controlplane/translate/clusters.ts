// Clusters and their endpoints: one outbound cluster per service port and per DestinationRule subset, shaped by the
// rule's traffic policy (load balancer, connection pool, outlier detection, per-port settings); inbound clusters for
// the proxy's own workload; Istio's BlackHole/Passthrough clusters. Transport security: auto mTLS / ISTIO_MUTUAL, or the
// rule's SIMPLE / MUTUAL origination with user certificates.

import type { Subset, TrafficPolicy } from '../../config/types/networking.js';
import { istioToProtoDuration } from '../../duration.js';
import { ADS_SOURCE, TYPE, typed, type Cluster, type ClusterLoadAssignment, type CommonHttpProtocolOptions, type LocalityLbEndpoints, type OutlierDetection } from '../../xds/envoy/index.js';
import { isHttp2, type Protocol } from '../registry/protocol.js';
import type { Endpoint, MeshService, ServicePort, Workload } from '../registry/service-registry.js';
import { BLACKHOLE, inboundClusterName, inboundPassthroughName, istioConfigPath, outboundClusterName, outboundSni, PASSTHROUGH, type OutboundClusterKey } from './names.js';
import type { PushContext } from './push-context.js';
import { clientUsesMtls, upstreamMtls, upstreamUserTls, type BuiltTls } from './security.js';

/** Istio's defaults: effectively unlimited circuit breakers (Envoy's own defaults of 1024 are too low for a mesh). */
const MAX = 4294967295;

/** Who the clusters are for: the proxy's namespace and labels (DestinationRule lookup) and its flavour. */
export interface ClusterScope {
  namespace: string;
  labels: Record<string, string>;
  /** Proxyless gRPC balances with round robin or ring hash only, and takes no SDS-based TLS (see outboundClusters). */
  flavour: 'envoy' | 'grpc';
}

export interface BuiltCluster {
  key: OutboundClusterKey;
  cluster: Cluster;
  /** Set for EDS clusters: their endpoints. */
  endpoints?: ClusterLoadAssignment;
  /** SDS names of Kubernetes Secrets the cluster's TLS context references (`kubernetes://…`). */
  secrets: readonly string[];
}

/** A traffic policy for one port: port-level settings override the rule's, field group by field group. */
function policyForPort(tp: TrafficPolicy | undefined, port: number): TrafficPolicy {
  const pl = tp?.portLevelSettings?.find((p) => p.port?.number === port);
  return { ...tp, ...(pl?.loadBalancer ? { loadBalancer: pl.loadBalancer } : {}), ...(pl?.connectionPool ? { connectionPool: pl.connectionPool } : {}), ...(pl?.outlierDetection ? { outlierDetection: pl.outlierDetection } : {}), ...(pl?.tls ? { tls: pl.tls } : {}) };
}

/** Subset policies merge over the rule's (Istio: the subset's settings win where set). */
function mergePolicy(base: TrafficPolicy, subset: TrafficPolicy | undefined, port: number): TrafficPolicy {
  if (!subset) return base;
  const s = policyForPort(subset, port);
  return { ...base, ...Object.fromEntries(Object.entries(s).filter(([k, v]) => v !== undefined && k !== 'portLevelSettings')) };
}

/** The traffic policy that applies to one cluster (rule, port level, subset, subset port level). */
export function clusterPolicy(found: { rule: { spec: { trafficPolicy?: TrafficPolicy } }; subsets: Subset[] } | undefined, key: OutboundClusterKey): TrafficPolicy {
  const base = policyForPort(found?.rule.spec.trafficPolicy, key.port);
  const subset = key.subset ? found?.subsets.find((s) => s.name === key.subset) : undefined;
  return mergePolicy(base, subset?.trafficPolicy, key.port);
}

type LbFields = Pick<Cluster, 'type' | 'lbPolicy' | 'maglevLbConfig' | 'ringHashLbConfig'>;

function loadBalancing(tp: TrafficPolicy, flavour: ClusterScope['flavour']): LbFields {
  const lb = tp.loadBalancer;
  if (lb?.simple === 'PASSTHROUGH') return { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' };
  const ringHash = lb?.consistentHash && !lb.consistentHash.maglev;
  // Proxyless gRPC takes round robin or ring hash only (it rejects clusters with other policies).
  if (flavour === 'grpc' && !ringHash) return { lbPolicy: 'ROUND_ROBIN' };
  if (lb?.consistentHash) {
    if (lb.consistentHash.maglev) return { lbPolicy: 'MAGLEV', ...(lb.consistentHash.maglev.tableSize ? { maglevLbConfig: { tableSize: String(lb.consistentHash.maglev.tableSize) } } : {}) };
    const min = lb.consistentHash.ringHash?.minimumRingSize ?? lb.consistentHash.minimumRingSize;
    return { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: String(min ?? 1024) } };
  }
  switch (lb?.simple) {
    case 'RANDOM':
      return { lbPolicy: 'RANDOM' };
    case 'ROUND_ROBIN':
      return { lbPolicy: 'ROUND_ROBIN' };
    default:
      // Istio's default (and LEAST_CONN / LEAST_REQUEST): least request.
      return { lbPolicy: 'LEAST_REQUEST' };
  }
}

function outlierDetection(od: NonNullable<TrafficPolicy['outlierDetection']>): OutlierDetection {
  const o: OutlierDetection = { enforcingConsecutive5xx: 0, enforcingSuccessRate: 0 };
  const c5xx = od.consecutive5xxErrors ?? od.consecutiveErrors;
  if (c5xx) Object.assign(o, { consecutive5xx: c5xx, enforcingConsecutive5xx: 100 });
  if (od.consecutiveGatewayErrors) Object.assign(o, { consecutiveGatewayFailure: od.consecutiveGatewayErrors, enforcingConsecutiveGatewayFailure: 100 });
  if (od.consecutiveLocalOriginFailures) Object.assign(o, { consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures, enforcingConsecutiveLocalOriginFailure: 100, splitExternalLocalOriginErrors: true });
  o.interval = istioToProtoDuration(od.interval) ?? '10s';
  o.baseEjectionTime = istioToProtoDuration(od.baseEjectionTime) ?? '30s';
  o.maxEjectionPercent = od.maxEjectionPercent ?? 10;
  return o;
}

/** What a traffic policy sets on a cluster besides load balancing: timeouts, limits, HTTP version, outlier detection. */
function policyFields(tp: TrafficPolicy, protocol: Protocol, defaultConnectTimeout: string): Partial<Cluster> {
  const tcp = tp.connectionPool?.tcp;
  const http = tp.connectionPool?.http;
  const out: Partial<Cluster> = {
    connectTimeout: istioToProtoDuration(tcp?.connectTimeout) ?? defaultConnectTimeout,
    circuitBreakers: {
      thresholds: [
        {
          maxConnections: tcp?.maxConnections ?? MAX,
          maxPendingRequests: http?.http1MaxPendingRequests ?? MAX,
          maxRequests: http?.http2MaxRequests ?? MAX,
          maxRetries: http?.maxRetries ?? MAX,
          trackRemaining: true,
        },
      ],
    },
  };
  const upstreamH2 = (isHttp2(protocol) || http?.h2UpgradePolicy === 'UPGRADE') && http?.h2UpgradePolicy !== 'DO_NOT_UPGRADE';
  const common: CommonHttpProtocolOptions = {};
  if (http?.idleTimeout) common.idleTimeout = istioToProtoDuration(http.idleTimeout);
  if (http?.maxRequestsPerConnection) common.maxRequestsPerConnection = http.maxRequestsPerConnection;
  if (tcp?.maxConnectionDuration) common.maxConnectionDuration = istioToProtoDuration(tcp.maxConnectionDuration);
  if (upstreamH2 || Object.keys(common).length) {
    out.typedExtensionProtocolOptions = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': typed(TYPE.httpProtocolOptions, {
        ...(Object.keys(common).length ? { commonHttpProtocolOptions: common } : {}),
        ...(upstreamH2 ? { explicitHttpConfig: { http2ProtocolOptions: {} } } : http?.useClientProtocol ? { useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} } } : { explicitHttpConfig: { httpProtocolOptions: {} } }),
      }),
    };
  }
  if (tp.outlierDetection) {
    out.outlierDetection = outlierDetection(tp.outlierDetection);
    if (tp.outlierDetection.minHealthPercent !== undefined) out.commonLbConfig = { healthyPanicThreshold: { value: tp.outlierDetection.minHealthPercent } };
  }
  return out;
}

/** `region/zone/subZone` (Istio's locality label form) as Envoy's Locality. */
function locality(loc: string): LocalityLbEndpoints['locality'] {
  const [region, zone, subZone] = loc.split('/');
  return loc ? { region, ...(zone ? { zone } : {}), ...(subZone ? { subZone } : {}) } : {};
}

/** Endpoints grouped by locality; every locality carries a weight (proxyless gRPC drops localities without one). */
export function loadAssignment(clusterName: string, endpoints: Endpoint[]): ClusterLoadAssignment {
  const byLocality = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    const key = e.locality ?? '';
    byLocality.set(key, [...(byLocality.get(key) ?? []), e]);
  }
  return {
    clusterName,
    endpoints: [...byLocality].map(([loc, eps]) => ({
      locality: locality(loc),
      loadBalancingWeight: eps.reduce((a, e) => a + (e.weight ?? 1), 0),
      lbEndpoints: eps.map((e) => ({
        endpoint: { address: { socketAddress: { address: e.address, portValue: e.port } } },
        healthStatus: e.healthy ? 'HEALTHY' : 'UNHEALTHY',
        loadBalancingWeight: e.weight ?? 1,
        ...(e.workload
          ? { metadata: { filterMetadata: { istio: { workload: `${e.workload.name};${e.workload.namespace};${e.workload.labels['app'] ?? ''};${e.workload.labels['version'] ?? ''};` } } } }
          : {}),
      })),
    })),
  };
}

/** The outbound clusters (and endpoints) of one service port as seen from a proxy of `scope`. */
export function outboundClusters(push: PushContext, svc: MeshService, port: ServicePort, scope: ClusterScope): BuiltCluster[] {
  const found = push.destinationRuleFor(svc.hostname, scope.namespace, scope.labels);
  const subsets: Array<Subset | undefined> = [undefined, ...(found?.subsets ?? [])];
  return subsets.map((subset) => {
    const key: OutboundClusterKey = { port: port.port, subset: subset?.name ?? '', host: svc.hostname };
    const name = outboundClusterName(key);
    const tp = clusterPolicy(found, key);
    const meta: Record<string, unknown> = { services: [{ host: svc.hostname, name: svc.name, namespace: svc.namespace }] };
    if (found) meta.config = istioConfigPath('destination-rule', found.rule.metadata.namespace, found.rule.metadata.name);
    if (subset?.name) meta.subset = subset.name;
    const connectTimeout = istioToProtoDuration(push.mesh.connectTimeout) ?? '10s';
    let cluster: Cluster;
    let endpoints: Endpoint[] | undefined;
    if (svc.origin === 'ServiceEntry' && svc.resolution === 'NONE') {
      cluster = { name, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout };
    } else if (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') {
      const type = svc.resolution === 'DNS_ROUND_ROBIN' ? 'LOGICAL_DNS' : 'STRICT_DNS';
      cluster = { name, type, ...loadBalancing(tp, scope.flavour), ...policyFields(tp, port.protocol, connectTimeout), loadAssignment: loadAssignment(name, push.registry.endpoints(svc, port, subset?.labels)) };
    } else {
      const lb = loadBalancing(tp, scope.flavour);
      const eds = lb.type === 'ORIGINAL_DST' ? {} : { type: 'EDS' as const, edsClusterConfig: { edsConfig: ADS_SOURCE, serviceName: name } };
      cluster = { name, ...eds, ...lb, ...policyFields(tp, port.protocol, connectTimeout) };
      if (cluster.type === 'EDS') endpoints = push.registry.endpoints(svc, port, subset?.labels);
    }
    let tls: BuiltTls | undefined;
    // Proxyless gRPC has no SDS-based TLS here: its clients stay plaintext (xDS mTLS needs its certificate providers).
    if (scope.flavour === 'envoy') {
      // SIMPLE / MUTUAL: TLS origination with the user's certificates, whatever the cluster type (DNS ServiceEntries
      // for external services are the usual case).
      tls = tp.tls ? upstreamUserTls(tp.tls, svc.hostname) : undefined;
      // Auto mTLS (or the rule's ISTIO_MUTUAL): the servers' sidecars prove the identities of their service accounts.
      if (!tls && endpoints && clientUsesMtls(tp.tls?.mode, endpoints, push)) {
        // The servers' identities where the registry knows them (a ServiceEntry's own endpoints have none: any
        // certificate from the mesh's roots is taken there).
        const sans = [...new Set(endpoints.flatMap((e) => (e.workload ? [`spiffe://${push.mesh.trustDomain}/ns/${e.workload.namespace}/sa/${e.workload.serviceAccount}`] : [])))].sort();
        tls = { socket: upstreamMtls(outboundSni(key), sans, push.mesh.meshMTLS), secrets: [] };
        meta.tlsMode = 'istio';
      }
    }
    cluster.metadata = { filterMetadata: { istio: meta } };
    if (tls) cluster.transportSocket = tls.socket;
    return { key, cluster, endpoints: endpoints ? loadAssignment(name, endpoints) : undefined, secrets: tls?.secrets ?? [] };
  });
}

/** `inbound|<port>||`: the proxy's own app, at the address and port the app really listens on. */
export function inboundClusterFor(w: Workload, port: number, protocol: Protocol): Cluster {
  const name = inboundClusterName(port);
  return {
    name,
    type: 'STATIC',
    connectTimeout: '10s',
    lbPolicy: 'ROUND_ROBIN',
    circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] },
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: w.appAddress ?? '127.0.0.1', portValue: w.appPorts?.[port] ?? port } } } }] }] },
    metadata: { filterMetadata: { istio: { services: [] } } },
    ...(isHttp2(protocol) ? { typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': typed(TYPE.httpProtocolOptions, { explicitHttpConfig: { http2ProtocolOptions: {} } }) } } : {}),
  };
}

export function blackHoleCluster(): Cluster {
  return { name: BLACKHOLE, type: 'STATIC', connectTimeout: '10s' };
}

/**
 * Istio's InboundPassthroughClusterIpv4/Ipv6: a captured inbound connection to a port no service declares goes on to
 * its original destination in the pod, from 127.0.0.6 (::6), which the capture rules never redirect again.
 */
export function inboundPassthroughCluster(family: 4 | 6): Cluster {
  return {
    name: inboundPassthroughName(family === 6 ? '::' : '0.0.0.0'),
    type: 'ORIGINAL_DST',
    connectTimeout: '10s',
    lbPolicy: 'CLUSTER_PROVIDED',
    upstreamBindConfig: { sourceAddress: { address: family === 6 ? '::6' : '127.0.0.6', portValue: 0 } },
    circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] },
  };
}

export function passthroughCluster(): Cluster {
  return { name: PASSTHROUGH, type: 'ORIGINAL_DST', connectTimeout: '10s', lbPolicy: 'CLUSTER_PROVIDED', circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] } };
}
