// Istio's xDS names, which users see in `proxy-config` and metrics. Translation carries structured keys (which
// service, port and subset a cluster is for) and turns them into names only here, at the edge; nothing parses them back.

/** An outbound cluster: one service port and DestinationRule subset (`''` for the whole service). */
export interface OutboundClusterKey {
  readonly port: number;
  readonly subset: string;
  readonly host: string;
}

/** `outbound|<port>|<subset>|<fqdn>`. */
export const outboundClusterName = (k: OutboundClusterKey): string => `outbound|${k.port}|${k.subset}|${k.host}`;
/** `outbound_.<port>_.<subset>_.<fqdn>`: the SNI a client sends to an Istio mutual TLS server. */
export const outboundSni = (k: OutboundClusterKey): string => `outbound_.${k.port}_.${k.subset}_.${k.host}`;
/** `inbound|<port>||`: the proxy's own app on one port. */
export const inboundClusterName = (port: number): string => `inbound|${port}||`;
export const BLACKHOLE = 'BlackHoleCluster';
export const PASSTHROUGH = 'PassthroughCluster';

/** The outbound listener a sidecar has per HTTP port (not bound: virtualOutbound hands connections to it). */
export const outboundHttpListenerName = (port: number): string => `0.0.0.0_${port}`;
/** The outbound listener for a TCP service port, on the service's address. */
export const outboundTcpListenerName = (address: string, port: number): string => `${address}_${port}`;
export const VIRTUAL_OUTBOUND = 'virtualOutbound';
export const VIRTUAL_INBOUND = 'virtualInbound';
/** What a captured inbound connection to a port no service declares goes to: `InboundPassthroughClusterIpv4` / `…Ipv6`. */
export const inboundPassthroughName = (bind: string): string => (bind.includes(':') ? 'InboundPassthroughClusterIpv6' : 'InboundPassthroughClusterIpv4');
/** An inbound listener: the pod's address and a port of its app. */
export const inboundListenerName = (address: string, port: number): string => `${address}_${port}`;

/** A gateway's route configuration for its plain HTTP servers (listeners) on one port: `http.<port>`. */
export const gatewayHttpRouteName = (port: number): string => `http.${port}`;
/** A gateway's route configuration for one HTTPS server (listener): `https.<port>.<portName>.<gateway>.<namespace>`. */
export const gatewayHttpsRouteName = (port: number, portName: string, gateway: string, namespace: string): string => `https.${port}.${portName}.${gateway}.${namespace}`;
/** A virtual host: `<host>:<port>`. */
export const virtualHostName = (host: string, port: number): string => `${host}:${port}`;
/**
 * The cluster a Gateway API backend that cannot be used (missing, not permitted, of an unknown kind) is routed to: it
 * never exists, so its share of requests gets the route's cluster-not-found reply, which Gateway API routes set to 500.
 */
export const INVALID_BACKEND = 'InvalidBackendCluster';

/** `/apis/gateway.networking.k8s.io/v1/namespaces/<ns>/<kind>/<name>`: the Gateway API object a route came from. */
export function gatewayApiConfigPath(kind: string, namespace: string, name: string): string {
  return `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/${kind.toLowerCase()}/${name}`;
}

/** `/apis/networking.istio.io/v1/namespaces/<ns>/<kind>/<name>`: how Istio tags xDS with the config it came from. */
export function istioConfigPath(kind: 'virtual-service' | 'destination-rule' | 'sidecar' | 'gateway', namespace: string, name: string): string {
  return `/apis/networking.istio.io/v1/namespaces/${namespace}/${kind}/${name}`;
}

/** A workload's WDS uid, Istio's `<cluster>/<group>/<kind>/<namespace>/<name>` (a pod: `Kubernetes//Pod/default/x`). */
export function workloadUid(w: { origin: 'Pod' | 'WorkloadEntry' | 'Local'; namespace: string; name: string }, cluster = 'Kubernetes'): string {
  const [group, kind] = w.origin === 'WorkloadEntry' ? ['networking.istio.io', 'WorkloadEntry'] : ['', 'Pod'];
  return `${cluster}/${group}/${kind}/${w.namespace}/${w.name}`;
}

/** A service's WDS key and a workload's `services` map key: `<namespace>/<hostname>`. */
export const namespacedHostname = (namespace: string, hostname: string): string => `${namespace}/${hostname}`;

/** An AuthorizationPolicy's WDS key (`<namespace>/<name>`), as workloads list the selector-based ones that apply to them. */
export const authorizationKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Istio's HBONE plumbing in a proxy: the listener that terminates HBONE, the internal listener behind it, the originator. */
export const CONNECT_TERMINATE = 'connect_terminate';
export const MAIN_INTERNAL = 'main_internal';
export const CONNECT_ORIGINATE = 'connect_originate';
