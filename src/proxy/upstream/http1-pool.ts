// HTTP/1.1 connection pool for one host on raw sockets: LIFO keep-alive reuse, one write per request head (with a
// small body), an incremental response parser, cluster-wide connection limits and stale-socket recovery.

import type { IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';
import type { ResetReason } from '../errors.js';
import { ChunkedDecoder, chunkHeader, contentLength, headEnd, headPlusBody, parseHead, serializeHeaders } from '../http/h1-codec.js';
import { addSweep } from '../sweeper.js';
import { connectTcp, ConnectTimeoutError, isConnectError } from './connect.js';
import type { HostPool, PoolEvents, UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from './pool.js';

export interface Http1PoolOptions {
  address: string;
  port: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  /** TLS to the upstream (mTLS between sidecars): options for each new connection, so rotated certificates apply. */
  tls?: () => import('node:tls').ConnectionOptions;
  /** The cluster's upstreamBindConfig source address. */
  localAddress?: string;
  /** Opens the connection another way (an internal listener); it emits `connect` when usable. */
  dial?: () => import('node:net').Socket;
}

/** Largest response header block accepted (node:http's default is 16 KiB). */
const MAX_HEAD = 64 * 1024;
/** Bodies up to this size go out in the same write as the request head. */
const COALESCE_MAX = 16 * 1024;
/** Methods whose bodyless requests carry no Content-Length (node:http's useChunkedEncodingByDefault = false). */
/** node:http's check on request paths (ERR_UNESCAPED_CHARACTERS). */
const INVALID_PATH = /[^\u0021-\u00ff]/;
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

class ProtocolError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE';
}

const enum Body {
  None,
  Length,
  Chunked,
  Close,
}

/** One upstream connection; carries at most one exchange at a time. */
class Conn {
  exchange: Http1Exchange | undefined;
  requests = 0;
  connected = false;
  /** Bytes of a response head not complete yet. */
  private pending: Buffer | undefined;
  private body = Body.None;
  private remaining = 0;
  private chunked: ChunkedDecoder | undefined;
  private keepAlive = false;
  private inBody = false;
  idleSince = 0;
  /** Idle timeout for this connection (shorter when the server announced "Keep-Alive: timeout="). */
  idleTimeoutMs: number;
  idleHinted = false;
  closed = false;

  constructor(readonly pool: Http1Pool, readonly socket: net.Socket) {
    this.idleTimeoutMs = pool.idleTimeoutMs;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    const ex = this.exchange;
    if (!ex) {
      // bytes on an idle connection: the server is not speaking HTTP/1.1 to us any more
      this.socket.destroy();
      return;
    }
    ex.gotBytes = true;
    let buf = chunk;
    let i = 0;
    while (i < buf.length) {
      if (!this.inBody) {
        if (this.pending) {
          buf = Buffer.concat([this.pending, buf.subarray(i)]);
          i = 0;
          this.pending = undefined;
        }
        const end = headEnd(buf, i);
        if (end < 0) {
          if (buf.length - i > MAX_HEAD) return this.fail(new ProtocolError('response headers too large'));
          this.pending = i === 0 ? buf : buf.subarray(i);
          return;
        }
        const head = parseHead(buf, i, end, false);
        i = end;
        if (!head) return this.fail(new ProtocolError('invalid response head'));
        if (head.status < 200) {
          if (head.status === 101) return this.fail(new ProtocolError('unexpected upgrade'));
          continue; // 100 Continue, 103 Early Hints: the real response follows
        }
        const h = head.headers;
        const conn = h.connection;
        const closeTok = typeof conn === 'string' && /(^|,)\s*close\s*(,|$)/i.test(conn);
        this.keepAlive = head.versionMinor >= 1 ? !closeTok : typeof conn === 'string' && /keep-alive/i.test(conn);
        if (!this.idleHinted) {
          this.idleHinted = true;
          const ka = h['keep-alive'];
          const m = typeof ka === 'string' ? /timeout=(\d+)/.exec(ka) : null;
          if (m) this.idleTimeoutMs = Math.max(500, Math.min(this.pool.idleTimeoutMs, Number(m[1]) * 1000 - 1000));
        }
        const te = h['transfer-encoding'];
        const cl = contentLength(h['content-length']);
        if (ex.method === 'HEAD' || head.status === 204 || head.status === 304) this.body = Body.None;
        else if (te !== undefined) {
          if (typeof te !== 'string' || !/(^|,)\s*chunked\s*$/i.test(te)) return this.fail(new ProtocolError('unsupported transfer-encoding'));
          this.body = Body.Chunked;
          this.chunked = new ChunkedDecoder();
        } else if (cl >= 0) {
          this.body = cl === 0 ? Body.None : Body.Length;
          this.remaining = cl;
        } else if (cl === -2) return this.fail(new ProtocolError('invalid content-length'));
        else {
          this.body = Body.Close;
          this.keepAlive = false;
        }
        if (!this.keepAlive) ex.keepAlive = false;
        this.inBody = true;
        if (!ex.response(head.status, h, this.body === Body.None || h['content-length'] === '0')) return;
        if (this.body === Body.None) {
          this.inBody = false;
          if (i < buf.length) ex.keepAlive = false; // bytes after a complete response: not reusable
          this.complete(ex, undefined);
          return;
        }
        continue;
      }
      // body
      switch (this.body) {
        case Body.Length: {
          const n = Math.min(this.remaining, buf.length - i);
          const slice = i === 0 && n === buf.length ? buf : buf.subarray(i, i + n);
          i += n;
          this.remaining -= n;
          if (!ex.data(slice)) return;
          if (this.remaining === 0) {
            this.inBody = false;
            if (i < buf.length) ex.keepAlive = false;
            this.complete(ex, undefined);
            return;
          }
          break;
        }
        case Body.Chunked: {
          const dec = this.chunked!;
          let alive = true;
          const next = dec.feed(buf, i, buf.length, (c) => {
            if (alive) alive = ex.data(c);
          });
          if (!alive) return;
          if (next < 0) return this.fail(new ProtocolError('invalid chunked body'));
          i = next;
          if (dec.done) {
            this.inBody = false;
            this.chunked = undefined;
            if (i < buf.length) ex.keepAlive = false;
            this.complete(ex, dec.trailers);
            return;
          }
          break;
        }
        case Body.Close: {
          const slice = i === 0 ? buf : buf.subarray(i);
          i = buf.length;
          if (!ex.data(slice)) return;
          break;
        }
        default:
          i = buf.length;
      }
    }
  }

  /** The server closed its side: ends a close-delimited body, fails anything else in flight. */
  onEnd(): void {
    const ex = this.exchange;
    if (ex && this.inBody && this.body === Body.Close) {
      this.inBody = false;
      ex.keepAlive = false;
      this.complete(ex, undefined);
    }
    this.socket.destroy();
  }

  private complete(ex: Http1Exchange, trailers: IncomingHttpHeaders | undefined): void {
    this.exchange = undefined;
    // a response that came before the whole request was sent leaves the connection in an unknown state
    this.pool.release(this, ex.keepAlive && ex.requestEnded);
    ex.finish(trailers);
  }

  private fail(err: Error): void {
    this.socket.destroy(err);
  }

  /** Starts a response for `ex` on this connection. */
  attach(ex: Http1Exchange): void {
    this.exchange = ex;
    this.requests++;
    this.inBody = false;
    this.pending = undefined;
  }
}

export class Http1Pool implements HostPool {
  readonly protocol = 'http1' as const;
  connections = 0;
  /** Idle connections, most recently used last (LIFO keeps a few busy sockets warm). */
  private readonly idle: Conn[] = [];
  private draining = false;
  private unsweep: (() => void) | undefined;

  constructor(private readonly opts: Http1PoolOptions, private readonly events: PoolEvents) {}

  get idleTimeoutMs(): number {
    return this.opts.idleTimeoutMs;
  }

  private openConnection(): Conn {
    const socket = this.opts.dial ? this.opts.dial() : connectTcp(this.opts.address, this.opts.port, this.opts.connectTimeoutMs, false, this.opts.tls?.(), this.opts.localAddress);
    const conn = new Conn(this, socket);
    this.connections++;
    if (!this.unsweep) this.unsweep = addSweep((now) => this.sweep(now));
    this.events.onConnectionOpen();
    socket.once(this.opts.tls ? 'secureConnect' : 'connect', () => (conn.connected = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!conn.connected) this.events.onConnectFailure(err instanceof ConnectTimeoutError);
      conn.exchange?.socketError(err);
    });
    socket.on('end', () => conn.onEnd());
    socket.once('close', () => {
      conn.closed = true;
      this.connections--;
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
      const ex = conn.exchange;
      conn.exchange = undefined;
      ex?.socketError(undefined);
      if (this.connections === 0 && this.unsweep) {
        this.unsweep();
        this.unsweep = undefined;
      }
      this.events.onBytes(socket.bytesRead, socket.bytesWritten);
      this.events.onConnectionClose();
      this.events.onCapacity();
    });
    return conn;
  }

  private sweep(now: number): void {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const c = this.idle[i]!;
      if (now - c.idleSince >= c.idleTimeoutMs) c.socket.destroy();
    }
  }

  hasCapacity(): boolean {
    // Envoy opens a connection even past max_connections when the pool has none, so requests never wait forever.
    return this.idle.length > 0 || this.events.canOpenConnection() || this.connections === 0;
  }

  request(spec: UpstreamRequestSpec, handler: UpstreamHandler): void {
    new Http1Exchange(this, spec, handler).start(false);
  }

  /** An idle connection (most recent first), or a new one. */
  acquire(fresh: boolean): { conn: Conn; reused: boolean } {
    if (!fresh) {
      const c = this.idle.pop();
      if (c) return { conn: c, reused: true };
    }
    return { conn: this.openConnection(), reused: false };
  }

  /** Whether the request about to go out on `conn` is its last (max_requests_per_connection, draining). */
  lastRequest(conn: Conn): boolean {
    return this.draining || (this.opts.maxRequestsPerConnection > 0 && conn.requests >= this.opts.maxRequestsPerConnection);
  }

  release(conn: Conn, keepAlive: boolean): void {
    if (!keepAlive || this.draining || conn.closed || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    conn.idleSince = Date.now();
    this.idle.push(conn);
    this.events.onCapacity();
  }

  drain(): void {
    this.draining = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }

  destroy(): void {
    this.draining = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }
}

