// The downstream HTTP/1.1 fast path: requests parsed on the raw socket and responses written as one Buffer (head and
// a small body together), without node:http's per-request objects. Anything it does not handle (upgrades, CONNECT,
// Expect, HTTP/1.0, odd framing, malformed or oversized heads) hands the connection to node:http from that request on.

import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type net from 'node:net';
import { ChunkedDecoder, chunkHeader, contentLength, headEnd, headPlusBody, parseHead, serializeHeaders } from './h1-codec.js';

/** Bodies up to this size go out in the same write as the response head. */
const COALESCE_MAX = 16 * 1024;
/** Unparsed bytes held (pipelined requests, unread bodies) before the socket stops reading. */
const HIGH_WATER = 64 * 1024;

/** What the fast path needs from its connection manager. */
export interface FastHost {
  readonly maxHeaderBytes: number;
  /** "connection: keep-alive" (and the keep-alive timeout hint) for responses. */
  readonly keepAliveLines: string;
  onFastRequest(conn: Http1ServerConnection, req: FastRequest, res: FastResponse): void;
  onFastRequestDone(res: FastResponse, finished: boolean): void;
  /** Hands the socket to node:http with `pending` unshifted (the request that did not qualify, and what follows). */
  fallback(conn: Http1ServerConnection, pending: Buffer | undefined): void;
}

const enum Body {
  None,
  Length,
  Chunked,
}

/** The request side, shaped like the parts of http.IncomingMessage the proxy uses (headers, body events, pause). */
export class FastRequest extends EventEmitter {
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly httpVersion = '1.1';
  complete = false;
  private queue: Buffer[] | undefined;
  private queued = 0;
  private ended = false;
  private endEmitted = false;
  private flowing = false;
  private scheduled = false;

  constructor(
    private readonly conn: Http1ServerConnection,
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly socket: net.Socket,
  ) {
    super();
  }

  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'data' && !this.flowing) this.resume();
    return this;
  }

  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }

  resume(): this {
    this.flowing = true;
    if ((this.queue || (this.ended && !this.endEmitted)) && !this.scheduled) {
      this.scheduled = true;
      process.nextTick(flush, this);
    }
    this.conn.bodyResumed(this);
    return this;
  }

  pause(): this {
    this.flowing = false;
    this.conn.bodyPaused(this);
    return this;
  }

  isPaused(): boolean {
    return !this.flowing;
  }

  /** @internal body bytes from the codec */
  push(chunk: Buffer): void {
    if (this.flowing && !this.queue && !this.scheduled) {
      this.emit('data', chunk);
      return;
    }
    (this.queue ??= []).push(chunk);
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER) this.conn.bodyPaused(this);
  }

  /** @internal the body is complete */
  pushEnd(): void {
    this.ended = true;
    this.complete = true;
    if (this.flowing && !this.queue && !this.scheduled) {
      this.endEmitted = true;
      this.emit('end');
    }
  }

  /** @internal */
  flushQueued(): void {
    this.scheduled = false;
    while (this.flowing && this.queue) {
      const q = this.queue;
      this.queue = undefined;
      this.queued = 0;
      for (let i = 0; i < q.length; i++) {
        if (!this.flowing) {
          // paused mid-way: keep the rest
          const rest = q.slice(i);
          this.queue = this.queue ? rest.concat(this.queue) : rest;
          for (const c of rest) this.queued += c.length;
          return;
        }
        this.emit('data', q[i]);
      }
    }
    if (this.flowing && this.ended && !this.endEmitted && !this.queue) {
      this.endEmitted = true;
      this.emit('end');
    }
  }
}

function flush(req: FastRequest): void {
  req.flushQueued();
}

