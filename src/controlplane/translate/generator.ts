// The mesh's ConfigGenerator: one proxy's whole xDS configuration from the push context, by role
// (sidecar, gateway, proxyless gRPC), as a pure function of (config version, registry, node).

import type { ConfigGenerator, ProxyResources } from '../../xds/generator.js';
import { proxyIdentity, type ProxyIdentity } from '../../xds/node.js';
import { TypeUrl, xdsResource, type ProxyNode, type TypeUrlValue, type XdsMessages, type XdsResource } from '../../xds/resource.js';
import type { Cluster, ClusterLoadAssignment, HeaderValueOption, Listener, RouteConfiguration } from '../../xds/envoy/index.js';
import { blackHoleCluster, inboundClusterFor, inboundPassthroughCluster, outboundClusters, passthroughCluster } from './clusters.js';
import { allowsAny, gatewayListeners, proxylessListeners, sidecarCaptureInbound, sidecarInbound, sidecarOutbound, virtualOutboundListener, type Flavour, type InterceptionMode, type ProxyScope } from './listeners.js';
import type { PushContext } from './push-context.js';
import { sdsSecrets } from './credentials.js';
import { nameTable } from './name-table.js';
import { effectiveTelemetry, telemetryForHcm, type EffectiveTelemetry } from '../../telemetry/telemetry-api.js';
import { encodePeerMetadata, PEER_METADATA, workloadMetadata, workloadOfPod } from '../../telemetry/workload-metadata.js';
import { wdsAddresses } from './ambient/workload-api.js';
import { wdsAuthorizations } from './ambient/l4-authorization.js';
import { connectOriginate, connectTerminateListener, hboneTargets, internalListenerCluster, sidecarHboneInbound, tunnelledEndpoints } from './ambient/hbone-config.js';
import { waypointListener } from './ambient/waypoint-config.js';
import { waypointsOf } from './ambient/waypoints.js';
import { MAIN_INTERNAL, VIRTUAL_INBOUND } from './names.js';

/**
 * What proxies of one shape — (flavour, role, namespace, labels) within one push context — have in common: the
 * services they see, their outbound clusters, endpoints, listeners and routes. Replicas and clients of one
 * deployment share these objects, and the resource lists built from them, so the ADS server can reuse the encoded
 * responses across those proxies (it caches by list identity).
 */
interface Shape {
  scope: ProxyScope;
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  /** SDS names (Kubernetes Secrets) the outbound clusters' TLS contexts reference. */
  clusterSecrets: string[];
  /** Sidecar/proxyless listeners and routes that do not depend on the proxy's own address. */
  listeners?: Listener[];
  routes?: RouteConfiguration[];
  telemetry: EffectiveTelemetry;
  /** Final resource lists, by what else they depend on (inbound clusters, peer metadata, secret names). */
  readonly lists: Map<string, XdsResource[]>;
}

/** A sidecar's inbound side: the listeners on its pod address and the clusters to its app's ports. */
interface OwnSide {
  listeners: Listener[];
  clusters: Cluster[];
  /** What the own clusters depend on, so replicas with equal ones share one cluster list. */
  clustersKey: string;
  secrets: string[];
}

const flavourOf = (id: ProxyIdentity): Flavour => (id.generator === 'grpc' ? 'grpc' : 'envoy');
const labelsKey = (labels: Record<string, string>) => Object.entries(labels).sort().map(([k, v]) => `${k}=${v}`).join(',');

export class MeshConfigGenerator implements ConfigGenerator {
  private readonly shapes = new Map<string, Shape>();
  /** One wrapper per translated object, so a shared object is one resource (encoded once by the ADS server). */
  private readonly wrapped = new WeakMap<object, XdsResource>();
  private readonly blackHole = blackHoleCluster();
  private readonly passthrough = passthroughCluster();
  private readonly inboundPassthrough = [inboundPassthroughCluster(4), inboundPassthroughCluster(6)];
  /** Istio's workload discovery, the same for every node proxy (and waypoint) of this push context. */
  private wds: { addresses: XdsResource[]; authorizations: XdsResource[] } | undefined;

  constructor(readonly push: PushContext) {}