/** One request/response over a pooled HTTP/1.1 connection. */
class Http1Exchange implements UpstreamStream {
  private conn: Conn | undefined;
  private reused = false;
  /** Request head not written yet (it goes out with the first body bytes, or on end()). */
  private head: string | undefined;
  private chunkedReq = false;
  private responded = false;
  private done = false;
  private ended = false;
  get requestEnded(): boolean {
    return this.ended;
  }
  gotBytes = false;
  keepAlive = true;
  readonly method: string;

  constructor(private readonly pool: Http1Pool, private readonly spec: UpstreamRequestSpec, private readonly handler: UpstreamHandler) {
    this.method = spec.method;
  }

  start(isStaleRetry: boolean): void {
    const spec = this.spec;
    const { conn, reused } = this.pool.acquire(isStaleRetry);
    this.conn = conn;
    this.reused = reused;
    conn.attach(this);
    const last = this.pool.lastRequest(conn);
    if (last) this.keepAlive = false;
    const h = spec.headers;
    h.host = spec.authority;
    let head: string;
    try {
      if (INVALID_PATH.test(spec.path)) throw new TypeError('request path contains unescaped characters');
      head = serializeHeaders(h, `${spec.method} ${spec.path} HTTP/1.1\r\n`);
    } catch (err) {
      // invalid header values and the like: nothing was sent
      this.done = true;
      conn.exchange = undefined;
      this.pool.release(conn, true);
      this.handler.onError('local_reset', err as Error, false);
      return;
    }
    if (spec.hasBody) {
      if (h['content-length'] === undefined) {
        this.chunkedReq = true;
        head += 'transfer-encoding: chunked\r\n';
      }
    } else if (!NO_BODY_METHODS.has(spec.method) && h['content-length'] === undefined) {
      head += 'content-length: 0\r\n';
    }
    if (last) head += 'connection: close\r\n';
    this.head = head + '\r\n';
    this.handler.onStart(this);
  }

