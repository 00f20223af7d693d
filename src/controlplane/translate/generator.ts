// The mesh's ConfigGenerator: one proxy's whole xDS configuration from the push context, by role
// (sidecar, gateway, proxyless gRPC), as a pure function of (config version, registry, node).

import type { ConfigGenerator, ProxyResources } from '../../xds/generator.js';
import { proxyIdentity } from '../../xds/node.js';
import { TypeUrl, type ProxyNode, type XdsResource } from '../../xds/resource.js';
import { blackHoleCluster, inboundClusterFor, outboundClusters, passthroughCluster } from './clusters.js';
import { gatewayListeners, proxylessListeners, sidecarInbound, sidecarOutbound, type ProxyScope } from './listeners.js';
import type { PushContext } from './push-context.js';
import { sdsSecrets } from './credentials.js';
import { referencedNames } from '../../xds/ads-client.js';
import { effectiveTelemetry, withTelemetry, type EffectiveTelemetry } from '../../telemetry/telemetry-api.js';
import { encodePeerMetadata, PEER_METADATA, workloadMetadata, workloadOfPod } from '../../telemetry/workload-metadata.js';

type Json = Record<string, unknown>;

const res = (typeUrl: string, name: string, value: Json): XdsResource => ({ typeUrl, name, value });

interface Outbound {
  clusters: Json[];
  endpoints: Json[];
  /** Sidecar/proxyless listeners and routes that do not depend on the proxy's own address. */
  listeners?: Json[];
  routes?: Json[];
}

export class MeshConfigGenerator implements ConfigGenerator {
  /**
   * Outbound clusters and endpoints depend only on (namespace, labels, role, flavour) within one push context, so
   * proxies of the same shape (replicas, clients) share the objects — and the ADS server then encodes them once.
   */
  private readonly outboundCache = new Map<string, Outbound>();

  constructor(readonly push: PushContext) {}

