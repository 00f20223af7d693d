// Listeners and route configurations per proxy role: a sidecar's outbound (a listener per port, routes by port, and
// virtualOutbound) and inbound side, a gateway's servers, and proxyless gRPC's API listeners. Each HTTP connection
// manager is built whole here, with its authentication, authorization and telemetry filters in Istio's order.

import { isHttp, type Protocol } from '../registry/protocol.js';
import type { MeshService, Workload } from '../registry/service-registry.js';
import { TYPE, typed, type FilterChain, type HeaderValueOption, type Listener, type Route, type RouteConfiguration, type TypedExtension, type VirtualHost } from '../../xds/envoy/index.js';
import type { HcmTelemetry } from '../../telemetry/telemetry-api.js';
import {
  BLACKHOLE,
  inboundClusterName,
  inboundListenerName,
  outboundClusterName,
  outboundHttpListenerName,
  PASSTHROUGH,
  VIRTUAL_INBOUND,
  VIRTUAL_OUTBOUND,
  gatewayHttpRouteName,
  virtualHostName,
  inboundPassthroughName,
  type OutboundClusterKey,
} from './names.js';
import { MESH_GATEWAY, type PushContext } from './push-context.js';
import { defaultRoute, virtualServiceRoutes, type RouteScope } from './routes.js';
import { downstreamMtls, gatewayDownstreamTls } from './security.js';
import { gatewayHostAllows, gatewayL4Chains, httpsRouteName, isPassthrough, isTerminatedHttps, serverNameMatch, TLS_INSPECTOR, type GatewayServer } from './gateway-tls.js';
import { authorizationFilters } from './authorization.js';
import { requestAuthenticationFilters } from './request-authentication.js';
import { connectionManager, gatewayConnectionManager, hcmFilter, tcpFilter, type Flavour } from './connection-manager.js';
import { gatewayApiListeners } from './gateway-api/gateway-listeners.js';
import { rankedRoutes } from './gateway-api/virtual-hosts.js';
import { tcpListeners, tlsListeners } from './sidecar-l4.js';
import { PORTS } from '../../ports.js';

export type { Flavour } from './connection-manager.js';

/** Who listeners are built for: proxies of one shape (flavour, namespace, labels) and the services they see. */
export interface ProxyScope {
  push: PushContext;
  namespace: string;
  labels: Record<string, string>;
  services: readonly MeshService[];
  flavour: Flavour;
}