  private workloadDiscovery(): { addresses: XdsResource[]; authorizations: XdsResource[] } {
    return (this.wds ??= { addresses: this.resources(TypeUrl.Address, wdsAddresses(this.push)), authorizations: this.resources(TypeUrl.Authorization, wdsAuthorizations(this.push)) });
  }

  private shape(id: ProxyIdentity, labels: Record<string, string>): Shape {
    const key = `${id.generator}|${id.role}|${id.namespace}|${labelsKey(labels)}`;
    let shape = this.shapes.get(key);
    if (shape) return shape;
    const flavour = flavourOf(id);
    const sidecar = this.push.sidecarFor(id.namespace, labels);
    const services = this.push.visibleServices(id.namespace, id.role === 'router' ? undefined : sidecar);
    const telemetry = effectiveTelemetry(this.push.policies.telemetriesFor({ namespace: id.namespace, labels }), this.push.telemetry);
    shape = { scope: { push: this.push, namespace: id.namespace, labels, services, flavour }, clusters: [], endpoints: [], clusterSecrets: [], telemetry, lists: new Map() };
    for (const svc of services) {
      for (const port of svc.ports) {
        for (const built of outboundClusters(this.push, svc, port, { namespace: id.namespace, labels, flavour })) {
          shape.clusters.push(built.cluster);
          if (built.endpoints) shape.endpoints.push(built.endpoints);
          shape.clusterSecrets.push(...built.secrets);
        }
      }
    }
    this.shapes.set(key, shape);
    return shape;
  }

  /** A list built once per shape and `key` (what else it depends on), so equal lists are one object. */
  private list(shape: Shape, key: string, build: () => XdsResource[]): XdsResource[] {
    let l = shape.lists.get(key);
    if (!l) shape.lists.set(key, (l = build()));
    return l;
  }

  private resource<U extends TypeUrlValue>(typeUrl: U, value: XdsMessages[U]): XdsResource {
    let r = this.wrapped.get(value);
    if (!r) this.wrapped.set(value, (r = xdsResource(typeUrl, value)));
    return r;
  }

  private resources<U extends TypeUrlValue>(typeUrl: U, values: ReadonlyArray<XdsMessages[U]>): XdsResource[] {
    return values.map((v) => this.resource(typeUrl, v));
  }

  /** The shared outbound routes with this workload's peer metadata: one copy per distinct peer, shared by its replicas. */
  private routesFor(shape: Shape, peer: string, peerHeaders: HeaderValueOption[]): XdsResource[] {
    return this.list(shape, `routes|${peer}`, () =>
      // Shallow copies: the virtual hosts stay one object, which the encoder then encodes once for all copies.
      this.resources(TypeUrl.RouteConfiguration, shape.routes!.map((r) => ({ ...r, requestHeadersToAdd: peerHeaders }))),
    );
  }

  /**
   * A sidecar's inbound listeners and clusters for the workload it fronts: per-port listeners on its address (NONE), or
   * virtualInbound on `bind` (REDIRECT: the pod's traffic is captured).
   */
  private ownSide(shape: Shape, workload: ReturnType<PushContext['workloadFor']>, peerHeaders: HeaderValueOption[], mode: InterceptionMode, bind: string): OwnSide {
    const own: OwnSide = { listeners: [], clusters: [this.blackHole, this.passthrough, ...(mode === 'REDIRECT' ? this.inboundPassthrough : [])], clustersKey: mode, secrets: [] };
    if (!workload) return own;
    const telemetry = telemetryForHcm(shape.telemetry, 'SERVER');
    const inbound = mode === 'REDIRECT' ? sidecarCaptureInbound(shape.scope, workload, peerHeaders, telemetry, bind) : sidecarInbound(shape.scope, workload, peerHeaders, telemetry);
    own.listeners = inbound.listeners;
    for (const p of inbound.ports) own.clusters.push(inboundClusterFor(workload, p.port, p.protocol));
    // The inbound clusters are the app's ports at its address: replicas differ only when those do.
    own.clustersKey = [mode, workload.appAddress ?? '', ...inbound.ports.map((p) => `${p.port}>${workload.appPorts?.[p.port] ?? p.port}/${p.protocol}`)].join(',');
    return own;
  }

