// Listeners and route configurations per proxy role: a sidecar's outbound (virtualOutbound + one listener per port,
// routes by port) and inbound side, a gateway's servers, and proxyless gRPC's API listeners.

import { isHttp, type Protocol } from '../registry/protocol.js';
import type { MeshService, Workload } from '../registry/service-registry.js';
import { BLACKHOLE, inboundCluster, outboundCluster, PASSTHROUGH, T } from './names.js';
import { MESH_GATEWAY, type PushContext } from './push-context.js';
import { defaultRetryPolicy, defaultRoute, hashPolicyFor, virtualServiceRoutes, type RouteScope } from './routes.js';
import { downstreamMtls, gatewayDownstreamTls, peerAuthenticationMode } from './security.js';
import { gatewayHostAllows, gatewayL4Chains, httpsRouteName, isPassthrough, isTerminatedHttps, serverNameMatch, TLS_INSPECTOR, type GatewayServer } from './gateway-tls.js';
import { authorizationFilters } from './authorization.js';
import { requestAuthenticationFilters } from './request-authentication.js';

type Json = Record<string, unknown>;

const ADS = { ads: {}, resourceApiVersion: 'V3' };

export function httpFilters(flavour: 'envoy' | 'grpc'): Json[] {
  const fault = { name: 'envoy.filters.http.fault', typedConfig: { '@type': T.fault } };
  const router = { name: 'envoy.filters.http.router', typedConfig: { '@type': T.router } };
  // Proxyless gRPC implements fault and router but not CORS (an unknown filter would make it reject the listener).
  return flavour === 'grpc' ? [fault, router] : [{ name: 'envoy.filters.http.cors', typedConfig: { '@type': T.cors } }, fault, router];
}

function hcm(statPrefix: string, routes: { rds: string } | { routeConfig: Json }, flavour: 'envoy' | 'grpc' = 'envoy'): Json {
  return {
    '@type': T.hcm,
    statPrefix,
    ...('rds' in routes ? { rds: { routeConfigName: routes.rds, configSource: ADS } } : { routeConfig: routes.routeConfig }),
    httpFilters: httpFilters(flavour),
    ...(flavour === 'envoy' ? { upgradeConfigs: [{ upgradeType: 'websocket' }], normalizePath: true, streamIdleTimeout: '0s', useRemoteAddress: false } : {}),
  };
}

const hcmFilter = (config: Json) => ({ name: 'envoy.filters.network.http_connection_manager', typedConfig: config });
const tcpFilter = (statPrefix: string, cluster: string) => ({ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcpProxy, statPrefix, cluster } });

