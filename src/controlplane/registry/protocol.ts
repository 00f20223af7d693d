// A port's protocol the way Istio decides it: `appProtocol` first, then the port name's prefix (`http-web`, `grpc`),
// else unknown (Istio sniffs; Trellis treats such ports as TCP except where its proxy sniffs HTTP).

export type Protocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'HTTPS' | 'TLS' | 'TCP' | 'MONGO' | 'REDIS' | 'MYSQL' | 'UDP' | 'UNKNOWN';

const BY_NAME: Record<string, Protocol> = {
  http: 'HTTP', http2: 'HTTP2', grpc: 'GRPC', 'grpc-web': 'GRPC', h2c: 'HTTP2', https: 'HTTPS', tls: 'TLS', tcp: 'TCP',
  mongo: 'MONGO', redis: 'REDIS', mysql: 'MYSQL', udp: 'UDP',
};

/** The protocol of a Kubernetes Service port (`appProtocol`, else name prefix up to the first "-"). */
export function portProtocol(name: string | undefined, appProtocol?: string): Protocol {
  if (appProtocol) {
    const ap = appProtocol.toLowerCase().replace(/^kubernetes\.io\//, '');
    if (ap === 'h2c') return 'HTTP2';
    if (BY_NAME[ap]) return BY_NAME[ap]!;
  }
  if (!name) return 'UNKNOWN';
  const prefix = name.toLowerCase().split('-')[0]!;
  return BY_NAME[prefix] ?? 'UNKNOWN';
}

/** An Istio `protocol` field (ServiceEntry, Gateway): upper-cased names. */
export function istioProtocol(protocol: string | undefined): Protocol {
  const p = (protocol ?? '').toUpperCase();
  return (['HTTP', 'HTTP2', 'GRPC', 'HTTPS', 'TLS', 'TCP', 'MONGO', 'REDIS', 'MYSQL', 'UDP'] as const).find((x) => x === p) ?? (p === 'GRPC-WEB' ? 'GRPC' : 'UNKNOWN');
}

export const isHttp = (p: Protocol) => p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
/** Upstream speaks HTTP/2 (gRPC and http2 ports). */
export const isHttp2 = (p: Protocol) => p === 'HTTP2' || p === 'GRPC';
