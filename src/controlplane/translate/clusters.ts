// Clusters and their endpoints: one outbound cluster per service port and per DestinationRule subset, shaped by the
// rule's traffic policy (load balancer, connection pool, outlier detection, per-port settings); inbound clusters for
// the proxy's own workload; Istio's BlackHole/Passthrough clusters. Transport security: auto mTLS / ISTIO_MUTUAL, or the
// rule's SIMPLE / MUTUAL origination with user certificates.

import type { Subset, TrafficPolicy } from '../../config/types/networking.js';
import { isHttp2, type Protocol } from '../registry/protocol.js';
import type { Endpoint, MeshService, ServicePort, Workload } from '../registry/service-registry.js';
import { BLACKHOLE, inboundCluster, istioConfigPath, outboundCluster, PASSTHROUGH, T } from './names.js';
import type { PushContext } from './push-context.js';
import { istioToProtoDuration } from '../../duration.js';
import { clientUsesMtls, peerAuthenticationMode, upstreamMtls, upstreamUserTls } from './security.js';

type Json = Record<string, unknown>;

/** Istio's defaults: effectively unlimited circuit breakers (Envoy's own defaults of 1024 are too low for a mesh). */
const MAX = 4294967295;

export interface BuiltCluster {
  cluster: Json;
  /** Set for EDS clusters: their endpoints. */
  endpoints?: Json;
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

function applyPolicy(c: Json, tp: TrafficPolicy, protocol: Protocol): void {
  const lb = tp.loadBalancer;
  if (lb?.consistentHash) {
    if (lb.consistentHash.maglev) {
      c.lbPolicy = 'MAGLEV';
      if (lb.consistentHash.maglev.tableSize) c.maglevLbConfig = { tableSize: String(lb.consistentHash.maglev.tableSize) };
    } else {
      c.lbPolicy = 'RING_HASH';
      const min = lb.consistentHash.ringHash?.minimumRingSize ?? lb.consistentHash.minimumRingSize;
      c.ringHashLbConfig = { minimumRingSize: String(min ?? 1024) };
    }
  } else {
    switch (lb?.simple) {
      case 'RANDOM':
        c.lbPolicy = 'RANDOM';
        break;
      case 'ROUND_ROBIN':
        c.lbPolicy = 'ROUND_ROBIN';
        break;
      case 'PASSTHROUGH':
        c.type = 'ORIGINAL_DST';
        c.lbPolicy = 'CLUSTER_PROVIDED';
        delete c.edsClusterConfig;
        break;
      default:
        // Istio's default (and LEAST_CONN / LEAST_REQUEST): least request.
        c.lbPolicy = 'LEAST_REQUEST';
    }
  }
  const tcp = tp.connectionPool?.tcp;
  const http = tp.connectionPool?.http;
  c.connectTimeout = istioToProtoDuration(tcp?.connectTimeout) ?? '10s';
  c.circuitBreakers = {
    thresholds: [
      {
        maxConnections: tcp?.maxConnections ?? MAX,
        maxPendingRequests: http?.http1MaxPendingRequests ?? MAX,
        maxRequests: http?.http2MaxRequests ?? MAX,
        maxRetries: http?.maxRetries ?? MAX,
        trackRemaining: true,
      },
    ],
  };
  const upstreamH2 = (isHttp2(protocol) || http?.h2UpgradePolicy === 'UPGRADE') && http?.h2UpgradePolicy !== 'DO_NOT_UPGRADE';
  const common: Json = {};
  if (http?.idleTimeout) common.idleTimeout = istioToProtoDuration(http.idleTimeout);
  if (http?.maxRequestsPerConnection) common.maxRequestsPerConnection = http.maxRequestsPerConnection;
  if (tcp?.maxConnectionDuration) common.maxConnectionDuration = istioToProtoDuration(tcp.maxConnectionDuration);
  if (upstreamH2 || Object.keys(common).length) {
    c.typedExtensionProtocolOptions = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': T.httpProtocolOptions,
        ...(Object.keys(common).length ? { commonHttpProtocolOptions: common } : {}),
        ...(upstreamH2 ? { explicitHttpConfig: { http2ProtocolOptions: {} } } : http?.useClientProtocol ? { useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} } } : { explicitHttpConfig: { httpProtocolOptions: {} } }),
      },
    };
  }
  const od = tp.outlierDetection;
  if (od) {
    const o: Json = { enforcingConsecutive5xx: 0, enforcingSuccessRate: 0 };
    const c5xx = od.consecutive5xxErrors ?? od.consecutiveErrors;
    if (c5xx) Object.assign(o, { consecutive5xx: c5xx, enforcingConsecutive5xx: 100 });
    if (od.consecutiveGatewayErrors) Object.assign(o, { consecutiveGatewayFailure: od.consecutiveGatewayErrors, enforcingConsecutiveGatewayFailure: 100 });
    if (od.consecutiveLocalOriginFailures) Object.assign(o, { consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures, enforcingConsecutiveLocalOriginFailure: 100, splitExternalLocalOriginErrors: true });
    o.interval = istioToProtoDuration(od.interval) ?? '10s';
    o.baseEjectionTime = istioToProtoDuration(od.baseEjectionTime) ?? '30s';
    o.maxEjectionPercent = od.maxEjectionPercent ?? 10;
    c.outlierDetection = o;
    if (od.minHealthPercent !== undefined) c.commonLbConfig = { healthyPanicThreshold: { value: od.minHealthPercent } };
  }
}

