// A deployed Gateway's proxy configuration: one Envoy listener per port its usable listeners declare, on the proxy's
// own address. HTTP listeners share the `http.<port>` routes; each HTTPS listener terminates TLS in a filter chain chosen
// by SNI (its hostname) with its own routes; TLS listeners pass through by SNI (TLSRoute hostnames) or terminate, and
// TCP listeners forward, both with tcp_proxy to the route's weighted backends.

import type { L4RouteSpec } from '../../../config/types/gateway-api.js';
import type { FilterChain, Listener, RouteConfiguration, TypedExtension } from '../../../xds/envoy/index.js';
import { TYPE, typed } from '../../../xds/envoy/index.js';
import type { HcmTelemetry } from '../../../telemetry/telemetry-api.js';
import { gatewayConnectionManager } from '../connection-manager.js';
import { serverNameMatch, TLS_INSPECTOR } from '../gateway-tls.js';
import { gatewayHttpRouteName, gatewayHttpsRouteName, INVALID_BACKEND, outboundClusterName, outboundHttpListenerName } from '../names.js';
import type { PushContext } from '../push-context.js';
import { gatewayApiDownstreamTls } from '../security.js';
import type { RouteModel } from './gateway-api-index.js';
import type { ListenerModel } from './gateways.js';
import { listenerVirtualHosts } from './virtual-hosts.js';

/** The gateway proxy being configured: Gateways select it by namespace and gateway-name label; it binds its own address. */
export interface GatewayApiProxy {
  namespace: string;
  labels: Record<string, string>;
  bindAddress: string;
}

export interface GatewayApiConfig {
  listeners: Listener[];
  routes: RouteConfiguration[];
  /** SDS names of the listeners' certificates. */
  secrets: string[];
}

/** tcp_proxy to a TLSRoute's or TCPRoute's backends (weighted when several; an unusable one refuses its share). */
function tcpProxy(statPrefix: string, route: RouteModel): TypedExtension {
  const refs = (route.resource.spec as L4RouteSpec).rules?.[0]?.backendRefs ?? [];
  const clusters = refs
    .map((ref) => {
      const b = route.backends.get(ref);
      return { name: b?.ok ? outboundClusterName(b.key) : INVALID_BACKEND, weight: ref.weight ?? 1 };
    })
    .filter((c) => c.weight > 0);
  const target = clusters.length === 1 ? { cluster: clusters[0]!.name } : clusters.length ? { weightedClusters: { clusters } } : { cluster: INVALID_BACKEND };
  return { name: 'envoy.filters.network.tcp_proxy', typedConfig: typed(TYPE.tcpProxy, { statPrefix, ...target }) };
}

/** The first route of `kinds` on a listener (routes are in precedence order: the oldest wins the port). */
function firstRoute(push: PushContext, l: ListenerModel, kinds: readonly string[]): RouteModel | undefined {
  return push.gatewayApi.routesOn(l).find((r) => kinds.includes(r.route.kind))?.route;
}

