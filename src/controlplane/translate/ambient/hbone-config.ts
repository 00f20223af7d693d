// Istio's HBONE plumbing as Envoy config, for the proxies that speak HBONE themselves (waypoints, and sidecars beside
// ambient pods): `connect_terminate` on 15008 (mutual TLS, HTTP/2 CONNECT terminated into an internal listener, the
// CONNECT authority as the connection's destination), and `connect_originate` (an internal listener that tunnels each
// connection to its destination's 15008 with the destination as authority), reached through the endpoints of workloads
// that take HBONE, which are rewritten to internal addresses.

import type { Cluster, ClusterLoadAssignment, Listener } from '../../../xds/envoy/index.js';
import { PORTS } from '../../../ports.js';
import { hcmFilter } from '../connection-manager.js';
import { CONNECT_ORIGINATE, CONNECT_TERMINATE, MAIN_INTERNAL } from '../names.js';
import type { PushContext } from '../push-context.js';
import { hboneDownstreamMtls, hboneUpstreamMtls, type MeshTls } from '../security.js';
import { ORIGINAL_DST_METADATA, TYPE, typed } from '../../../xds/envoy/index.js';

const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** A STATIC cluster whose one endpoint is the proxy's internal listener `listener`. */
export function internalListenerCluster(listener: string): Cluster {
  return { name: listener, type: 'STATIC', connectTimeout: '10s', loadAssignment: { clusterName: listener, endpoints: [{ lbEndpoints: [{ endpoint: { address: { envoyInternalAddress: { serverListenerName: listener } } } }] }] } };
}

/**
 * The listener that terminates HBONE on `bind`:15008: the client's certificate is required (it is the source
 * workload's identity), each CONNECT stream goes to `target` (an internal listener, or a bound one such as a
 * sidecar's virtualInbound) as a connection to its authority.
 */
export function connectTerminateListener(bind: string, tls: MeshTls, target: string): Listener {
  const connect = { match: { connectMatcher: {} }, route: { cluster: target, timeout: '0s', upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } };
  const hcm = {
    statPrefix: CONNECT_TERMINATE,
    routeConfig: { name: CONNECT_TERMINATE, virtualHosts: [{ name: CONNECT_TERMINATE, domains: ['*'], routes: [connect] }] },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: typed(TYPE.router, {}) }],
    http2ProtocolOptions: { allowConnect: true },
    upgradeConfigs: [{ upgradeType: 'CONNECT' }],
    streamIdleTimeout: '0s',
  };
  return {
    name: CONNECT_TERMINATE,
    address: { socketAddress: { address: bind, portValue: PORTS.hbone } },
    trafficDirection: 'INBOUND',
    filterChains: [{ transportSocket: hboneDownstreamMtls(tls), filters: [hcmFilter(hcm)] }],
  };
}

/**
 * `connect_originate`: an internal listener whose connections are tunnelled (HTTP/2 CONNECT, the restored destination
 * as authority) to port 15008 of their destination, over the mesh's mutual TLS.
 */
export function connectOriginate(tls: MeshTls): { listener: Listener; cluster: Cluster } {
  const tcp = { statPrefix: CONNECT_ORIGINATE, cluster: CONNECT_ORIGINATE, tunnelingConfig: { hostname: '%DOWNSTREAM_LOCAL_ADDRESS%' } };
  return {
    listener: { name: CONNECT_ORIGINATE, internalListener: {}, filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: typed(TYPE.tcpProxy, tcp) }] }] },
    cluster: {
      name: CONNECT_ORIGINATE,
      type: 'ORIGINAL_DST',
      lbPolicy: 'CLUSTER_PROVIDED',
      connectTimeout: '10s',
      originalDstLbConfig: { upstreamPortOverride: PORTS.hbone },
      transportSocket: hboneUpstreamMtls(tls),
      typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': typed(TYPE.httpProtocolOptions, { explicitHttpConfig: { http2ProtocolOptions: {} } }) },
    },
  };
}

/**
 * The addresses a proxy reaches over HBONE: a waypoint every workload that takes HBONE (ambient pods through their
 * node proxy, waypoints, HBONE sidecars); a sidecar only ambient pods (it reaches other sidecars with Istio's mTLS).
 */
export function hboneTargets(push: PushContext, proxy: 'sidecar' | 'waypoint'): ReadonlySet<string> {
  return push.remember(`ambient-hbone-targets|${proxy}`, () => new Set(push.registry.workloads().filter((w) => w.ambient || (proxy === 'waypoint' && w.hbone)).flatMap((w) => w.addresses ?? [w.address])));
}

/**
 * A sidecar's HBONE inbound (Istio's main_internal on a sidecar): virtualInbound's chains as an internal listener that
 * connect_terminate hands tunnels to. The tunnel's mutual TLS already authenticated the peer (its identity travels with
 * the connection), so each port keeps its plaintext chain, or has its TLS chain without the TLS.
 */
export function sidecarHboneInbound(virtualInbound: Listener): Listener {
  const chains = virtualInbound.filterChains ?? [];
  const plainPorts = new Set(chains.filter((c) => !c.transportSocket).map((c) => c.filterChainMatch?.destinationPort));
  const filterChains = chains.flatMap((c) => {
    if (!c.transportSocket) return [c];
    if (plainPorts.has(c.filterChainMatch?.destinationPort)) return [];
    const { transportProtocol: _t, applicationProtocols: _a, ...match } = c.filterChainMatch ?? {};
    const { transportSocket: _s, ...chain } = c;
    return [{ ...chain, filterChainMatch: match }];
  });
  return { name: MAIN_INTERNAL, internalListener: {}, trafficDirection: 'INBOUND', filterChains };
}

/**
 * A cluster's endpoints with those at HBONE addresses reached through `connect_originate` (the endpoint's address as
 * the destination it tunnels to); the same object when none is.
 */
export function tunnelledEndpoints(cla: ClusterLoadAssignment, hbone: ReadonlySet<string>): ClusterLoadAssignment {
  const tunnelled = (a: string | undefined) => a !== undefined && hbone.has(a);
  if (!(cla.endpoints ?? []).some((l) => (l.lbEndpoints ?? []).some((e) => tunnelled(e.endpoint?.address?.socketAddress?.address)))) return cla;
  return {
    ...cla,
    endpoints: (cla.endpoints ?? []).map((l) => ({
      ...l,
      lbEndpoints: (l.lbEndpoints ?? []).map((e) => {
        const s = e.endpoint?.address?.socketAddress;
        if (!s?.address || !tunnelled(s.address)) return e;
        const local = hostPort(s.address, Number(s.portValue ?? 0));
        return {
          ...e,
          endpoint: { ...e.endpoint, address: { envoyInternalAddress: { serverListenerName: CONNECT_ORIGINATE, endpointId: local } } },
          metadata: { ...e.metadata, filterMetadata: { ...e.metadata?.filterMetadata, [ORIGINAL_DST_METADATA]: { local } } },
        };
      }),
    })),
  };
}