/** Endpoints grouped by locality; every locality carries a weight (proxyless gRPC drops localities without one). */
export function loadAssignment(clusterName: string, endpoints: Endpoint[]): Json {
  const byLocality = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    const key = e.locality ?? '';
    byLocality.set(key, [...(byLocality.get(key) ?? []), e]);
  }
  return {
    clusterName,
    endpoints: [...byLocality].map(([loc, eps]) => {
      const [region, zone, subZone] = loc.split('/');
      return {
        ...(loc ? { locality: { region, ...(zone ? { zone } : {}), ...(subZone ? { subZone } : {}) } } : { locality: {} }),
        loadBalancingWeight: eps.reduce((a, e) => a + (e.weight ?? 1), 0),
        lbEndpoints: eps.map((e) => ({
          endpoint: { address: { socketAddress: { address: e.address, portValue: e.port } } },
          healthStatus: e.healthy ? 'HEALTHY' : 'UNHEALTHY',
          loadBalancingWeight: e.weight ?? 1,
          ...(e.workload
            ? { metadata: { filterMetadata: { istio: { workload: `${e.workload.name};${e.workload.namespace};${e.workload.labels['app'] ?? ''};${e.workload.labels['version'] ?? ''};` } } } }
            : {}),
        })),
      };
    }),
  };
}

/** The outbound clusters (and endpoints) of one service port as seen from a proxy in `namespace`. */
export function outboundClusters(push: PushContext, svc: MeshService, port: ServicePort, namespace: string, proxyLabels: Record<string, string>): BuiltCluster[] {
  const found = push.destinationRuleFor(svc.hostname, namespace, proxyLabels);
  const base = policyForPort(found?.rule.spec.trafficPolicy, port.port);
  const subsets: Array<Subset | undefined> = [undefined, ...(found?.subsets ?? [])];
  const out: BuiltCluster[] = [];
  for (const subset of subsets) {
    const name = outboundCluster(port.port, subset?.name ?? '', svc.hostname);
    const c: Json = { name };
    const tp = mergePolicy(base, subset?.trafficPolicy, port.port);
    const dns = svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN';
    if (svc.origin === 'ServiceEntry' && svc.resolution === 'NONE') {
      Object.assign(c, { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: '10s' });
    } else if (dns) {
      c.type = svc.resolution === 'DNS_ROUND_ROBIN' ? 'LOGICAL_DNS' : 'STRICT_DNS';
      applyPolicy(c, tp, port.protocol);
      c.loadAssignment = loadAssignment(name, push.registry.endpoints(svc, port, subset?.labels));
    } else {
      c.type = 'EDS';
      c.edsClusterConfig = { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: name };
      applyPolicy(c, tp, port.protocol);
    }
    const meta: Json = { services: [{ host: svc.hostname, name: svc.name, namespace: svc.namespace }] };
    if (found) meta.config = istioConfigPath('destination-rule', found.rule.metadata.namespace, found.rule.metadata.name);
    if (subset?.name) meta.subset = subset.name;
    c.metadata = { filterMetadata: { istio: meta } };
    let endpoints: Endpoint[] | undefined;
    if (c.type === 'EDS') {
      endpoints = push.registry.endpoints(svc, port, subset?.labels);
      // Auto mTLS (or the rule's ISTIO_MUTUAL): the servers' sidecars prove the identities of their service accounts.
      const serverMode = (e: Endpoint) => peerAuthenticationMode(push.resources, push.mesh.rootNamespace, e.workload!.namespace, e.workload!.labels, e.port);
      if (clientUsesMtls(found?.rule, tp.tls?.mode, endpoints, serverMode)) {
        const sans = [...new Set(endpoints.map((e) => `spiffe://${push.mesh.domain}/ns/${e.workload!.namespace}/sa/${e.workload!.serviceAccount}`))].sort();
        c.transportSocket = upstreamMtls(`outbound_.${port.port}_.${subset?.name ?? ''}_.${svc.hostname}`, sans, push.minTls);
        (c.metadata as { filterMetadata: { istio: Json } }).filterMetadata.istio.tlsMode = 'istio';
      }
    }
    // SIMPLE / MUTUAL: TLS origination with the user's certificates, whatever the cluster type (DNS ServiceEntries
    // for external services are the usual case).
    const userTls = tp.tls ? upstreamUserTls(tp.tls, svc.hostname) : undefined;
    if (userTls) c.transportSocket = userTls;
    out.push({ cluster: c, endpoints: endpoints ? loadAssignment(name, endpoints) : undefined });
  }
  return out;
}

/** `inbound|<port>||`: the proxy's own app, at the address and port the app really listens on. */
export function inboundClusterFor(w: Workload, port: number, protocol: Protocol): Json {
  const appPort = w.appPorts?.[port] ?? port;
  const c: Json = {
    name: inboundCluster(port),
    type: 'STATIC',
    connectTimeout: '10s',
    lbPolicy: 'ROUND_ROBIN',
    circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] },
    loadAssignment: { clusterName: inboundCluster(port), endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: w.appAddress ?? '127.0.0.1', portValue: appPort } } } }] }] },
    metadata: { filterMetadata: { istio: { services: [] } } },
  };
  if (isHttp2(protocol)) c.typedExtensionProtocolOptions = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': T.httpProtocolOptions, explicitHttpConfig: { http2ProtocolOptions: {} } } };
  return c;
}

export function blackHoleCluster(): Json {
  return { name: BLACKHOLE, type: 'STATIC', connectTimeout: '10s' };
}

export function passthroughCluster(): Json {
  return { name: PASSTHROUGH, type: 'ORIGINAL_DST', connectTimeout: '10s', lbPolicy: 'CLUSTER_PROVIDED', circuitBreakers: { thresholds: [{ maxConnections: MAX, maxPendingRequests: MAX, maxRequests: MAX, maxRetries: MAX }] } };
}
