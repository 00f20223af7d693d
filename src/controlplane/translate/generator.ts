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

/**
 * What proxies of one shape — (flavour, role, namespace, labels) within one push context — have in common: the
 * services they see, their outbound clusters, endpoints, listeners and routes. Replicas and clients of one
 * deployment share these objects, and the resource lists built from them, so the ADS server can reuse the encoded
 * responses across those proxies (it caches by list identity).
 */
interface Shape {
  scope: ProxyScope;
  clusters: Json[];
  endpoints: Json[];
  /** Sidecar/proxyless listeners and routes that do not depend on the proxy's own address. */
  listeners?: Json[];
  routes?: Json[];
  telemetry?: EffectiveTelemetry;
  /** Final resource lists, by what else they depend on (inbound clusters, peer metadata, secret names). */
  readonly lists: Map<string, XdsResource[]>;
}

export class MeshConfigGenerator implements ConfigGenerator {
  private readonly shapes = new Map<string, Shape>();
  /** One wrapper per translated object, so a shared object is one resource (encoded once by the ADS server). */
  private readonly wrapped = new WeakMap<Json, XdsResource>();
  /** SDS names referenced by a list of listeners or clusters, computed once per shared list. */
  private readonly secretNamesOf = new WeakMap<Json[], string[]>();
  private readonly blackHole = blackHoleCluster();
  private readonly passthrough = passthroughCluster();

  constructor(readonly push: PushContext) {}