/** The names a service is called by from `namespace`, with and without the port (Istio's virtual host domains). */
export function domainsFor(svc: MeshService, port: number, namespace: string): string[] {
  const names = [svc.hostname];
  if (svc.origin === 'Kubernetes') {
    names.push(`${svc.name}.${svc.namespace}.svc`, `${svc.name}.${svc.namespace}`);
    if (svc.namespace === namespace) names.push(svc.name);
  }
  names.push(...svc.addresses);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** Is a port routed as HTTP by the sidecar? (Unknown protocols are too: Trellis's proxy sniffs them.) */
export const routedAsHttp = (p: Protocol) => isHttp(p) || p === 'UNKNOWN';

const routeScope = (s: ProxyScope, port: number): RouteScope => ({ port, gateway: MESH_GATEWAY, proxyLabels: s.labels, proxyNamespace: s.namespace, push: s.push, flavour: s.flavour });

/**
 * The virtual host of a service port: the mesh HTTPRoutes/GRPCRoutes whose parent is the service (GAMMA: they take
 * precedence, and a request none of their rules matches gets 404 as the Gateway API says), else its VirtualService's
 * routes, falling through to the service itself as Istio does.
 */
function virtualHost(svc: MeshService, port: number, scope: RouteScope, namespace: string): VirtualHost {
  const mesh = scope.push.gatewayApi.meshRoutes(svc.hostname, port, namespace, svc.namespace);
  if (mesh.length) {
    const routes = rankedRoutes(scope.push, mesh, { port, scheme: 'http', flavour: scope.flavour });
    return { name: virtualHostName(svc.hostname, port), domains: domainsFor(svc, port, namespace), routes, includeRequestAttemptCount: true };
  }
  const bound = scope.push.virtualServiceFor(svc.hostname, scope.gateway, namespace);
  const { routes, catchAll } = bound ? virtualServiceRoutes(bound, scope) : { routes: [] as Route[], catchAll: false };
  const key: OutboundClusterKey = { port, subset: '', host: svc.hostname };
  // A VirtualService whose rules all have matches falls through to the service's default route.
  if (!catchAll) routes.push(defaultRoute(key, scope));
  return { name: `${svc.hostname}:${port}`, domains: domainsFor(svc, port, namespace), routes, includeRequestAttemptCount: true };
}

/** Does the mesh (and the proxy's Sidecar) let unknown destinations through? */
export function allowsAny(s: ProxyScope): boolean {
  return s.push.mesh.outboundTrafficPolicy.mode === 'ALLOW_ANY' && s.push.sidecarFor(s.namespace, s.labels)?.spec.outboundTrafficPolicy?.mode !== 'REGISTRY_ONLY';
}

/** Sidecar outbound: route configurations per HTTP port and a listener per port (virtualOutbound is per proxy). */
export function sidecarOutbound(s: ProxyScope, telemetry: HcmTelemetry): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const httpPorts = new Map<number, MeshService[]>();
  const tcp: Array<{ svc: MeshService; port: number }> = [];
  for (const svc of s.services) {
    for (const p of svc.ports) {
      if (routedAsHttp(p.protocol)) httpPorts.set(p.port, [...(httpPorts.get(p.port) ?? []), svc]);
      else tcp.push({ svc, port: p.port });
    }
  }
  const allowAny = allowsAny(s);
  const routes: RouteConfiguration[] = [];
  const listeners: Listener[] = [];
  for (const [port, services] of [...httpPorts].sort((a, b) => a[0] - b[0])) {
    const scope = routeScope(s, port);
    const virtualHosts: VirtualHost[] = services.map((svc) => virtualHost(svc, port, scope, s.namespace));
    virtualHosts.push(
      allowAny
        ? { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH, timeout: '0s', maxGrpcTimeout: '0s' } }], includeRequestAttemptCount: true }
        : { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }] },
    );
    routes.push({ name: String(port), virtualHosts, validateClusters: false, ignorePortInHostMatching: false });
    listeners.push({
      name: outboundHttpListenerName(port),
      address: { socketAddress: { address: '0.0.0.0', portValue: port } },
      bindToPort: false,
      trafficDirection: 'OUTBOUND',
      filterChains: [{ filters: [hcmFilter(connectionManager({ statPrefix: `outbound_0.0.0.0_${port}`, routes: { rds: String(port) }, telemetry }))] }],
    });
  }
  // TCP and TLS ports (sidecar-l4.ts); an HTTP listener of the same name keeps its port.
  const tls = tcp.filter((t) => t.svc.ports.find((p) => p.port === t.port)?.protocol === 'TLS' || t.svc.ports.find((p) => p.port === t.port)?.protocol === 'HTTPS');
  const plain = tcp.filter((t) => !tls.includes(t));
  const taken = new Set(listeners.map((l) => l.name));
  for (const l of [...tcpListeners(s, plain), ...tlsListeners(s, tls)]) {
    if (taken.has(l.name!)) continue;
    taken.add(l.name!);
    listeners.push(l);
  }
  return { listeners, routes };
}

/** The proxy's own capture listener: what no port listener takes goes through (ALLOW_ANY) or nowhere (REGISTRY_ONLY). */
export function virtualOutboundListener(allowAny: boolean, address: string, port: number): Listener {
  const cluster = allowAny ? PASSTHROUGH : BLACKHOLE;
  return {
    name: VIRTUAL_OUTBOUND,
    address: { socketAddress: { address, portValue: port } },
    useOriginalDst: true,
    trafficDirection: 'OUTBOUND',
    filterChains: [],
    defaultFilterChain: { name: cluster, filters: [tcpFilter(cluster, cluster)] },
  };
}

/** How a sidecar receives its pod's traffic: Istio's REDIRECT (iptables capture) or NONE (it listens on the ports). */
export type InterceptionMode = 'REDIRECT' | 'NONE';

/** One inbound port of a workload: its protocol and the filter chains PeerAuthentication asks for. */
interface InboundPort {
  port: number;
  protocol: Protocol;
  chains: FilterChain[];
  /** PERMISSIVE ports tell TLS from plaintext by the first bytes. */
  inspects: boolean;
}

