// The mesh's ConfigGenerator: one proxy's whole xDS configuration from the push context, by role
// (sidecar, gateway, proxyless gRPC), as a pure function of (config version, registry, node).

import type { ConfigGenerator, ProxyResources } from '../../xds/generator.js';
import { proxyIdentity } from '../../xds/node.js';
import { TypeUrl, type ProxyNode, type XdsResource } from '../../xds/resource.js';
import { blackHoleCluster, inboundClusterFor, outboundClusters, passthroughCluster } from './clusters.js';
import { gatewayListeners, proxylessListeners, sidecarInbound, sidecarOutbound, type ProxyScope } from './listeners.js';
import type { PushContext } from './push-context.js';

type Json = Record<string, unknown>;

const res = (typeUrl: string, name: string, value: Json): XdsResource => ({ typeUrl, name, value });

export class MeshConfigGenerator implements ConfigGenerator {
  constructor(readonly push: PushContext) {}

  generate(node: ProxyNode): ProxyResources {
    const id = proxyIdentity(node);
    const md = node.metadata ?? {};
    const workload = this.push.workloadFor(id.namespace, id.podName, id.ip);
    const labels = Object.keys(id.labels).length ? id.labels : (workload?.labels ?? {});
    const sidecar = this.push.sidecarFor(id.namespace, labels);
    const services = this.push.visibleServices(id.namespace, id.role === 'router' ? undefined : sidecar);
    const scope: ProxyScope = { push: this.push, namespace: id.namespace, labels, services };

    const clusters: Json[] = [];
    const endpoints: Json[] = [];
    for (const svc of services) {
      for (const port of svc.ports) {
        for (const built of outboundClusters(this.push, svc, port, id.namespace, labels)) {
          clusters.push(built.cluster);
          if (built.endpoints) endpoints.push(built.endpoints);
        }
      }
    }
    let listeners: Json[] = [];
    let routes: Json[] = [];
    if (id.generator === 'grpc') {
      ({ listeners, routes } = proxylessListeners(scope));
      // Proxyless gRPC balances with round robin or ring hash only (it rejects clusters with other policies).
      for (const c of clusters) if (c.lbPolicy !== 'RING_HASH' && c.type === 'EDS') c.lbPolicy = 'ROUND_ROBIN';
    } else if (id.role === 'router') {
      const portMap = typeof md.GATEWAY_PORTS === 'object' && md.GATEWAY_PORTS ? (md.GATEWAY_PORTS as Record<string, number>) : {};
      ({ listeners, routes } = gatewayListeners(this.push, labels, id.namespace, id.ip || '0.0.0.0', portMap));
      clusters.push(blackHoleCluster());
    } else {
      const outboundPort = Number(md.OUTBOUND_PORT ?? 15001);
      ({ listeners, routes } = sidecarOutbound(scope, id.ip || '127.0.0.1', outboundPort));
      clusters.push(blackHoleCluster(), passthroughCluster());
      if (workload) {
        const inbound = sidecarInbound(scope, workload);
        listeners.push(...inbound.listeners);
        for (const p of inbound.ports) clusters.push(inboundClusterFor(workload, p.port, p.protocol));
      }
    }
    return new Map<string, XdsResource[]>([
      [TypeUrl.Cluster, clusters.map((c) => res(TypeUrl.Cluster, String(c.name), c))],
      [TypeUrl.ClusterLoadAssignment, endpoints.map((e) => res(TypeUrl.ClusterLoadAssignment, String(e.clusterName), e))],
      [TypeUrl.Listener, listeners.map((l) => res(TypeUrl.Listener, String(l.name), l))],
      [TypeUrl.RouteConfiguration, routes.map((r) => res(TypeUrl.RouteConfiguration, String(r.name), r))],
    ]);
  }
}