  // ------------------------------------------------------------ request side

  write(chunk: Buffer): boolean {
    if (this.done || this.ended || !this.conn) return true;
    const socket = this.conn.socket;
    if (chunk.length === 0) return true;
    const head = this.head;
    if (head !== undefined) {
      this.head = undefined;
      if (chunk.length <= COALESCE_MAX) {
        return this.chunkedReq ? socket.write(headPlusBody(head + chunkHeader(chunk.length), chunk, '\r\n')) : socket.write(headPlusBody(head, chunk));
      }
      socket.write(head, 'latin1');
    }
    if (this.chunkedReq) {
      socket.write(chunkHeader(chunk.length), 'latin1');
      socket.write(chunk);
      return socket.write('\r\n', 'latin1');
    }
    return socket.write(chunk);
  }

  end(): void {
    if (this.done || this.ended || !this.conn) return;
    this.ended = true;
    const socket = this.conn.socket;
    const head = this.head;
    this.head = undefined;
    if (head !== undefined) socket.write(this.chunkedReq ? head + '0\r\n\r\n' : head, 'latin1');
    else if (this.chunkedReq) socket.write('0\r\n\r\n', 'latin1');
  }

  onceDrain(cb: () => void): void {
    this.conn?.socket.once('drain', cb);
  }

