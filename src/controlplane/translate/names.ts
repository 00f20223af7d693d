// Istio's xDS names, which users see in `proxy-config` and metrics: clusters, listeners, route configurations, types.

export const outboundCluster = (port: number, subset: string, host: string) => `outbound|${port}|${subset}|${host}`;
export const inboundCluster = (port: number) => `inbound|${port}||`;
export const BLACKHOLE = 'BlackHoleCluster';
export const PASSTHROUGH = 'PassthroughCluster';

/** `/apis/networking.istio.io/v1/namespaces/<ns>/<kind>/<name>`: how Istio tags xDS with the config it came from. */
export function istioConfigPath(kind: 'virtual-service' | 'destination-rule' | 'sidecar' | 'gateway', namespace: string, name: string): string {
  return `/apis/networking.istio.io/v1/namespaces/${namespace}/${kind}/${name}`;
}

export const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
} as const;