  private shape(id: ReturnType<typeof proxyIdentity>, labels: Record<string, string>): Shape {
    const key = `${id.generator}|${id.role}|${id.namespace}|${Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;
    let shape = this.shapes.get(key);
    if (shape) return shape;
    const sidecar = this.push.sidecarFor(id.namespace, labels);
    const services = this.push.visibleServices(id.namespace, id.role === 'router' ? undefined : sidecar);
    shape = { scope: { push: this.push, namespace: id.namespace, labels, services }, clusters: [], endpoints: [], lists: new Map() };
    for (const svc of services) {
      for (const port of svc.ports) {
        for (const built of outboundClusters(this.push, svc, port, id.namespace, labels)) {
          shape.clusters.push(built.cluster);
          if (built.endpoints) shape.endpoints.push(built.endpoints);
        }
      }
    }
    if (id.generator === 'grpc') {
      // Proxyless gRPC balances with round robin or ring hash only (it rejects clusters with other policies).
      // Nor does it take Envoy's SDS-based TLS here: proxyless clients stay plaintext (xDS mTLS needs its certificate providers).
      shape.clusters = shape.clusters.map((c) => {
        const { transportSocket: _ts, ...rest } = c;
        return c.lbPolicy !== 'RING_HASH' && c.type === 'EDS' ? { ...rest, lbPolicy: 'ROUND_ROBIN' } : rest;
      });
    }
    this.shapes.set(key, shape);
    return shape;
  }

  private telemetry(shape: Shape): EffectiveTelemetry {
    const { push, namespace, labels } = shape.scope;
    return (shape.telemetry ??= effectiveTelemetry(push.resources, push.telemetry, push.mesh.rootNamespace, namespace, labels));
  }

  /** A list built once per shape and `key` (what else it depends on), so equal lists are one object. */
  private list(shape: Shape, key: string, build: () => XdsResource[]): XdsResource[] {
    let l = shape.lists.get(key);
    if (!l) shape.lists.set(key, (l = build()));
    return l;
  }

  private resource(typeUrl: string, value: Json): XdsResource {
    let r = this.wrapped.get(value);
    if (!r) this.wrapped.set(value, (r = { typeUrl, name: String(typeUrl === TypeUrl.ClusterLoadAssignment ? value.clusterName : value.name), value }));
    return r;
  }

  private resources(typeUrl: string, values: readonly Json[]): XdsResource[] {
    return values.map((v) => this.resource(typeUrl, v));
  }

  /** SDS names a list of listeners or clusters references; memoised, so a shared list is walked once. */
  private secretNames(kind: 'listeners' | 'clusters', list: Json[]): string[] {
    let names = this.secretNamesOf.get(list);
    if (!names) this.secretNamesOf.set(list, (names = referencedNames({ listeners: [], clusters: [], routes: [], endpoints: [], secrets: [], [kind]: list }).secrets));
    return names;
  }

  /** The shared outbound routes with this workload's peer metadata: one copy per distinct peer, shared by its replicas. */
  private routesFor(shape: Shape, peer: string): XdsResource[] {
    return this.list(shape, `routes|${peer}`, () => {
      const peerHeaders = [{ header: { key: PEER_METADATA, value: peer }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
      // Shallow copies: the virtual hosts stay one object, which the encoder then encodes once for all copies.
      return this.resources(TypeUrl.RouteConfiguration, shape.routes!.map((r) => ({ ...r, requestHeadersToAdd: peerHeaders })));
    });
  }

  generate(node: ProxyNode): ProxyResources {
    const id = proxyIdentity(node);
    const md = node.metadata ?? {};
    const workload = this.push.workloadFor(id.namespace, id.podName, id.ip);
    const labels = Object.keys(id.labels).length ? id.labels : (workload?.labels ?? {});
    const shape = this.shape(id, labels);
    const scope = shape.scope;

    const workloadName = typeof md.WORKLOAD_NAME === 'string' ? md.WORKLOAD_NAME : workloadOfPod(id.podName);
    // Istio's metadata exchange: who this proxy is travels on requests (outbound) and responses (inbound), so
    // the other side's metrics can name it.
    const peer = encodePeerMetadata(workloadMetadata({ workload: workloadName, namespace: id.namespace, labels, serviceAccount: id.serviceAccount, cluster: id.clusterId }));
    const peerHeaders = [{ header: { key: PEER_METADATA, value: peer }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
    const endpoints = this.list(shape, 'endpoints', () => this.resources(TypeUrl.ClusterLoadAssignment, shape.endpoints));
    // Each list is the shape's shared part plus what is this proxy's own; SDS names are looked up in both.
    let ownClusters: Json[] = [];
    let ownListeners: Json[] = [];
    let listeners: Json[];
    let routes: XdsResource[];
    if (id.generator === 'grpc') {
      if (!shape.listeners) ({ listeners: shape.listeners, routes: shape.routes } = proxylessListeners(scope));
      listeners = shape.listeners;
      routes = this.list(shape, 'routes', () => this.resources(TypeUrl.RouteConfiguration, shape.routes!));
    } else if (id.role === 'router') {
      // Gateways are few and their listeners depend on their address and ports: generated per proxy.
      const portMap = typeof md.GATEWAY_PORTS === 'object' && md.GATEWAY_PORTS ? (md.GATEWAY_PORTS as Record<string, number>) : {};
      const gw = gatewayListeners(this.push, labels, id.namespace, id.ip || '0.0.0.0', portMap);
      listeners = ownListeners = withTelemetry(gw.listeners, this.telemetry(shape), () => 'CLIENT');
      routes = this.resources(TypeUrl.RouteConfiguration, gw.routes.map((r) => ({ ...r, requestHeadersToAdd: peerHeaders })));
      ownClusters = [this.blackHole];
    } else {
      const outboundPort = Number(md.OUTBOUND_PORT ?? 15001);
      if (!shape.listeners) {
        ({ listeners: shape.listeners, routes: shape.routes } = sidecarOutbound(scope, '0.0.0.0', 15001));
        shape.listeners = withTelemetry(shape.listeners, this.telemetry(shape), () => 'CLIENT');
      }
      routes = this.routesFor(shape, peer);
      ownClusters = [this.blackHole, this.passthrough];
      if (workload) {
        const inbound = sidecarInbound(scope, workload, peerHeaders);
        ownListeners = withTelemetry(inbound.listeners, this.telemetry(shape), () => 'SERVER');
        for (const p of inbound.ports) ownClusters.push(inboundClusterFor(workload, p.port, p.protocol));
      }
      // Only virtualOutbound carries the proxy's own address (its SDS names are those of the shared one).
      listeners = [
        ...shape.listeners.map((l) => (l.name === 'virtualOutbound' ? { ...l, address: { socketAddress: { address: id.ip || '127.0.0.1', portValue: outboundPort } } } : l)),
        ...ownListeners,
      ];
    }
    // Replicas have equal own clusters (inbound ones to the app's ports), so they share one cluster list.
    const clusters = this.list(shape, `clusters|${JSON.stringify(ownClusters)}`, () => this.resources(TypeUrl.Cluster, [...shape.clusters, ...ownClusters]));
    // SDS: the Kubernetes Secrets this proxy's TLS contexts name (credentialName), from its own namespace only.
    const secretNames = new Set([
      ...this.secretNames('clusters', shape.clusters),
      ...referencedNames({ listeners: ownListeners, clusters: ownClusters, routes: [], endpoints: [], secrets: [] }).secrets,
      ...(shape.listeners ? this.secretNames('listeners', shape.listeners) : []),
    ]);
    const secrets = this.list(shape, `secrets|${[...secretNames].sort().join(',')}`, () => sdsSecrets(this.push.resources, id.namespace, secretNames).map((s) => this.resource(TypeUrl.Secret, s)));
    return new Map<string, XdsResource[]>([
      [TypeUrl.Secret, secrets],
      [TypeUrl.Cluster, clusters],
      [TypeUrl.ClusterLoadAssignment, endpoints],
      [TypeUrl.Listener, this.resources(TypeUrl.Listener, listeners)],
      [TypeUrl.RouteConfiguration, routes],
    ]);
  }
}