/** The names a service is called by from `namespace`, with and without the port (Istio's virtual host domains). */
export function domainsFor(svc: MeshService, port: number, namespace: string): string[] {
  const names = [svc.hostname];
  const suffix = `.svc.`;
  if (svc.origin === 'Kubernetes' && svc.hostname.includes(suffix)) {
    const [name, ns] = svc.hostname.split('.');
    names.push(`${name}.${ns}.svc`, `${name}.${ns}`);
    if (ns === namespace) names.push(name!);
  }
  names.push(...svc.addresses);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** Is a port routed as HTTP by the sidecar? (Unknown protocols are too: Trellis's proxy sniffs them.) */
const routedAsHttp = (p: Protocol) => isHttp(p) || p === 'UNKNOWN';

export interface ProxyScope {
  push: PushContext;
  namespace: string;
  labels: Record<string, string>;
  services: MeshService[];
}

/** Sidecar outbound: route configurations per HTTP port, a listener per port, and virtualOutbound. */
export function sidecarOutbound(s: ProxyScope, bindAddress: string, outboundPort: number): { listeners: Json[]; routes: Json[] } {
  const httpPorts = new Map<number, MeshService[]>();
  const tcp: Array<{ svc: MeshService; port: number }> = [];
  for (const svc of s.services) {
    for (const p of svc.ports) {
      if (routedAsHttp(p.protocol)) httpPorts.set(p.port, [...(httpPorts.get(p.port) ?? []), svc]);
      else tcp.push({ svc, port: p.port });
    }
  }
  const allowAny = s.push.mesh.outboundTrafficPolicy === 'ALLOW_ANY' && s.push.sidecarFor(s.namespace, s.labels)?.spec.outboundTrafficPolicy?.mode !== 'REGISTRY_ONLY';
  const routes: Json[] = [];
  const listeners: Json[] = [];
  for (const [port, services] of [...httpPorts].sort((a, b) => a[0] - b[0])) {
    const scope: RouteScope = { port, gateway: MESH_GATEWAY, proxyLabels: s.labels, proxyNamespace: s.namespace, push: s.push };
    const virtualHosts: Json[] = services.map((svc) => virtualHost(svc, port, scope, s.namespace));
    virtualHosts.push(
      allowAny
        ? { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH, timeout: '0s', maxGrpcTimeout: '0s' } }], includeRequestAttemptCount: true }
        : { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }] },
    );
    routes.push({ name: String(port), virtualHosts, validateClusters: false, ignorePortInHostMatching: false });
    listeners.push({
      name: `0.0.0.0_${port}`,
      address: { socketAddress: { address: '0.0.0.0', portValue: port } },
      bindToPort: false,
      trafficDirection: 'OUTBOUND',
      filterChains: [{ filters: [hcmFilter(hcm(`outbound_0.0.0.0_${port}`, { rds: String(port) }))] }],
    });
  }
  for (const { svc, port } of tcp) {
    const address = svc.addresses[0] ?? '0.0.0.0';
    listeners.push({
      name: `${address}_${port}`,
      address: { socketAddress: { address, portValue: port } },
      bindToPort: false,
      trafficDirection: 'OUTBOUND',
      filterChains: [{ filters: [tcpFilter(outboundCluster(port, '', svc.hostname), outboundCluster(port, '', svc.hostname))] }],
    });
  }
  listeners.push({
    name: 'virtualOutbound',
    address: { socketAddress: { address: bindAddress, portValue: outboundPort } },
    useOriginalDst: true,
    trafficDirection: 'OUTBOUND',
    filterChains: [],
    defaultFilterChain: { name: allowAny ? PASSTHROUGH : BLACKHOLE, filters: [tcpFilter(allowAny ? PASSTHROUGH : BLACKHOLE, allowAny ? PASSTHROUGH : BLACKHOLE)] },
  });
  return { listeners, routes };
}

function virtualHost(svc: MeshService, port: number, scope: RouteScope, namespace: string): Json {
  const bound = scope.push.virtualServiceFor(svc.hostname, scope.gateway, namespace);
  const routes = bound ? virtualServiceRoutes(bound, scope) : [];
  const cluster = outboundCluster(port, '', svc.hostname);
  // A VirtualService whose rules all have matches falls through to the service itself, as in Istio.
  if (!routes.length || !routes.some((r) => isCatchAll(r))) {
    const route = defaultRoute(cluster);
    const hash = hashPolicyFor(cluster, scope);
    if (hash) (route.route as Json).hashPolicy = hash;
    routes.push(route);
  }
  return { name: `${svc.hostname}:${port}`, domains: domainsFor(svc, port, namespace), routes, includeRequestAttemptCount: true };
}

function isCatchAll(r: Json): boolean {
  const m = r.match as Json;
  return m.prefix === '/' && !m.headers && !m.queryParameters;
}