  generate(node: ProxyNode): ProxyResources {
    const id = proxyIdentity(node);
    const md = node.metadata ?? {};
    if (id.role === 'ztunnel') {
      // The node proxy consumes only Istio's workload API: every workload and service, and the L4 policies.
      const wds = this.workloadDiscovery();
      return new Map([
        [TypeUrl.Authorization, wds.authorizations],
        [TypeUrl.Address, wds.addresses],
      ]);
    }
    const workload = this.push.workloadFor(id.namespace, id.podName, id.ip);
    const labels = Object.keys(id.labels).length ? id.labels : (workload?.labels ?? {});
    const shape = this.shape(id, labels);
    const scope = shape.scope;

    const workloadName = id.workloadName ?? workloadOfPod(id.podName);
    // Istio's metadata exchange: who this proxy is travels on requests (outbound) and responses (inbound), so
    // the other side's metrics can name it.
    const peer = encodePeerMetadata(workloadMetadata({ workload: workloadName, namespace: id.namespace, labels, serviceAccount: id.serviceAccount, cluster: id.clusterId }));
    const peerHeaders: HeaderValueOption[] = [{ header: { key: PEER_METADATA, value: peer }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }];
    // Endpoints that take HBONE (ambient pods, waypoints) are reached through connect_originate by proxies that have it.
    const proxyKind = id.role === 'waypoint' ? 'waypoint' : id.role === 'sidecar' && scope.flavour === 'envoy' ? 'sidecar' : undefined;
    const hbone = proxyKind ? hboneTargets(this.push, proxyKind) : undefined;
    const tunnels = !!hbone && hbone.size > 0;
    const endpoints = this.list(shape, 'endpoints', () => this.resources(TypeUrl.ClusterLoadAssignment, tunnels ? shape.endpoints.map((cla) => tunnelledEndpoints(cla, hbone)) : shape.endpoints));
    // Each list is the shape's shared part plus what is this proxy's own.
    let own: OwnSide;
    let listeners: Listener[];
    let routes: XdsResource[];
    if (scope.flavour === 'grpc') {
      if (!shape.listeners) ({ listeners: shape.listeners, routes: shape.routes } = proxylessListeners(scope));
      own = { listeners: [], clusters: [], clustersKey: 'grpc', secrets: [] };
      listeners = shape.listeners;
      routes = this.list(shape, 'routes', () => this.resources(TypeUrl.RouteConfiguration, shape.routes!));
    } else if (id.role === 'router') {
      // Gateways are few and their listeners depend on their address and ports: generated per proxy.
      const portMap = typeof md.GATEWAY_PORTS === 'object' && md.GATEWAY_PORTS ? (md.GATEWAY_PORTS as Record<string, number>) : {};
      const gw = gatewayListeners(this.push, { labels, namespace: id.namespace, bindAddress: id.ip || '0.0.0.0', portMap }, telemetryForHcm(shape.telemetry, 'CLIENT'));
      own = { listeners: gw.listeners, clusters: [this.blackHole], clustersKey: 'gateway', secrets: gw.secrets };
      listeners = gw.listeners;
      routes = this.resources(TypeUrl.RouteConfiguration, gw.routes.map((r) => ({ ...r, requestHeadersToAdd: peerHeaders })));
    } else if (id.role === 'waypoint') {
      // A waypoint: HBONE in (connect_terminate → main_internal, where its services' routes and L7 policies apply),
      // HBONE out (connect_originate). Its routes are the mesh's outbound ones for its namespace.
      if (!shape.listeners) ({ listeners: shape.listeners, routes: shape.routes } = sidecarOutbound(scope, telemetryForHcm(shape.telemetry, 'CLIENT')));
      routes = this.routesFor(shape, peer, peerHeaders);
      const waypoints = waypointsOf(this.push);
      const wp = waypoints.ofProxy({ namespace: id.namespace, labels });
      const tls = this.push.mesh.meshMTLS;
      const originate = connectOriginate(tls);
      const bind = id.ip.includes(':') ? '::' : '0.0.0.0';
      listeners = [connectTerminateListener(bind, tls, MAIN_INTERNAL), waypointListener(this.push, { namespace: id.namespace, labels }, wp ? waypoints.servicesOf(wp) : [], telemetryForHcm(shape.telemetry, 'CLIENT')), originate.listener];
      own = { listeners, clusters: [this.blackHole, this.passthrough, internalListenerCluster(MAIN_INTERNAL), originate.cluster], clustersKey: 'waypoint', secrets: [] };
    } else {
      if (!shape.listeners) ({ listeners: shape.listeners, routes: shape.routes } = sidecarOutbound(scope, telemetryForHcm(shape.telemetry, 'CLIENT')));
      routes = this.routesFor(shape, peer, peerHeaders);
      // Istio's INTERCEPTION_MODE: REDIRECT when iptables captures the pod's traffic (virtualOutbound and virtualInbound
      // on every address), NONE when the sidecar listens on the pod's address itself (HTTP_PROXY clients).
      const mode: InterceptionMode = md.INTERCEPTION_MODE === 'REDIRECT' ? 'REDIRECT' : 'NONE';
      const instanceIps = typeof md.INSTANCE_IPS === 'string' ? md.INSTANCE_IPS.split(',') : [id.ip];
      const bind = instanceIps.some((ip) => ip.includes(':')) ? '::' : '0.0.0.0';
      own = this.ownSide(shape, workload, peerHeaders, mode, bind);
      // Only virtualOutbound carries the proxy's own address.
      const outboundPort = Number(md.OUTBOUND_PORT ?? 15001);
      listeners = [...shape.listeners, virtualOutboundListener(allowsAny(scope), mode === 'REDIRECT' ? bind : id.ip || '127.0.0.1', outboundPort), ...own.listeners];
      // Beside ambient pods: HBONE out to them, and (a sidecar that takes HBONE) HBONE in on 15008.
      const tls = this.push.mesh.meshMTLS;
      if (tunnels) {
        const originate = connectOriginate(tls);
        listeners.push(originate.listener);
        own = { ...own, clusters: [...own.clusters, originate.cluster], clustersKey: `${own.clustersKey}|originate` };
      }
      const virtualInbound = own.listeners.find((l) => l.name === VIRTUAL_INBOUND);
      if (workload?.hbone && virtualInbound) {
        listeners.push(connectTerminateListener(bind, tls, MAIN_INTERNAL), sidecarHboneInbound(virtualInbound));
        own = { ...own, clusters: [...own.clusters, internalListenerCluster(MAIN_INTERNAL)], clustersKey: `${own.clustersKey}|terminate` };
      }
    }
    // Replicas have equal own clusters (inbound ones to the app's ports), so they share one cluster list.
    const clusters = this.list(shape, `clusters|${id.role}|${own.clustersKey}`, () => this.resources(TypeUrl.Cluster, [...shape.clusters, ...own.clusters]));
    // SDS: the Kubernetes Secrets this proxy's TLS contexts name (credentialName), from its own namespace only.
    const secretNames = [...new Set([...shape.clusterSecrets, ...own.secrets])].sort();
    const secrets = this.list(shape, `secrets|${secretNames.join(',')}`, () => this.resources(TypeUrl.Secret, sdsSecrets((ns, name) => this.push.secret(ns, name), id.namespace, secretNames)));
    // Istio's NDS for sidecars whose DNS proxy captures the pod's queries (ISTIO_META_DNS_CAPTURE).
    const nds: Array<[string, XdsResource[]]> = [];
    if (id.role === 'sidecar' && scope.flavour === 'envoy' && String(md.DNS_CAPTURE) === 'true') {
      const auto = String(md.DNS_AUTO_ALLOCATE) === 'true';
      nds.push([TypeUrl.NameTable, this.list(shape, `nds|${auto}`, () => [this.resource(TypeUrl.NameTable, nameTable(scope, auto))])]);
    }
    return new Map<string, XdsResource[]>([
      ...nds,
      [TypeUrl.Secret, secrets],
      [TypeUrl.Cluster, clusters],
      [TypeUrl.ClusterLoadAssignment, endpoints],
      [TypeUrl.Listener, this.resources(TypeUrl.Listener, listeners)],
      [TypeUrl.RouteConfiguration, routes],
    ]);
  }
}