function inboundPorts(s: ProxyScope, w: Workload, responseHeadersToAdd: HeaderValueOption[], telemetry: HcmTelemetry, chainPrefix: string): InboundPort[] {
  const byPort = new Map<number, Protocol>();
  for (const svc of s.push.registry.servicesOf(w)) {
    for (const p of svc.ports) {
      const target = typeof p.targetPort === 'number' ? p.targetPort : w.ports[p.targetPort];
      if (target === undefined || byPort.has(target)) continue;
      byPort.set(target, p.protocol);
    }
  }
  const push = s.push;
  return [...byPort].map(([port, protocol]) => {
    const cluster = inboundClusterName(port);
    const http = routedAsHttp(protocol);
    const authz = authorizationFilters(push.policies, push.mesh, w, http ? 'http' : 'tcp');
    let filters: TypedExtension[];
    if (http) {
      const routeConfig: RouteConfiguration = {
        name: cluster,
        virtualHosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s', maxGrpcTimeout: '0s' }, decorator: { operation: `${w.name}.${w.namespace}:${port}/*` } }] }],
        validateClusters: false,
        ...(responseHeadersToAdd.length ? { responseHeadersToAdd } : {}),
      };
      // RequestAuthentication (JWT) then AuthorizationPolicy (RBAC) ahead of the rest of the chain.
      const jwt = requestAuthenticationFilters(push.policies, w, push);
      filters = [hcmFilter(connectionManager({ statPrefix: `inbound_0.0.0.0_${port}`, routes: { routeConfig }, authFilters: [...jwt, ...authz], telemetry }))];
    } else {
      // TCP ports: network RBAC ahead of tcp_proxy (HTTP ports carry it inside the connection manager).
      filters = [...authz, tcpFilter(cluster, cluster)];
    }
    // PeerAuthentication decides what the port accepts: mutual TLS only, both (told apart by the first bytes), or plaintext.
    const mode = w.meshed ? push.policies.peerAuthenticationMode(w, port) : 'DISABLE';
    const tlsChain: FilterChain = { name: `${chainPrefix}_${port}_mtls`, filterChainMatch: { transportProtocol: 'tls' }, filters, transportSocket: downstreamMtls(push.mesh.meshMTLS) };
    const plainChain: FilterChain = { name: `${chainPrefix}_${port}_plaintext`, ...(mode === 'PERMISSIVE' ? { filterChainMatch: { transportProtocol: 'raw_buffer' } } : {}), filters };
    return { port, protocol, chains: mode === 'STRICT' ? [tlsChain] : mode === 'PERMISSIVE' ? [tlsChain, plainChain] : [plainChain], inspects: mode === 'PERMISSIVE' };
  });
}

/** Sidecar inbound without capture (NONE): one listener per port of the workload's services, on the pod address. */
export function sidecarInbound(s: ProxyScope, w: Workload, responseHeadersToAdd: HeaderValueOption[], telemetry: HcmTelemetry): { listeners: Listener[]; ports: Array<{ port: number; protocol: Protocol }> } {
  const ports = inboundPorts(s, w, responseHeadersToAdd, telemetry, w.address);
  const listeners = ports.map((p): Listener => ({
    name: inboundListenerName(w.address, p.port),
    address: { socketAddress: { address: w.address, portValue: p.port } },
    trafficDirection: 'INBOUND',
    filterChains: p.chains,
    ...(p.inspects ? { listenerFilters: [TLS_INSPECTOR] } : {}),
  }));
  return { listeners, ports: ports.map(({ port, protocol }) => ({ port, protocol })) };
}

/**
 * Sidecar inbound with capture (REDIRECT): Istio's `virtualInbound` on 15006 with the original destination restored
 * by its original_dst filter (no hand-off: that is virtualOutbound's), each service port's chains matched by destination port, and what no port claims passed through to the app (from
 * 127.0.0.6, which the capture rules never redirect) — PERMISSIVE, as Istio's InboundPassthroughCluster is.
 */