/** Sidecar inbound: one listener per port of the workload's services, on the pod address, to the app. */
export function sidecarInbound(s: ProxyScope, w: Workload, responseHeadersToAdd: Json[] = []): { listeners: Json[]; ports: Array<{ port: number; protocol: Protocol }> } {
  const byPort = new Map<number, Protocol>();
  for (const svc of s.push.registry.servicesOf(w)) {
    for (const p of svc.ports) {
      const target = typeof p.targetPort === 'number' ? p.targetPort : w.ports[p.targetPort];
      if (target === undefined || byPort.has(target)) continue;
      byPort.set(target, p.protocol);
    }
  }
  const listeners: Json[] = [];
  for (const [port, protocol] of byPort) {
    const cluster = inboundCluster(port);
    const base = hcm(`inbound_0.0.0.0_${port}`, {
      routeConfig: {
        name: cluster,
        virtualHosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: '0s', maxGrpcTimeout: '0s' }, decorator: { operation: `${w.name}.${w.namespace}:${port}/*` } }] }],
        validateClusters: false,
        ...(responseHeadersToAdd.length ? { responseHeadersToAdd } : {}),
      },
    });
    // RequestAuthentication (JWT) then AuthorizationPolicy (RBAC) ahead of the rest of the chain.
    const http = routedAsHttp(protocol);
    const authz = authorizationFilters(s.push.resources, s.push.mesh.rootNamespace, w.namespace, w.labels, http ? 'http' : 'tcp');
    const jwt = http ? requestAuthenticationFilters(s.push.resources, s.push.mesh.rootNamespace, w.namespace, w.labels, s.push.jwks) : [];
    const chain = http ? hcmFilter({ ...base, httpFilters: [...jwt, ...authz, ...(base.httpFilters as Json[])], useRemoteAddress: false }) : tcpFilter(cluster, cluster);
    // PeerAuthentication decides what the port accepts: mutual TLS only, both (told apart by the first bytes), or plaintext.
    const mode = w.meshed ? peerAuthenticationMode(s.push.resources, s.push.mesh.rootNamespace, w.namespace, w.labels, port) : 'DISABLE';
    // TCP ports: network RBAC ahead of tcp_proxy (HTTP ports carry it inside the connection manager).
    const filters = http ? [chain] : [...authz, chain];
    const tlsChain = { name: `${w.address}_${port}_mtls`, filterChainMatch: { transportProtocol: 'tls' }, filters, transportSocket: downstreamMtls(s.push.minTls) };
    const plainChain = { name: `${w.address}_${port}_plaintext`, ...(mode === 'PERMISSIVE' ? { filterChainMatch: { transportProtocol: 'raw_buffer' } } : {}), filters };
    listeners.push({
      name: `${w.address}_${port}`,
      address: { socketAddress: { address: w.address, portValue: port } },
      trafficDirection: 'INBOUND',
      filterChains: mode === 'STRICT' ? [tlsChain] : mode === 'PERMISSIVE' ? [tlsChain, plainChain] : [plainChain],
      ...(mode === 'PERMISSIVE' ? { listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }] } : {}),
    });
  }
  return { listeners, ports: [...byPort].map(([port, protocol]) => ({ port, protocol })) };
}

/**
 * Gateway: a listener per server port. Plain HTTP servers share the `http.<port>` routes (hosts of `httpsRedirect`
 * servers answer 301 to https); each HTTPS server gets a filter chain selected by SNI (its hosts) that terminates TLS
 * with its certificate and routes with `https.<port>.<portName>.<gateway>.<namespace>`; TLS PASSTHROUGH and TCP
 * servers get L4 chains (gateway-tls.ts).
 */
export function gatewayListeners(push: PushContext, labels: Record<string, string>, namespace: string, bindAddress: string, portMap: Record<string, number>): { listeners: Json[]; routes: Json[] } {
  const gateways = push.gatewaysFor(labels);
  const byPort = new Map<number, GatewayServer[]>();
  for (const g of gateways) {
    for (const server of g.spec.servers ?? []) {
      const port = server.port?.number;
      if (!port) continue;
      const s: GatewayServer = { gateway: `${g.metadata.namespace}/${g.metadata.name}`, name: g.metadata.name, namespace: g.metadata.namespace, server, hosts: server.hosts ?? [], protocol: (server.port?.protocol ?? 'HTTP').toUpperCase() };
      byPort.set(port, [...(byPort.get(port) ?? []), s]);
    }
  }
  const listeners: Json[] = [];
  const routes: Json[] = [];
  for (const [port, servers] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const chains: Json[] = [];
    // HTTPS first: their chains are the specific ones (by server name).
    for (const s of servers.filter(isTerminatedHttps)) {
      const routeName = httpsRouteName(s, port);
      routes.push({ name: routeName, virtualHosts: gatewayVirtualHosts(push, labels, namespace, port, [s]), validateClusters: false });
      chains.push({ name: routeName, filterChainMatch: serverNameMatch(s.hosts), transportSocket: gatewayDownstreamTls(s.server.tls ?? {}), filters: [gatewayHcm(push, labels, namespace, port, routeName)] });
    }
    chains.push(...gatewayL4Chains(push, labels, namespace, port, servers.filter((s) => ['TLS', 'TCP', 'MONGO', 'MYSQL', 'REDIS'].includes(s.protocol) || (s.protocol === 'HTTPS' && isPassthrough(s)))));
    const httpServers = servers.filter((s) => ['HTTP', 'HTTP2', 'GRPC'].includes(s.protocol));
    if (httpServers.length) {
      const routeName = `http.${port}`;
      routes.push({ name: routeName, virtualHosts: gatewayVirtualHosts(push, labels, namespace, port, httpServers), validateClusters: false });
      chains.push({ filters: [gatewayHcm(push, labels, namespace, port, routeName)] });
    }
    if (!chains.length) continue;
    listeners.push({
      name: `0.0.0.0_${port}`,
      address: { socketAddress: { address: bindAddress, portValue: portMap[String(port)] ?? port } },
      trafficDirection: 'OUTBOUND',
      filterChains: chains,
      ...(chains.some((c) => c.filterChainMatch || c.transportSocket) ? { listenerFilters: [TLS_INSPECTOR] } : {}),
    });
  }
  return { listeners, routes };
}