/** The response side, shaped like the parts of http.ServerResponse the proxy uses. */
export class FastResponse extends EventEmitter {
  statusCode = 200;
  sendDate = false;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /** Head not written yet: it goes out with the first body bytes or on end(). */
  private head: string | undefined;
  private chunked = false;
  private noBody = false;
  private trailer = '';
  private drainArmed = false;
  /** Body bytes written since the socket was corked for this tick (see write()); -1 when not corked. */
  private corkedBytes = -1;
  /** Bytes the socket still held from earlier ticks when it was corked. */
  private heldBefore = 0;
  keepAlive: boolean;
  /** Set by the connection manager: who to tell when the exchange ends. */
  owner: unknown;
  stream: unknown;
  cm: unknown;

  constructor(
    private readonly conn: Http1ServerConnection,
    readonly req: FastRequest,
    readonly socket: net.Socket,
    keepAlive: boolean,
  ) {
    super();
    this.keepAlive = keepAlive;
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  writeHead(status: number, headers?: Record<string, string | number | readonly string[] | undefined>): this {
    if (this.headersSent) throw new Error('headers already sent');
    const h = headers ?? {};
    let head = serializeHeaders(h, `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`);
    this.statusCode = status;
    this.headersSent = true;
    const c = h.connection;
    if (c === undefined) head += this.keepAlive ? this.conn.host.keepAliveLines : 'connection: close\r\n';
    else if (/(^|,)\s*close\s*(,|$)/i.test(String(c))) this.keepAlive = false;
    this.noBody = this.req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    if (!this.noBody && h['content-length'] === undefined) {
      const te = h['transfer-encoding'];
      if (te === undefined) head += 'transfer-encoding: chunked\r\n';
      this.chunked = te === undefined || /chunked/i.test(String(te));
      if (!this.chunked) this.keepAlive = false; // close-delimited
    }
    this.head = head + '\r\n';
    return this;
  }

  addTrailers(headers: Record<string, string | number | readonly string[] | undefined>): void {
    this.trailer = serializeHeaders(headers, this.trailer);
  }

  write(chunk: Buffer): boolean {
    if (this.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (this.noBody || chunk.length === 0) return true;
    const s = this.socket;
    // Chunks that arrive in one tick (an upstream TLS connection emits each 16 KiB record as its own event) leave in
    // one write at the end of it: one system call (one TLS write downstream) instead of one per record.
    if (this.corkedBytes < 0) {
      this.corkedBytes = 0;
      this.heldBefore = s.writableLength;
      s.cork();
      setImmediate(uncorkTick, this);
    }
    this.corkedBytes += chunk.length;
    const head = this.head;
    let ok: boolean;
    if (head !== undefined) {
      this.head = undefined;
      if (chunk.length <= COALESCE_MAX) {
        ok = this.chunked ? s.write(headPlusBody(head + chunkHeader(chunk.length), chunk, '\r\n')) : s.write(headPlusBody(head, chunk));
      } else {
        s.cork();
        s.write(this.chunked ? head + chunkHeader(chunk.length) : head, 'latin1');
        ok = s.write(chunk);
        if (this.chunked) ok = s.write('\r\n', 'latin1');
        s.uncork();
      }
    } else if (this.chunked) {
      s.cork();
      s.write(chunkHeader(chunk.length), 'latin1');
      s.write(chunk);
      ok = s.write('\r\n', 'latin1');
      s.uncork();
    } else {
      ok = s.write(chunk);
    }
    // What this tick's cork holds is not backpressure: it goes to the kernel at the end of the tick. Only bytes left
    // over from earlier writes (a peer that does not read) are.
    if (!ok && this.heldBefore === 0 && this.corkedBytes <= TICK_MAX) ok = true;
    if (!ok && !this.drainArmed) {
      this.drainArmed = true;
      s.once('drain', () => {
        this.drainArmed = false;
        this.emit('drain');
      });
    }
    return ok;
  }

  end(): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.writableEnded = true;
    let out = this.head ?? '';
    this.head = undefined;
    if (this.chunked && !this.noBody) out += `0\r\n${this.trailer}\r\n`;
    if (out && !this.socket.destroyed) this.socket.write(out, 'latin1');
    this.writableFinished = true;
    this.conn.responseDone(this, true);
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }

  /** @internal the end of the tick that corked the socket */
  uncorkTick(): void {
    this.corkedBytes = -1;
    this.socket.uncork();
  }
}

/** Body bytes one tick may coalesce before backpressure applies as usual. */
const TICK_MAX = 1024 * 1024;

function uncorkTick(res: FastResponse): void {
  res.uncorkTick();
}

/** One downstream HTTP/1.1 connection on the fast path. */
export class Http1ServerConnection {
  /** Bytes received and not parsed yet (a partial head, pipelined requests). */
  private pending: Buffer | undefined;
  /** The request whose body is being read. */
  private reading: FastRequest | undefined;
  private body = Body.None;
  private remaining = 0;
  private chunked: ChunkedDecoder | undefined;
  /** The exchange whose response is not complete yet (one at a time; pipelined requests wait). */
  private res: FastResponse | undefined;
  /** The body of a request whose response is complete is read and dropped. */
  private discarding = false;
  private driving = false;
  private peerEnded = false;
  private gone = false;
  private readPaused = false;
  private fellBack = false;
  lastActivity = Date.now();
  /** When the first bytes of a head not complete yet arrived (0: none pending). */
  headStartedAt = 0;
  requestStartedAt = 0;

