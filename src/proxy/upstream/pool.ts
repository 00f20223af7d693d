// The upstream connection pool contract: one request/response exchange driven through callbacks (undici-style handler).

import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap } from '../config/header-mutation.js';
import type { ResetReason } from '../errors.js';

export interface UpstreamRequestSpec {
  method: string;
  /** :path with query */
  path: string;
  /** :authority (the Host header for HTTP/1.1) */
  authority: string;
  /** Request headers without hop-by-hop, pseudo or host headers. */
  headers: HeaderMap;
  /** False when the request has no body: the request ends with its headers. */
  hasBody: boolean;
}

/** The pool calls these in order: onStart, then onResponse → onData* → onEnd, or onError at any point. */
export interface UpstreamHandler {
  /** A connection (or HTTP/2 stream) is assigned; write the body now. */
  onStart(stream: UpstreamStream): void;
  /** `endStream`: the response has no body (HTTP/2 END_STREAM on headers, or content-length 0), e.g. gRPC trailers-only. */
  onResponse(status: number, headers: IncomingHttpHeaders, endStream: boolean): void;
  onData(chunk: Buffer): void;
  onEnd(trailers: IncomingHttpHeaders | undefined): void;
  /** The exchange failed; `afterResponse` tells whether response headers had been delivered. */
  onError(reason: ResetReason, err: Error | undefined, afterResponse: boolean): void;
}

export interface UpstreamStream {
  write(chunk: Buffer): boolean;
  end(): void;
  /** Calls `cb` once the request side can take more data. */
  onceDrain(cb: () => void): void;
  pauseResponse(): void;
  resumeResponse(): void;
  /** Resets the exchange (no more callbacks are delivered). */
  abort(): void;
}

export interface HostPool {
  readonly protocol: 'http1' | 'http2';
  /** True when a request can start now without waiting for a connection. */
  hasCapacity(): boolean;
  request(spec: UpstreamRequestSpec, handler: UpstreamHandler): void;
  /** Open connections (connecting, busy or idle). */
  readonly connections: number;
  /** Closes idle connections now and busy ones when their requests finish. */
  drain(): void;
  destroy(): void;
}

/** Callbacks a pool uses to report connection events to its cluster (connection counting, stats, queued requests). */
export interface PoolEvents {
  onConnectionOpen(): void;
  onConnectionClose(): void;
  onConnectFailure(timedOut: boolean): void;
  /** A connection became free (or closed): queued requests may go now. */
  onCapacity(): void;
  /** May a new connection be opened (cluster-wide max_connections)? */
  canOpenConnection(): boolean;
  onBytes(rx: number, tx: number): void;
}
