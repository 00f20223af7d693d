// Per-request and per-connection records for access logs and metrics, published through observers and diagnostics channels.

import diagnostics from 'node:diagnostics_channel';

/** One HTTP request as the proxy saw it, handed to observers when the stream completes. */
export interface HttpRequestRecord {
  listener: string;
  statPrefix: string;
  routeName: string;
  virtualHost: string;
  /** Epoch milliseconds when the request headers arrived. */
  startTime: number;
  method: string;
  path: string;
  authority: string;
  protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  requestId: string;
  userAgent: string;
  xForwardedFor: string;
  downstreamRemoteAddress: string;
  downstreamLocalAddress: string;
  /** 0 when no response was sent (the downstream went away first). */
  responseCode: number;
  /** Envoy's %RESPONSE_FLAGS%: "UH,URX" or "-". */
  responseFlags: string;
  responseCodeDetails: string;
  /** From grpc-status in trailers (or trailers-only headers); undefined for non-gRPC. */
  grpcStatus: number | undefined;
  upstreamCluster: string;
  upstreamHost: string;
  upstreamTransportFailureReason: string;
  /** Total time until the response completed, ms. */
  duration: number;
  /** Time from the start to the first upstream response byte, ms (undefined without one). */
  responseDuration: number | undefined;
  /** Time the upstream took for the last attempt, ms. */
  upstreamServiceTime: number | undefined;
  bytesReceived: number;
  bytesSent: number;
  attempts: number;
  /** The request headers as received (for telemetry that reads them, e.g. peer metadata). */
  requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Downstream transport: mutual TLS (a verified client certificate), TLS, or plaintext. */
  connectionSecurity: 'mutual_tls' | 'tls' | 'none';
  /** The downstream peer's SPIFFE identity, from its certificate. */
  peerPrincipal: string | undefined;
  /** The request headers as forwarded upstream, after filters and route edits (trace context, for example). */
  forwardedHeaders: Readonly<Record<string, string | string[] | undefined>>;
  responseHeaders: Readonly<Record<string, string | string[] | undefined>> | undefined;
  websocket: boolean;
}

/** One TCP-proxied connection. */
export interface TcpConnectionRecord {
  listener: string;
  statPrefix: string;
  startTime: number;
  downstreamRemoteAddress: string;
  downstreamLocalAddress: string;
  upstreamCluster: string;
  upstreamHost: string;
  responseFlags: string;
  /** Bytes from downstream to upstream. */
  bytesReceived: number;
  /** Bytes from upstream to downstream. */
  bytesSent: number;
  duration: number;
  connectionTerminationDetails: string;
  /** The downstream's SPIFFE identity when it came over mutual TLS that this proxy terminated (inbound mesh traffic). */
  peerPrincipal?: string;
}

export interface ProxyObserver {
  onHttpRequest?(record: HttpRequestRecord): void;
  onTcpConnection?(record: TcpConnectionRecord): void;
  /** A TCP connection was proxied to an upstream (for opened-connection counters). */
  onTcpOpen?(record: Pick<TcpConnectionRecord, 'listener' | 'upstreamCluster' | 'upstreamHost' | 'downstreamRemoteAddress' | 'peerPrincipal'>): void;
}

/** Stable diagnostics channel names (like undici's), for tools that observe every proxy in the process. */
export const channels = {
  httpRequest: diagnostics.channel('trellis:proxy:http:request'),
  tcpConnection: diagnostics.channel('trellis:proxy:tcp:connection'),
};

export class Observers {
  private readonly list: ProxyObserver[] = [];

  add(o: ProxyObserver): () => void {
    this.list.push(o);
    return () => {
      const i = this.list.indexOf(o);
      if (i >= 0) this.list.splice(i, 1);
    };
  }

  /** True when someone will read HTTP records (the stream skips building one otherwise). */
  get wantsHttp(): boolean {
    return channels.httpRequest.hasSubscribers || this.list.some((o) => o.onHttpRequest);
  }

  http(r: HttpRequestRecord): void {
    for (const o of this.list) {
      try {
        o.onHttpRequest?.(r);
      } catch {
        // an observer's failure must not affect traffic
      }
    }
    if (channels.httpRequest.hasSubscribers) channels.httpRequest.publish(r);
  }

  tcp(r: TcpConnectionRecord): void {
    for (const o of this.list) {
      try {
        o.onTcpConnection?.(r);
      } catch {
        // ignore
      }
    }
    if (channels.tcpConnection.hasSubscribers) channels.tcpConnection.publish(r);
  }

  tcpOpen(r: Pick<TcpConnectionRecord, 'listener' | 'upstreamCluster' | 'upstreamHost' | 'downstreamRemoteAddress' | 'peerPrincipal'>): void {
    for (const o of this.list) {
      try {
        o.onTcpOpen?.(r);
      } catch {
        // ignore
      }
    }
  }
}
