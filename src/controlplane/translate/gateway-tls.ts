// Gateway servers that are not plain HTTP: how their hosts become SNI filter chain matches, and the L4 chains of TLS
// and TCP servers — PASSTHROUGH routed by SNI through VirtualService `tls` routes (`sniHosts`), TLS terminated at the
// gateway (SIMPLE / MUTUAL / ISTIO_MUTUAL) or plain TCP forwarded through `tcp` routes.

import type { RouteDestination, Server } from '../../config/types/networking.js';
import { TYPE, typed, type FilterChain, type FilterChainMatch, type TypedExtension } from '../../xds/envoy/index.js';
import { gatewayHttpsRouteName, outboundClusterName } from './names.js';
import type { PushContext } from './push-context.js';
import { destinationCluster, matchesGateway, type RouteScope } from './routes.js';
import { gatewayDownstreamTls } from './security.js';

/** One server of one Gateway that selects this proxy. */
export interface GatewayServer {
  /** `namespace/name` of the Gateway, as VirtualServices bind to it. */
  gateway: string;
  name: string;
  namespace: string;
  server: Server;
  /** The server's hosts as written (`*`, `ns/host`, `*.example.com`). */
  hosts: string[];
  protocol: string;
}

/** A Gateway server host (`*`, `ns/host`, `*.example.com`) allows a VirtualService host? */
export function gatewayHostAllows(serverHost: string, vsHost: string, vsNamespace: string): boolean {
  const slash = serverHost.indexOf('/');
  const ns = slash >= 0 ? serverHost.slice(0, slash) : '*';
  const host = slash >= 0 ? serverHost.slice(slash + 1) : serverHost;
  if (ns !== '*' && ns !== '.' && ns !== vsNamespace) return false;
  if (host === '*' || host === vsHost) return true;
  if (host.startsWith('*.')) return vsHost.endsWith(host.slice(1)) || vsHost === '*';
  if (vsHost.startsWith('*.')) return host.endsWith(vsHost.slice(1));
  return false;
}

/** The SNI match of a server: its hosts without namespaces; none when it takes every name (`*`). */
export function serverNameMatch(hosts: readonly string[]): FilterChainMatch {
  const names = [...new Set(hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h)))];
  return names.length && !names.includes('*') ? { serverNames: names } : {};
}

/** Does a server terminate TLS and speak HTTP behind it (HTTPS with SIMPLE, MUTUAL or ISTIO_MUTUAL)? */
export function isTerminatedHttps(s: GatewayServer): boolean {
  return s.protocol === 'HTTPS' && !isPassthrough(s);
}

export function isPassthrough(s: GatewayServer): boolean {
  const mode = s.server.tls?.mode;
  return mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
}

/** Istio's route configuration name for an HTTPS server: `https.<port>.<portName>.<gateway>.<namespace>`. */
export function httpsRouteName(s: GatewayServer, port: number): string {
  return gatewayHttpsRouteName(port, s.server.port?.name ?? '', s.name, s.namespace);
}

/** tcp_proxy to a VirtualService route's destinations: one cluster, or weighted clusters (gateways and sidecars). */
export function tcpProxy(statPrefix: string, dests: readonly RouteDestination[], vsNamespace: string, scope: RouteScope): TypedExtension {
  const clusters = dests.map((d) => ({ name: outboundClusterName(destinationCluster(d.destination, vsNamespace, scope)), weight: d.weight ?? 0 }));
  const target = clusters.length === 1 || !clusters.some((c) => c.weight) ? { cluster: clusters[0]!.name } : { weightedClusters: { clusters: clusters.filter((c) => c.weight > 0) } };
  return { name: 'envoy.filters.network.tcp_proxy', typedConfig: typed(TYPE.tcpProxy, { statPrefix, ...target }) };
}

/**
 * Filter chains for the TLS and TCP servers of one port. PASSTHROUGH servers get a chain per `tls` route match, keyed
 * by its `sniHosts` (those the server's hosts allow); terminating TLS servers and TCP servers get one chain that sends
 * the (decrypted) stream to the first `tcp` route bound to the gateway for this port.
 */
export function gatewayL4Chains(push: PushContext, labels: Record<string, string>, namespace: string, port: number, servers: GatewayServer[]): { chains: FilterChain[]; secrets: string[] } {
  const chains: FilterChain[] = [];
  const secrets: string[] = [];
  for (const s of servers) {
    const scope: RouteScope = { port, gateway: s.gateway, proxyLabels: labels, proxyNamespace: namespace, push, flavour: 'envoy' };
    const bound = push.virtualServicesForGateway(s.gateway).filter((b) => (b.vs.spec.hosts ?? []).some((h) => s.hosts.some((sh) => gatewayHostAllows(sh, h, b.vs.metadata.namespace))));
    const applies = (m: { port?: number; gateways?: string[] } | undefined, vsNamespace: string) =>
      (m?.port === undefined || m.port === port) && (!m?.gateways?.length || m.gateways.some((g) => matchesGateway(g, s.gateway, vsNamespace)));
    if (isPassthrough(s)) {
      for (const b of bound) {
        for (const rule of b.vs.spec.tls ?? []) {
          if (!rule.route?.length) continue;
          for (const m of rule.match ?? []) {
            if (!applies(m, b.vs.metadata.namespace)) continue;
            const sni = (m.sniHosts ?? []).filter((h) => s.hosts.some((sh) => gatewayHostAllows(sh, h, b.vs.metadata.namespace)));
            if (!sni.length) continue;
            chains.push({ name: `${s.gateway}:${port}:${sni.join(',')}`, filterChainMatch: serverNameMatch(sni), filters: [tcpProxy(`outbound_0.0.0.0_${port}`, rule.route, b.vs.metadata.namespace, scope)] });
          }
        }
      }
      continue;
    }
    const terminate = s.protocol === 'TLS' ? gatewayDownstreamTls(s.server.tls ?? {}) : undefined;
    for (const b of bound) {
      const rule = (b.vs.spec.tcp ?? []).find((r) => r.route?.length && (!r.match?.length || r.match.some((m) => applies(m, b.vs.metadata.namespace))));
      if (!rule) continue;
      if (terminate) secrets.push(...terminate.secrets);
      chains.push({
        name: `${s.gateway}:${port}`,
        ...(terminate ? { filterChainMatch: serverNameMatch(s.hosts), transportSocket: terminate.socket } : {}),
        filters: [tcpProxy(`outbound_0.0.0.0_${port}`, rule.route!, b.vs.metadata.namespace, scope)],
      });
      break;
    }
  }
  return { chains, secrets };
}

/** Envoy's TLS inspector, which Istio adds wherever chains match on server names. */
export const TLS_INSPECTOR: TypedExtension = { name: 'envoy.filters.listener.tls_inspector', typedConfig: typed(TYPE.tlsInspector, {}) };
