// HTTP/1.1 connection pool for one host: node:http keep-alive Agent, with cluster-wide connection limits and stale-socket recovery.

import http from 'node:http';
import type net from 'node:net';
import type { ResetReason } from '../errors.js';
import { connectTcp, ConnectTimeoutError, isConnectError } from './connect.js';
import type { HostPool, PoolEvents, UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from './pool.js';

const kRequests = Symbol('requests on this connection');
const kIdleHint = Symbol('idle timeout the server announced');
type CountedSocket = net.Socket & { [kRequests]?: number; [kIdleHint]?: number };

export interface Http1PoolOptions {
  address: string;
  port: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  /** TLS to the upstream (mTLS between sidecars): options for each new connection, so rotated certificates apply. */
  tls?: () => import('node:tls').ConnectionOptions;
}

class PoolAgent extends http.Agent {
  constructor(private readonly pool: Http1Pool, idleTimeoutMs: number) {
    // LIFO keeps a few busy sockets warm rather than spreading load over many; the timeout closes idle sockets.
    super({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo', timeout: idleTimeoutMs });
  }
  override createConnection(): net.Socket {
    return this.pool.openConnection();
  }
}

export class Http1Pool implements HostPool {
  readonly protocol = 'http1' as const;
  connections = 0;
  private readonly agent: PoolAgent;
  private draining = false;

  constructor(private readonly opts: Http1PoolOptions, private readonly events: PoolEvents) {
    this.agent = new PoolAgent(this, opts.idleTimeoutMs);
    // The Agent's own 'free' listener (registered first) has already parked the socket: queued requests can take it.
    this.agent.on('free', (socket: CountedSocket) => {
      // A server that announced a shorter keep-alive (Node's "Keep-Alive: timeout=5") is left a second early.
      const hint = socket[kIdleHint];
      if (hint !== undefined && !socket.destroyed) socket.setTimeout(hint);
      this.events.onCapacity();
    });
  }

  openConnection(): net.Socket {
    const socket = connectTcp(this.opts.address, this.opts.port, this.opts.connectTimeoutMs, false, this.opts.tls?.());
    this.connections++;
    this.events.onConnectionOpen();
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) this.events.onConnectFailure(err instanceof ConnectTimeoutError);
    });
    socket.once('close', () => {
      this.connections--;
      this.events.onBytes(socket.bytesRead, socket.bytesWritten);
      this.events.onConnectionClose();
      this.events.onCapacity();
    });
    return socket;
  }

  private freeSockets(): number {
    let n = 0;
    for (const list of Object.values(this.agent.freeSockets)) n += list?.length ?? 0;
    return n;
  }

  hasCapacity(): boolean {
    // Envoy opens a connection even past max_connections when the pool has none, so requests never wait forever.
    return this.freeSockets() > 0 || this.events.canOpenConnection() || this.connections === 0;
  }

  request(spec: UpstreamRequestSpec, handler: UpstreamHandler): void {
    new Http1Exchange(this, spec, handler).start(false);
  }

  createRequest(spec: UpstreamRequestSpec): http.ClientRequest {
    spec.headers.host = spec.authority;
    return http.request({
      agent: this.agent,
      host: this.opts.address,
      port: this.opts.port,
      method: spec.method,
      path: spec.path,
      headers: spec.headers as http.OutgoingHttpHeaders,
      setHost: false,
    });
  }

  get idleTimeoutMs(): number {
    return this.opts.idleTimeoutMs;
  }

  countRequest(socket: CountedSocket, req: http.ClientRequest): void {
    const n = (socket[kRequests] ?? 0) + 1;
    socket[kRequests] = n;
    if (this.draining || (this.opts.maxRequestsPerConnection > 0 && n >= this.opts.maxRequestsPerConnection)) req.shouldKeepAlive = false;
  }

  drain(): void {
    this.draining = true;
    this.agent.maxFreeSockets = 0;
    for (const list of Object.values(this.agent.freeSockets)) for (const s of list ?? []) s.destroy();
  }

  destroy(): void {
    this.draining = true;
    this.agent.destroy();
  }
}

/** One request/response over a pooled HTTP/1.1 connection. */
class Http1Exchange implements UpstreamStream {
  private req!: http.ClientRequest;
  private res: http.IncomingMessage | undefined;
  private connected = false;
  private done = false;

  constructor(private readonly pool: Http1Pool, private readonly spec: UpstreamRequestSpec, private readonly handler: UpstreamHandler) {}

  start(isStaleRetry: boolean): void {
    let req: http.ClientRequest;
    try {
      req = this.pool.createRequest(this.spec);
    } catch (err) {
      // invalid header values and the like: nothing was sent
      this.done = true;
      this.handler.onError('local_reset', err as Error, false);
      return;
    }
    this.req = req;
    req.on('socket', (socket: CountedSocket) => {
      this.pool.countRequest(socket, req);
      if (socket.connecting) socket.once('connect', () => (this.connected = true));
      else this.connected = true;
    });
    req.on('response', (res) => this.onResponse(res));
    req.on('error', (err: NodeJS.ErrnoException) => this.onRequestError(err, isStaleRetry));
    this.handler.onStart(this);
  }

  private onResponse(res: http.IncomingMessage): void {
    if (this.done) {
      res.resume();
      return;
    }
    this.res = res;
    const handler = this.handler;
    const socket = res.socket as CountedSocket | null;
    if (socket && socket[kIdleHint] === undefined) {
      const ka = res.headers['keep-alive'];
      const m = typeof ka === 'string' ? /timeout=(\d+)/.exec(ka) : null;
      socket[kIdleHint] = m ? Math.max(500, Math.min(this.pool.idleTimeoutMs, Number(m[1]) * 1000 - 1000)) : this.pool.idleTimeoutMs;
    }
    const status = res.statusCode ?? 502;
    const empty = res.headers['content-length'] === '0' || status === 204 || status === 304 || this.spec.method === 'HEAD';
    handler.onResponse(status, res.headers, empty);
    if (this.done) return;
    res.on('data', (chunk: Buffer) => {
      if (!this.done) handler.onData(chunk);
    });
    res.on('end', () => {
      if (this.done) return;
      this.done = true;
      handler.onEnd(res.rawTrailers.length ? res.trailers : undefined);
    });
    res.on('close', () => {
      if (this.done) return;
      this.done = true;
      handler.onError('connection_termination', undefined, true);
    });
  }

  private onRequestError(err: NodeJS.ErrnoException, isStaleRetry: boolean): void {
    if (this.done) return;
    const afterResponse = this.res !== undefined;
    // A kept-alive socket the server closed while idle: resend once on a fresh connection when nothing can be lost.
    if (!afterResponse && !isStaleRetry && this.req.reusedSocket && !this.spec.hasBody && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up')) {
      this.start(true);
      return;
    }
    this.done = true;
    let reason: ResetReason;
    if (!this.connected || isConnectError(err)) reason = this.connected ? 'connection_termination' : 'connection_failure';
    else reason = 'connection_termination';
    this.handler.onError(reason, err, afterResponse);
  }

  write(chunk: Buffer): boolean {
    return this.req.write(chunk);
  }

  end(): void {
    this.req.end();
  }

  onceDrain(cb: () => void): void {
    this.req.once('drain', cb);
  }

  pauseResponse(): void {
    this.res?.pause();
  }

  resumeResponse(): void {
    this.res?.resume();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.req.destroy();
  }
}