export function sidecarCaptureInbound(s: ProxyScope, w: Workload, responseHeadersToAdd: HeaderValueOption[], telemetry: HcmTelemetry, bind: string): { listeners: Listener[]; ports: Array<{ port: number; protocol: Protocol }> } {
  const ports = inboundPorts(s, w, responseHeadersToAdd, telemetry, '0.0.0.0');
  const chains: FilterChain[] = ports.flatMap((p) => p.chains.map((c) => ({ ...c, filterChainMatch: { ...c.filterChainMatch, destinationPort: p.port } })));
  // What no port claims: passed through per family (a dual-stack listener restores both kinds of destination).
  for (const family of bind === '0.0.0.0' ? ['0.0.0.0'] : ['0.0.0.0', '::']) {
    const passthrough = inboundPassthroughName(family);
    const range = family === '::' ? { addressPrefix: '::', prefixLen: 0 } : { addressPrefix: '0.0.0.0', prefixLen: 0 };
    chains.push({ name: `virtualInbound-catchall-${family === '::' ? 'ipv6' : 'ipv4'}`, filterChainMatch: { prefixRanges: [range] }, filters: [tcpFilter(passthrough, passthrough)] });
  }
  const listener: Listener = {
    name: VIRTUAL_INBOUND,
    address: { socketAddress: { address: bind, portValue: PORTS.inbound } },
    trafficDirection: 'INBOUND',
    filterChains: chains,
    listenerFilters: [ORIGINAL_DST_FILTER, TLS_INSPECTOR],
  };
  return { listeners: [listener], ports: ports.map(({ port, protocol }) => ({ port, protocol })) };
}

/** Envoy's original_dst listener filter, which Istio puts on its capture listeners. */
const ORIGINAL_DST_FILTER: TypedExtension = { name: 'envoy.filters.listener.original_dst', typedConfig: typed(TYPE.originalDst, {}) };

/** What a gateway proxy is: its labels and namespace (Gateway selection, policies) and where it listens. */
export interface GatewayProxy {
  labels: Record<string, string>;
  namespace: string;
  bindAddress: string;
  /** Server port → the port the gateway really binds (the local runtime moves 80/443 to free host ports). */
  portMap: Readonly<Record<string, number>>;
}

/**
 * Gateway: a listener per server port. Plain HTTP servers share the `http.<port>` routes (hosts of `httpsRedirect`
 * servers answer 301 to https); each HTTPS server gets a filter chain selected by SNI (its hosts) that terminates TLS
 * with its certificate and routes with `https.<port>.<portName>.<gateway>.<namespace>`; TLS PASSTHROUGH and TCP
 * servers get L4 chains (gateway-tls.ts).
 */
export function gatewayListeners(push: PushContext, gw: GatewayProxy, telemetry: HcmTelemetry): { listeners: Listener[]; routes: RouteConfiguration[]; secrets: string[] } {
  const byPort = new Map<number, GatewayServer[]>();
  for (const g of push.gatewaysFor(gw.labels)) {
    for (const server of g.spec.servers ?? []) {
      const port = server.port?.number;
      if (!port) continue;
      const s: GatewayServer = { gateway: `${g.metadata.namespace}/${g.metadata.name}`, name: g.metadata.name, namespace: g.metadata.namespace, server, hosts: server.hosts ?? [], protocol: (server.port?.protocol ?? 'HTTP').toUpperCase() };
      byPort.set(port, [...(byPort.get(port) ?? []), s]);
    }
  }
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  const secrets: string[] = [];
  const hcm = (port: number, routeName: string) => gatewayConnectionManager(push, gw, port, routeName, telemetry);
  for (const [port, servers] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const chains: FilterChain[] = [];
    // HTTPS first: their chains are the specific ones (by server name).
    for (const s of servers.filter(isTerminatedHttps)) {
      const routeName = httpsRouteName(s, port);
      routes.push({ name: routeName, virtualHosts: gatewayVirtualHosts(push, gw, port, [s]), validateClusters: false });
      const tls = gatewayDownstreamTls(s.server.tls ?? {});
      if (tls) secrets.push(...tls.secrets);
      chains.push({ name: routeName, filterChainMatch: serverNameMatch(s.hosts), ...(tls ? { transportSocket: tls.socket } : {}), filters: [hcm(port, routeName)] });
    }
    const l4 = gatewayL4Chains(push, gw.labels, gw.namespace, port, servers.filter((s) => ['TLS', 'TCP', 'MONGO', 'MYSQL', 'REDIS'].includes(s.protocol) || (s.protocol === 'HTTPS' && isPassthrough(s))));
    chains.push(...l4.chains);
    secrets.push(...l4.secrets);
    const httpServers = servers.filter((s) => ['HTTP', 'HTTP2', 'GRPC'].includes(s.protocol));
    if (httpServers.length) {
      const routeName = gatewayHttpRouteName(port);
      routes.push({ name: routeName, virtualHosts: gatewayVirtualHosts(push, gw, port, httpServers), validateClusters: false });
      chains.push({ filters: [hcm(port, routeName)] });
    }
    if (!chains.length) continue;
    listeners.push({
      name: outboundHttpListenerName(port),
      address: { socketAddress: { address: gw.bindAddress, portValue: gw.portMap[String(port)] ?? port } },
      trafficDirection: 'OUTBOUND',
      filterChains: chains,
      ...(chains.some((c) => c.filterChainMatch || c.transportSocket) ? { listenerFilters: [TLS_INSPECTOR] } : {}),
    });
  }
  // Kubernetes Gateways this proxy was deployed for (its gateway-name label in their namespace).
  const api = gatewayApiListeners(push, { namespace: gw.namespace, labels: gw.labels, bindAddress: gw.bindAddress }, telemetry);
  return { listeners: [...listeners, ...api.listeners], routes: [...routes, ...api.routes], secrets: [...secrets, ...api.secrets] };
}