  // ------------------------------------------------------------ response side (called by Conn)

  /** Response headers; false when the exchange ended during the callback. */
  response(status: number, headers: IncomingHttpHeaders, empty: boolean): boolean {
    if (this.done) return false;
    this.responded = true;
    this.handler.onResponse(status, headers, empty);
    return !this.done;
  }

  data(chunk: Buffer): boolean {
    if (this.done) return false;
    this.handler.onData(chunk);
    return !this.done;
  }

  finish(trailers: IncomingHttpHeaders | undefined): void {
    if (this.done) return;
    this.done = true;
    this.handler.onEnd(trailers);
  }

  socketError(err: NodeJS.ErrnoException | undefined): void {
    if (this.done) return;
    const conn = this.conn!;
    if (conn.exchange === this) conn.exchange = undefined;
    // A kept-alive socket the server closed while idle: resend once on a fresh connection when nothing can be lost.
    if (!this.responded && !this.gotBytes && this.reused && !this.spec.hasBody) {
      this.done = false;
      this.head = undefined;
      this.ended = false;
      this.keepAlive = true;
      conn.socket.destroy();
      this.start(true);
      return;
    }
    this.done = true;
    if (!conn.socket.destroyed) conn.socket.destroy();
    const e = err ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    let reason: ResetReason;
    if (!conn.connected || isConnectError(err)) reason = conn.connected ? 'connection_termination' : 'connection_failure';
    else reason = 'connection_termination';
    this.handler.onError(reason, e, this.responded);
  }

  pauseResponse(): void {
    this.conn?.socket.pause();
  }

  resumeResponse(): void {
    this.conn?.socket.resume();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const conn = this.conn;
    if (!conn) return;
    if (conn.exchange === this) conn.exchange = undefined;
    conn.socket.destroy();
  }
}
