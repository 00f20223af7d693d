// A request the proxy makes on its own behalf (an ext_authz check, later rate limits or JWKS): sent to a cluster of
// the current snapshot through the same host choice, circuit breakers, pools and upstream TLS as routed traffic, so
// that an authorization service behind mutual TLS or with several endpoints works without extra configuration.

import type { IncomingHttpHeaders } from 'node:http';
import type { Clock, Timer } from '../../clock.js';
import type { ResetReason } from '../errors.js';
import type { ProxyRuntime } from '../runtime.js';
import type { UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from './pool.js';
import { OVERFLOW, type UpstreamRequestHandle } from './upstream-cluster.js';
import type { UpstreamHost } from './upstream-host.js';

export interface SideResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** HTTP/2 trailers (gRPC's grpc-status), when the response had them. */
  trailers: IncomingHttpHeaders | undefined;
}

/** Why a side request produced no response: Envoy's reset reasons plus the failures before any connection. */
export type SideFailure = ResetReason | 'cluster_not_found' | 'no_healthy_upstream' | 'overflow' | 'timeout' | 'response_too_large';

export interface SideRequest {
  cluster: string;
  /** 'http2' for gRPC; otherwise the cluster's configured protocol (HTTP/1.1 unless it says HTTP/2). */
  protocol?: 'http1' | 'http2';
  spec: UpstreamRequestSpec;
  body?: Buffer;
  timeoutMs: number;
  /** Responses larger than this fail (a misbehaving service must not make the proxy buffer without bound). */
  maxResponseBytes?: number;
}

export type SideCallback = (failure: SideFailure | undefined, response: SideResponse | undefined) => void;

/** Cancels the request; the callback is not called afterwards. */
export type CancelSide = () => void;

const DEFAULT_MAX_RESPONSE = 1024 * 1024;

/** Sends one buffered request to a cluster by name; `cb` is called exactly once unless cancelled. */
export function sideRequest(runtime: ProxyRuntime, req: SideRequest, cb: SideCallback): CancelSide {
  const cluster = runtime.cluster(req.cluster);
  if (!cluster) return failNow(cb, 'cluster_not_found');
  const host = cluster.chooseHost(undefined);
  if (!host) return failNow(cb, 'no_healthy_upstream');
  const configured = cluster.config.protocol;
  const protocol = req.protocol ?? (configured === 'http2' ? 'http2' : 'http1');
  const exchange = new SideExchange(req, host, cb, (status) => cluster.reportHttpStatus(host, status), (r) => cluster.reportLocalOrigin(host, r), runtime.clock);
  const handle = cluster.dispatch(host, protocol, req.spec, exchange);
  if (handle === OVERFLOW) return failNow(cb, 'overflow');
  exchange.started(handle);
  return () => exchange.cancel();
}

/** Failures found before dispatch still answer asynchronously, as a network failure would. */
function failNow(cb: SideCallback, failure: SideFailure): CancelSide {
  let cancelled = false;
  queueMicrotask(() => {
    if (!cancelled) cb(failure, undefined);
  });
  return () => {
    cancelled = true;
  };
}

/** Collects one response in memory, with a deadline covering connection, request and response. */
class SideExchange implements UpstreamHandler {
  private handle: UpstreamRequestHandle | undefined;
  private timer: Timer | undefined;
  private done = false;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly req: SideRequest,
    private readonly host: UpstreamHost,
    private readonly cb: SideCallback,
    private readonly reportStatus: (status: number) => void,
    private readonly reportLocal: (r: 'connect_failed' | 'request_failed' | 'timeout') => void,
    private readonly clock: Clock,
  ) {}

  started(handle: UpstreamRequestHandle): void {
    this.handle = handle;
    if (this.done) return;
    this.timer = this.clock.setTimeout(() => this.onTimeout(), Math.max(1, this.req.timeoutMs));
  }

  onStart(stream: UpstreamStream): void {
    if (this.req.body?.length) stream.write(this.req.body);
    stream.end();
  }

  onResponse(status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
    this.reportStatus(status);
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    this.size += chunk.length;
    if (this.size > (this.req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE)) {
      this.handle?.abort();
      this.finish('response_too_large', undefined);
      return;
    }
    this.chunks.push(chunk);
  }

  onEnd(trailers: IncomingHttpHeaders | undefined): void {
    this.finish(undefined, { status: this.status, headers: this.headers, body: Buffer.concat(this.chunks), trailers });
  }

  onError(reason: ResetReason): void {
    this.reportLocal(reason === 'connection_failure' ? 'connect_failed' : 'request_failed');
    this.finish(reason, undefined);
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.done) return;
    this.host.rqTimeout++;
    this.reportLocal('timeout');
    this.handle?.abort();
    this.finish('timeout', undefined);
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.handle?.abort();
  }

  private finish(failure: SideFailure | undefined, response: SideResponse | undefined): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.cb(failure, response);
  }
}