  constructor(
    readonly host: FastHost,
    readonly socket: net.Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.once('close', this.onClose);
  }

  get idle(): boolean {
    return !this.res && !this.reading && !this.pending;
  }

  get hasActiveExchange(): boolean {
    return this.res !== undefined;
  }

  get bodyIncomplete(): boolean {
    return this.reading !== undefined;
  }

  get responseStarted(): boolean {
    return this.res?.headersSent ?? false;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastActivity = Date.now();
    if (this.reading) {
      const used = this.feedBody(chunk, 0);
      if (used < 0) return;
      if (used < chunk.length) this.append(chunk.subarray(used));
    } else {
      this.append(chunk);
    }
    this.drive();
  };

  private append(b: Buffer): void {
    this.pending = this.pending ? Buffer.concat([this.pending, b]) : b;
    if (this.pending.length > HIGH_WATER && (this.res || this.reading)) this.pauseRead();
  }

  private pauseRead(): void {
    if (!this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private resumeRead(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** Body bytes from `buf[start..]`: returns how many were used, -1 if the connection was closed. */
  private feedBody(buf: Buffer, start: number): number {
    const req = this.reading!;
    const drop = this.discarding;
    if (this.body === Body.Length) {
      const n = Math.min(this.remaining, buf.length - start);
      if (n > 0 && !drop) req.push(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
      this.remaining -= n;
      if (this.remaining === 0) this.bodyDone();
      return start + n;
    }
    const dec = this.chunked!;
    const next = dec.feed(buf, start, buf.length, drop ? noop : (c) => req.push(c));
    if (next < 0) {
      this.socket.destroy();
      return -1;
    }
    if (dec.done) this.bodyDone();
    return next;
  }

  private bodyDone(): void {
    const req = this.reading!;
    this.reading = undefined;
    this.chunked = undefined;
    const dropped = this.discarding;
    this.discarding = false;
    if (!dropped) req.pushEnd();
  }

  /** Parses and starts requests while no response is outstanding. */
  private drive(): void {
    if (this.driving) return;
    this.driving = true;
    try {
      while (!this.res && !this.reading && this.pending && !this.gone && !this.fellBack) {
        const buf = this.pending;
        const end = headEnd(buf, 0);
        if (end < 0) {
          if (buf.length > this.host.maxHeaderBytes) return this.fallBack();
          if (!this.headStartedAt) this.headStartedAt = Date.now();
          return;
        }
        this.headStartedAt = 0;
        if (end > this.host.maxHeaderBytes) return this.fallBack();
        const head = parseHead(buf, 0, end, true);
        if (!head || head.unusual || head.versionMinor !== 1) return this.fallBack();
        const h = head.headers;
        const method = head.method!;
        if (method === 'CONNECT' || method === 'PRI' || h.upgrade !== undefined || h.expect !== undefined) return this.fallBack();
        const te = h['transfer-encoding'];
        const cl = contentLength(h['content-length']);
        if (cl === -2) return this.fallBack();
        if (te !== undefined && (cl !== -1 || typeof te !== 'string' || te.toLowerCase() !== 'chunked')) return this.fallBack();
        this.pending = end < buf.length ? buf.subarray(end) : undefined;
        const conn = h.connection;
        const keepAlive = !(typeof conn === 'string' && /(^|,)\s*close\s*(,|$)/i.test(conn));
        const req = new FastRequest(this, method, head.target, h, this.socket);
        const res = new FastResponse(this, req, this.socket, keepAlive && !this.peerEnded);
        this.res = res;
        this.requestStartedAt = Date.now();
        if (te !== undefined) {
          this.body = Body.Chunked;
          this.chunked = new ChunkedDecoder();
          this.reading = req;
        } else if (cl > 0) {
          this.body = Body.Length;
          this.remaining = cl;
          this.reading = req;
        } else {
          req.complete = true;
        }
        if (this.reading && this.pending) {
          const p = this.pending;
          this.pending = undefined;
          const used = this.feedBody(p, 0);
          if (used < 0) return;
          if (used < p.length) this.pending = p.subarray(used);
        }
        this.host.onFastRequest(this, req, res);
      }
      if (this.pending && this.pending.length > HIGH_WATER) this.pauseRead();
    } finally {
      this.driving = false;
    }
  }

  private fallBack(): void {
    this.fellBack = true;
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('end', this.onEnd);
    this.socket.removeListener('close', this.onClose);
    const p = this.pending;
    this.pending = undefined;
    this.resumeRead();
    this.host.fallback(this, p);
  }

  /** @internal the request's consumer paused or resumed its body */
  bodyPaused(req: FastRequest): void {
    if (req === this.reading) this.pauseRead();
  }

  bodyResumed(req: FastRequest): void {
    if (req === this.reading && !(this.pending && this.pending.length > HIGH_WATER)) this.resumeRead();
  }

  /** The response ended (`finished`) or the connection went away first. */
  responseDone(res: FastResponse, finished: boolean): void {
    if (this.res !== res) return;
    this.res = undefined;
    this.lastActivity = Date.now();
    this.host.onFastRequestDone(res, finished);
    if (!finished || this.gone) return;
    if (!res.keepAlive) {
      this.gone = true;
      // destroySoon: ends after pending writes are flushed
      (this.socket as net.Socket & { destroySoon?: () => void }).destroySoon?.() ?? this.socket.end();
      return;
    }
    if (this.reading) {
      // the response did not wait for the request body: read and drop the rest, then go on
      this.discarding = true;
      this.resumeRead();
      return;
    }
    if (this.peerEnded && !this.pending) {
      this.socket.end();
      return;
    }
    this.resumeRead();
    if (this.pending) this.drive();
  }

  private readonly onEnd = (): void => {
    this.peerEnded = true;
    // As node:http (without httpAllowHalfOpen) and Envoy do: a client that closes its side has gone away, and the
    // request in flight is reset.
    if (this.res || this.reading) {
      this.socket.destroy();
      return;
    }
    this.socket.end();
  };

  private readonly onClose = (): void => {
    this.gone = true;
    const res = this.res;
    if (res) this.responseDone(res, false);
  };

  /** Sweep-driven timeouts: idle keep-alive, slow request heads. */
  checkTimeouts(now: number, idleMs: number, headersMs: number, requestMs: number): void {
    if (this.gone || this.fellBack) return;
    if (this.headStartedAt && headersMs > 0 && now - this.headStartedAt > headersMs) {
      this.gone = true;
      this.socket.end('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      this.socket.destroySoon?.();
      return;
    }
    if (this.reading && requestMs > 0 && now - this.requestStartedAt > requestMs) {
      if (this.res && !this.res.headersSent) this.socket.write('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      this.socket.destroy();
      return;
    }
    if (!this.res && !this.reading && !this.headStartedAt && idleMs > 0 && now - this.lastActivity > idleMs) this.socket.destroy();
  }
}

function noop(): void {}