/** Virtual hosts of HTTP(S) servers: the bound VirtualServices' hosts that the servers' hosts allow. */
function gatewayVirtualHosts(push: PushContext, labels: Record<string, string>, namespace: string, port: number, servers: GatewayServer[]): Json[] {
  const vhosts = new Map<string, Json[]>();
  const redirected = new Set<string>();
  for (const server of servers) {
    const scope: RouteScope = { port, gateway: server.gateway, proxyLabels: labels, proxyNamespace: namespace, push };
    const redirect = server.server.tls?.httpsRedirect === true;
    for (const b of push.virtualServicesForGateway(server.gateway)) {
      const allowed = b.vs.spec.hosts?.filter((h) => server.hosts.some((sh) => gatewayHostAllows(sh, h, b.vs.metadata.namespace))) ?? [];
      if (!allowed.length) continue;
      const r = redirect ? [] : virtualServiceRoutes(b, scope);
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
  const toHttps = { name: 'https_redirect', match: { prefix: '/' }, redirect: { httpsRedirect: true, responseCode: 'MOVED_PERMANENTLY' } };
  return [...vhosts].map(([host, r]) => ({ name: `${host}:${port}`, domains: host === '*' ? ['*'] : [host, `${host}:*`], routes: redirected.has(host) ? [toHttps] : r, includeRequestAttemptCount: true }));
}

/** A gateway's HTTP connection manager: AuthorizationPolicies selecting the gateway workload run ahead of routing. */
function gatewayHcm(push: PushContext, labels: Record<string, string>, namespace: string, port: number, routeName: string): Json {
  const base = hcm(`outbound_0.0.0.0_${port}`, { rds: routeName });
  const jwt = requestAuthenticationFilters(push.resources, push.mesh.rootNamespace, namespace, labels, push.jwks);
  const authz = authorizationFilters(push.resources, push.mesh.rootNamespace, namespace, labels);
  // JWT first (its claims feed the policies), then authorization, then routing.
  return hcmFilter({ ...base, httpFilters: [...jwt, ...authz, ...(base.httpFilters as Json[])], useRemoteAddress: true });
}

/** Proxyless gRPC: an API listener per service port, named as clients dial it (`host:port`, also short forms). */
export function proxylessListeners(s: ProxyScope): { listeners: Json[]; routes: Json[] } {
  const listeners: Json[] = [];
  const routes: Json[] = [];
  for (const svc of s.services) {
    for (const p of svc.ports) {
      const routeName = `${svc.hostname}:${p.port}`;
      const scope: RouteScope = { port: p.port, gateway: MESH_GATEWAY, proxyLabels: s.labels, proxyNamespace: s.namespace, push: s.push };
      const vh = virtualHost(svc, p.port, scope, s.namespace);
      // gRPC has no retries by default and no CORS; keep Istio's route otherwise.
      for (const r of vh.routes as Json[]) if (r.route && (r.route as Json).retryPolicy && JSON.stringify((r.route as Json).retryPolicy) === JSON.stringify(defaultRetryPolicy())) delete (r.route as Json).retryPolicy;
      for (const r of vh.routes as Json[]) if (r.typedPerFilterConfig) delete (r.typedPerFilterConfig as Json)['envoy.filters.http.cors'];
      routes.push({ name: routeName, virtualHosts: [{ ...vh, domains: ['*'] }] });
      const names = new Set(domainsFor(svc, p.port, s.namespace).filter((d) => d.endsWith(`:${p.port}`)));
      for (const name of names) listeners.push({ name, apiListener: { apiListener: hcm(name, { rds: routeName }, 'grpc') } });
    }
  }
  return { listeners, routes };
}