  private outbound(id: ReturnType<typeof proxyIdentity>, labels: Record<string, string>, services: ProxyScope['services'], workload: string): Outbound {
    void workload; // clusters, endpoints and listeners do not depend on it; routes carry it (see routesFor)
    const key = `${id.generator}|${id.role}|${id.namespace}|${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
    let o = this.outboundCache.get(key);
    if (o) return o;
    o = { clusters: [], endpoints: [] };
    for (const svc of services) {
      for (const port of svc.ports) {
        for (const built of outboundClusters(this.push, svc, port, id.namespace, labels)) {
          o.clusters.push(built.cluster);
          if (built.endpoints) o.endpoints.push(built.endpoints);
        }
      }
    }
    if (id.generator === 'grpc') {
      // Proxyless gRPC balances with round robin or ring hash only (it rejects clusters with other policies).
      // Nor does it take Envoy's SDS-based TLS here: proxyless clients stay plaintext (xDS mTLS needs its certificate providers).
      o.clusters = o.clusters.map((c) => {
        const { transportSocket: _ts, ...rest } = c;
        return c.lbPolicy !== 'RING_HASH' && c.type === 'EDS' ? { ...rest, lbPolicy: 'ROUND_ROBIN' } : rest;
      });
    }
    this.outboundCache.set(key, o);
    return o;
  }

  /** The shared outbound routes with this workload's peer metadata: one copy per workload, shared by its replicas. */
  private readonly routeCopies = new WeakMap<Outbound, Map<string, Json[]>>();
  private routesFor(shared: Outbound, workload: string, peerHeaders: Json[]): Json[] {
    let byWorkload = this.routeCopies.get(shared);
    if (!byWorkload) this.routeCopies.set(shared, (byWorkload = new Map()));
    let routes = byWorkload.get(workload);
    if (!routes) byWorkload.set(workload, (routes = shared.routes!.map((r) => ({ ...r, requestHeadersToAdd: peerHeaders }))));
    return routes;
  }

  generate(node: ProxyNode): ProxyResources {
    const id = proxyIdentity(node);
    const md = node.metadata ?? {};
    const workload = this.push.workloadFor(id.namespace, id.podName, id.ip);
    const labels = Object.keys(id.labels).length ? id.labels : (workload?.labels ?? {});
    const sidecar = this.push.sidecarFor(id.namespace, labels);
    const services = this.push.visibleServices(id.namespace, id.role === 'router' ? undefined : sidecar);
    const scope: ProxyScope = { push: this.push, namespace: id.namespace, labels, services };

    const workloadName = typeof md.WORKLOAD_NAME === 'string' ? md.WORKLOAD_NAME : workloadOfPod(id.podName);
    const shared = this.outbound(id, labels, services, workloadName);
    // Istio's metadata exchange: who this proxy is travels on requests (outbound) and responses (inbound), so
    // the other side's metrics can name it.
    const peer = encodePeerMetadata(workloadMetadata({ workload: workloadName, namespace: id.namespace, labels, serviceAccount: id.serviceAccount, cluster: id.clusterId }));
    let eff: EffectiveTelemetry | undefined;
    const telemetry = () => (eff ??= effectiveTelemetry(this.push.resources, this.push.telemetry, this.push.mesh.rootNamespace, id.namespace, labels));
    const peerHeaders = [{ header: { key: PEER_METADATA, value: peer }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
    const clusters: Json[] = [...shared.clusters];
    const endpoints: Json[] = shared.endpoints;
    let listeners: Json[] = [];
    let routes: Json[] = [];
    if (id.generator === 'grpc') {
      shared.listeners ??= proxylessListeners(scope).listeners;
      shared.routes ??= proxylessListeners(scope).routes;
      listeners = [...shared.listeners];
      routes = shared.routes;
    } else if (id.role === 'router') {
      const portMap = typeof md.GATEWAY_PORTS === 'object' && md.GATEWAY_PORTS ? (md.GATEWAY_PORTS as Record<string, number>) : {};
      ({ listeners, routes } = gatewayListeners(this.push, labels, id.namespace, id.ip || '0.0.0.0', portMap));
      listeners = withTelemetry(listeners, telemetry(), () => 'CLIENT');
      for (const r of routes) r.requestHeadersToAdd = peerHeaders;
      clusters.push(blackHoleCluster());
    } else {
      const outboundPort = Number(md.OUTBOUND_PORT ?? 15001);
      if (!shared.listeners) {
        ({ listeners: shared.listeners, routes: shared.routes } = sidecarOutbound(scope, '0.0.0.0', 15001));
        shared.listeners = withTelemetry(shared.listeners, telemetry(), () => 'CLIENT');
      }
      // Only virtualOutbound carries the proxy's own address.
      listeners = shared.listeners.map((l) => (l.name === 'virtualOutbound' ? { ...l, address: { socketAddress: { address: id.ip || '127.0.0.1', portValue: outboundPort } } } : l));
      routes = this.routesFor(shared, workloadName, peerHeaders);
      clusters.push(blackHoleCluster(), passthroughCluster());
      if (workload) {
        const inbound = sidecarInbound(scope, workload, peerHeaders);
        listeners.push(...withTelemetry(inbound.listeners, telemetry(), () => 'SERVER'));
        for (const p of inbound.ports) clusters.push(inboundClusterFor(workload, p.port, p.protocol));
      }
    }
    // SDS: the Kubernetes Secrets this proxy's TLS contexts name (credentialName), from its own namespace only.
    const secretNames = referencedNames({ listeners, clusters, routes: [], endpoints: [], secrets: [] }).secrets;
    const secrets = sdsSecrets(this.push.resources, id.namespace, secretNames);
    return new Map<string, XdsResource[]>([
      [TypeUrl.Secret, secrets.map((s) => res(TypeUrl.Secret, String(s.name), s))],
      [TypeUrl.Cluster, clusters.map((c) => res(TypeUrl.Cluster, String(c.name), c))],
      [TypeUrl.ClusterLoadAssignment, endpoints.map((e) => res(TypeUrl.ClusterLoadAssignment, String(e.clusterName), e))],
      [TypeUrl.Listener, listeners.map((l) => res(TypeUrl.Listener, String(l.name), l))],
      [TypeUrl.RouteConfiguration, routes.map((r) => res(TypeUrl.RouteConfiguration, String(r.name), r))],
    ]);
  }
}