/** Filter chains of one port's TLS-family listeners (HTTPS, TLS passthrough and terminate), each claiming its SNI names once. */
function tlsChains(push: PushContext, proxy: GatewayApiProxy, port: number, listeners: readonly ListenerModel[], telemetry: HcmTelemetry, out: GatewayApiConfig): FilterChain[] {
  const chains: FilterChain[] = [];
  const claimed = new Set<string>();
  const claim = (names: readonly string[]): string[] | undefined => {
    const key = names.includes('*') || !names.length ? '*' : undefined;
    const fresh = key ? (claimed.has('*') ? [] : ['*']) : names.filter((n) => !claimed.has(n));
    if (!fresh.length) return undefined;
    for (const n of fresh) claimed.add(n);
    return fresh;
  };
  const stat = `outbound_0.0.0.0_${port}`;
  for (const l of listeners) {
    const gw = l.gateway;
    if (l.protocol === 'HTTPS') {
      const names = claim([l.hostname ?? '*']);
      if (!names) continue;
      const routeName = gatewayHttpsRouteName(port, l.name, gw.name, gw.namespace);
      out.routes.push({ name: routeName, virtualHosts: listenerVirtualHosts(push, [l], listeners.filter((x) => x.protocol === 'HTTPS'), { port, scheme: 'https', flavour: 'envoy' }), validateClusters: false, ignorePortInHostMatching: true });
      out.secrets.push(...l.certificates);
      chains.push({ name: routeName, filterChainMatch: serverNameMatch(names), transportSocket: gatewayApiDownstreamTls(l.certificates, ['h2', 'http/1.1']), filters: [gatewayConnectionManager(push, proxy, port, routeName, telemetry)] });
    } else if (l.tlsMode === 'Passthrough') {
      for (const { route, hostnames } of push.gatewayApi.routesOn(l)) {
        if (route.kind !== 'TLSRoute') continue;
        const names = claim(hostnames);
        if (!names) continue;
        chains.push({ name: `${gw.namespace}/${gw.name}/${l.name}/${route.resource.metadata.namespace}/${route.resource.metadata.name}`, filterChainMatch: serverNameMatch(names), filters: [tcpProxy(stat, route)] });
      }
    } else {
      const route = firstRoute(push, l, ['TLSRoute', 'TCPRoute']);
      const names = route && claim([l.hostname ?? '*']);
      if (!route || !names) continue;
      out.secrets.push(...l.certificates);
      chains.push({ name: `${gw.namespace}/${gw.name}/${l.name}`, filterChainMatch: serverNameMatch(names), transportSocket: gatewayApiDownstreamTls(l.certificates, []), filters: [tcpProxy(stat, route)] });
    }
  }
  return chains;
}

/** The listeners, routes and certificates of the Gateways a gateway proxy serves (Istio's automated deployment). */
export function gatewayApiListeners(push: PushContext, proxy: GatewayApiProxy, telemetry: HcmTelemetry): GatewayApiConfig {
  const out: GatewayApiConfig = { listeners: [], routes: [], secrets: [] };
  for (const gw of push.gatewayApi.gatewaysForProxy(proxy.namespace, proxy.labels)) {
    const byPort = new Map<number, ListenerModel[]>();
    for (const l of gw.listeners) if (l.usable) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
    for (const [port, listeners] of [...byPort].sort((a, b) => a[0] - b[0])) {
      const protocol = listeners[0]!.protocol;
      let chains: FilterChain[];
      if (protocol === 'HTTP') {
        const routeName = gatewayHttpRouteName(port);
        out.routes.push({ name: routeName, virtualHosts: listenerVirtualHosts(push, listeners, listeners, { port, scheme: 'http', flavour: 'envoy' }), validateClusters: false, ignorePortInHostMatching: true });
        chains = [{ filters: [gatewayConnectionManager(push, proxy, port, routeName, telemetry)] }];
      } else if (protocol === 'TCP') {
        const route = firstRoute(push, listeners[0]!, ['TCPRoute']);
        chains = route ? [{ filters: [tcpProxy(`outbound_0.0.0.0_${port}`, route)] }] : [];
      } else {
        chains = tlsChains(push, proxy, port, listeners, telemetry, out);
      }
      // A TLS or TCP port with no route yet has nothing to forward to: like Istio, no listener until a route attaches.
      if (!chains.length) continue;
      out.listeners.push({
        name: outboundHttpListenerName(port),
        address: { socketAddress: { address: proxy.bindAddress, portValue: port } },
        trafficDirection: 'OUTBOUND',
        filterChains: chains,
        ...(chains.some((c) => c.filterChainMatch?.serverNames || c.transportSocket) ? { listenerFilters: [TLS_INSPECTOR] } : {}),
      });
    }
  }
  return out;
}
