// A sidecar's outbound listeners for services that are not HTTP: TCP ports get a listener on each service address
// (`<vip>_<port>`, or `0.0.0.0_<port>` for a service without one) whose tcp_proxy follows the VirtualService's `tcp`
// routes; TLS ports get `0.0.0.0_<port>` with a filter chain per SNI name — the VirtualService's `tls` routes by
// `sniHosts`, then each service's own host — so traffic the pod sends is routed as Istio's sidecars route it.

import { matchesLabels } from '../../config/labels.js';
import type { L4MatchAttributes } from '../../config/types/networking.js';
import type { FilterChain, Listener, TypedExtension } from '../../xds/envoy/index.js';
import type { MeshService } from '../registry/service-registry.js';
import { outboundClusterName, outboundTcpListenerName } from './names.js';
import { MESH_GATEWAY, type PushContext } from './push-context.js';
import type { RouteScope } from './routes.js';
import { TLS_INSPECTOR, tcpProxy } from './gateway-tls.js';

export interface L4Scope {
  push: PushContext;
  namespace: string;
  labels: Record<string, string>;
}

/** Does an L4 match (port, source labels and namespace, mesh gateway) apply to this proxy and port? */
function applies(m: L4MatchAttributes | undefined, port: number, s: L4Scope): boolean {
  if (!m) return true;
  if (m.port !== undefined && m.port !== port) return false;
  if (m.sourceLabels && !matchesLabels(m.sourceLabels, s.labels)) return false;
  if (m.sourceNamespace && m.sourceNamespace !== s.namespace) return false;
  return !m.gateways?.length || m.gateways.includes(MESH_GATEWAY);
}

const scopeOf = (s: L4Scope, port: number): RouteScope => ({ port, gateway: MESH_GATEWAY, proxyLabels: s.labels, proxyNamespace: s.namespace, push: s.push, flavour: 'envoy' });

/** The tcp_proxy of one TCP service port: its VirtualService's first applicable `tcp` route, else the service itself. */
export function tcpServiceProxy(s: L4Scope, svc: MeshService, port: number): TypedExtension {
  const own = outboundClusterName({ port, subset: '', host: svc.hostname });
  const bound = s.push.virtualServiceFor(svc.hostname, MESH_GATEWAY, s.namespace);
  const rule = bound?.vs.spec.tcp?.find((r) => r.route?.length && (!r.match?.length || r.match.some((m) => applies(m, port, s))));
  if (!rule || !bound) return tcpProxy(own, [{ destination: { host: svc.hostname, port: { number: port } } }], svc.namespace, scopeOf(s, port));
  return tcpProxy(own, rule.route!, bound.vs.metadata.namespace, scopeOf(s, port));
}

/** TCP service ports: a listener per service address (bindToPort false: captured connections are handed to it). */
export function tcpListeners(s: L4Scope, ports: ReadonlyArray<{ svc: MeshService; port: number }>): Listener[] {
  const out = new Map<string, Listener>();
  for (const { svc, port } of ports) {
    for (const address of svc.addresses.length ? svc.addresses : ['0.0.0.0']) {
      const name = outboundTcpListenerName(address, port);
      // Two services on one address and port: the first keeps it, as in Istio.
      if (out.has(name)) continue;
      out.set(name, { name, address: { socketAddress: { address, portValue: port } }, bindToPort: false, trafficDirection: 'OUTBOUND', filterChains: [{ filters: [tcpServiceProxy(s, svc, port)] }] });
    }
  }
  return [...out.values()];
}

/**
 * TLS service ports: one `0.0.0.0_<port>` listener per port, a chain per SNI name. VirtualService `tls` routes (their
 * `sniHosts`) come first; every service on the port is then reached by its own host name.
 */
export function tlsListeners(s: L4Scope, ports: ReadonlyArray<{ svc: MeshService; port: number }>): Listener[] {
  const byPort = new Map<number, MeshService[]>();
  for (const { svc, port } of ports) byPort.set(port, [...(byPort.get(port) ?? []), svc]);
  const listeners: Listener[] = [];
  for (const [port, services] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const chains: FilterChain[] = [];
    const named = new Set<string>();
    for (const svc of services) {
      const bound = s.push.virtualServiceFor(svc.hostname, MESH_GATEWAY, s.namespace);
      for (const rule of bound?.vs.spec.tls ?? []) {
        if (!rule.route?.length) continue;
        for (const m of rule.match ?? []) {
          if (!applies(m, port, s)) continue;
          const sni = (m.sniHosts ?? []).filter((h) => !named.has(h));
          if (!sni.length) continue;
          sni.forEach((h) => named.add(h));
          chains.push({ name: `${svc.hostname}:${port}:${sni.join(',')}`, filterChainMatch: { serverNames: sni }, filters: [tcpProxy(`outbound|${port}||${svc.hostname}`, rule.route, bound!.vs.metadata.namespace, scopeOf(s, port))] });
        }
      }
    }
    for (const svc of services) {
      if (named.has(svc.hostname)) continue;
      named.add(svc.hostname);
      const own = outboundClusterName({ port, subset: '', host: svc.hostname });
      chains.push({ name: own, filterChainMatch: { serverNames: [svc.hostname] }, filters: [tcpProxy(own, [{ destination: { host: svc.hostname, port: { number: port } } }], svc.namespace, scopeOf(s, port))] });
    }
    listeners.push({ name: `0.0.0.0_${port}`, address: { socketAddress: { address: '0.0.0.0', portValue: port } }, bindToPort: false, trafficDirection: 'OUTBOUND', filterChains: chains, listenerFilters: [TLS_INSPECTOR] });
  }
  return listeners;
}