/** Virtual hosts of HTTP(S) servers: the bound VirtualServices' hosts that the servers' hosts allow. */
function gatewayVirtualHosts(push: PushContext, gw: GatewayProxy, port: number, servers: GatewayServer[]): VirtualHost[] {
  const vhosts = new Map<string, Route[]>();
  const redirected = new Set<string>();
  for (const server of servers) {
    const scope: RouteScope = { port, gateway: server.gateway, proxyLabels: gw.labels, proxyNamespace: gw.namespace, push, flavour: 'envoy' };
    const redirect = server.server.tls?.httpsRedirect === true;
    for (const b of push.virtualServicesForGateway(server.gateway)) {
      const allowed = b.vs.spec.hosts?.filter((h) => server.hosts.some((sh) => gatewayHostAllows(sh, h, b.vs.metadata.namespace))) ?? [];
      if (!allowed.length) continue;
      const r = redirect ? [] : virtualServiceRoutes(b, scope).routes;
      for (const host of allowed) {
        vhosts.set(host, [...(vhosts.get(host) ?? []), ...r]);
        if (redirect) redirected.add(host);
      }
    }
    // Istio answers httpsRedirect for every host of the server, with or without a VirtualService behind it.
    if (redirect) {
      for (const h of server.hosts) {
        const host = h.includes('/') ? h.slice(h.indexOf('/') + 1) : h;
        if (!vhosts.has(host)) vhosts.set(host, []);
        redirected.add(host);
      }
    }
  }
  // Istio sets `requireTls: ALL` on these virtual hosts; a redirect route says the same to any proxy (the gateway's
  // plaintext listener never carries TLS, so every request there is redirected).
  const toHttps: Route = { name: 'https_redirect', match: { prefix: '/' }, redirect: { httpsRedirect: true, responseCode: 'MOVED_PERMANENTLY' } };
  return [...vhosts].map(([host, r]) => ({ name: `${host}:${port}`, domains: host === '*' ? ['*'] : [host, `${host}:*`], routes: redirected.has(host) ? [toHttps] : r, includeRequestAttemptCount: true }));
}

/** Proxyless gRPC: an API listener per service port, named as clients dial it (`host:port`, also short forms). */
export function proxylessListeners(s: ProxyScope): { listeners: Listener[]; routes: RouteConfiguration[] } {
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  for (const svc of s.services) {
    for (const p of svc.ports) {
      const routeName = `${svc.hostname}:${p.port}`;
      const vh = virtualHost(svc, p.port, routeScope(s, p.port), s.namespace);
      routes.push({ name: routeName, virtualHosts: [{ ...vh, domains: ['*'] }] });
      const names = new Set(domainsFor(svc, p.port, s.namespace).filter((d) => d.endsWith(`:${p.port}`)));
      for (const name of names) listeners.push({ name, apiListener: { apiListener: typed(TYPE.hcm, connectionManager({ statPrefix: name, routes: { rds: routeName }, flavour: 'grpc' })) } });
    }
  }
  return { listeners, routes };
}
