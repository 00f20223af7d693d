// HTTP/2 (h2c, prior knowledge) connection pool for one host: one multiplexed session, replaced when it goes away.

import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { ResetReason } from '../errors.js';
import { connectTcp, ConnectTimeoutError } from './connect.js';
import { installLeanAsyncBind } from './lean-async-bind.js';
import type { HostPool, PoolEvents, UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from './pool.js';

export interface Http2PoolOptions {
  address: string;
  port: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  tls?: () => import('node:tls').ConnectionOptions;
  /** The cluster's upstreamBindConfig source address. */
  localAddress?: string;
  /** Opens the connection another way (an internal listener). */
  dial?: () => import('node:net').Socket;
}

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;

/** Connection-specific headers HTTP/2 forbids. */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

interface Session {
  session: http2.ClientHttp2Session;
  connected: boolean;
  streams: number;
  total: number;
  closing: boolean;
}

export class Http2Pool implements HostPool {
  readonly protocol = 'http2' as const;
  connections = 0;
  private current: Session | undefined;
  private readonly all = new Set<Session>();
  private draining = false;

  constructor(private readonly opts: Http2PoolOptions, private readonly events: PoolEvents) {
    installLeanAsyncBind(); // node:http2 binds an AsyncResource per request: see lean-async-bind.ts
  }

  hasCapacity(): boolean {
    return true;
  }

  private session(): Session {
    const cur = this.current;
    if (cur && !cur.closing && !cur.session.destroyed && !cur.session.closed) return cur;
    const { address, port, connectTimeoutMs } = this.opts;
    const authority = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    const s: Session = {
      session: http2.connect(authority, {
        // Tunnels carry whole responses: a larger window than HTTP/2's 64 KiB keeps them from stalling.
        settings: { initialWindowSize: 4 * 1024 * 1024 },
        createConnection: () => (this.opts.dial ? this.opts.dial() : connectTcp(address, port, connectTimeoutMs, false, this.opts.tls ? { ...this.opts.tls(), ALPNProtocols: ['h2'] } : undefined, this.opts.localAddress)),
      }),
      connected: false,
      streams: 0,
      total: 0,
      closing: false,
    };
    this.connections++;
    this.all.add(s);
    this.events.onConnectionOpen();
    this.current = s;
    const session = s.session;
    session.once('connect', () => {
      s.connected = true;
    });
    session.on('error', (err: NodeJS.ErrnoException) => {
      if (!s.connected) this.events.onConnectFailure(err instanceof ConnectTimeoutError);
    });
    session.on('goaway', () => this.retire(s));
    session.once('close', () => {
      this.retire(s);
      this.all.delete(s);
      this.connections--;
      const sock = session.socket as { bytesRead?: number; bytesWritten?: number } | undefined;
      this.events.onBytes(sock?.bytesRead ?? 0, sock?.bytesWritten ?? 0);
      this.events.onConnectionClose();
    });
    session.setTimeout(this.opts.idleTimeoutMs, () => {
      if (s.streams === 0) session.close();
    });
    return s;
  }

  /** No new streams go to `s`; it closes once its streams are done. */
  private retire(s: Session): void {
    s.closing = true;
    if (this.current === s) this.current = undefined;
    if (s.streams === 0 && !s.session.closed) s.session.close();
  }

  request(spec: UpstreamRequestSpec, handler: UpstreamHandler): void {
    const s = this.session();
    const headers: http2.OutgoingHttpHeaders = {};
    for (const k in spec.headers) {
      if (H2_FORBIDDEN.has(k)) continue;
      if (k === 'te') {
        if (String(spec.headers[k]).toLowerCase().includes('trailers')) headers.te = 'trailers';
        continue;
      }
      const v = spec.headers[k];
      if (v !== undefined) headers[k] = v;
    }
    headers[':method'] = spec.method;
    headers[':path'] = spec.path;
    headers[':authority'] = spec.authority;
    headers[':scheme'] = 'http';
    let stream: http2.ClientHttp2Stream;
    try {
      stream = s.session.request(headers, { endStream: !spec.hasBody });
    } catch (err) {
      const reason: ResetReason = s.connected ? 'connection_termination' : 'connection_failure';
      handler.onError(reason, err as Error, false);
      return;
    }
    s.streams++;
    s.total++;
    if (this.opts.maxRequestsPerConnection > 0 && s.total >= this.opts.maxRequestsPerConnection) this.retire(s);
    new Http2Exchange(this, s, stream, handler);
  }

  /**
   * A CONNECT tunnel to `authority` on this host's session (tcp_proxy's tunneling_config; HBONE): resolves with the
   * stream once the peer answered 2xx, rejects with the status or the session's failure otherwise.
   */
  tunnel(authority: string): Promise<http2.ClientHttp2Stream> {
    const s = this.session();
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = s.session.request({ ':method': 'CONNECT', ':authority': authority }, { endStream: false });
      } catch (err) {
        return reject(err as Error);
      }
      s.streams++;
      s.total++;
      stream.once('close', () => this.streamClosed(s));
      const fail = (err: Error) => reject(err);
      stream.once('error', fail);
      stream.once('close', () => fail(new Error(`tunnel to ${authority}: closed before an answer (${s.connected ? 'reset' : 'connection failure'})`)));
      stream.once('response', (h) => {
        stream.removeListener('error', fail);
        const status = Number(h[':status']);
        if (status >= 200 && status < 300) return resolve(stream);
        stream.close(NGHTTP2_CANCEL);
        reject(new Error(`tunnel to ${authority}: ${status}`));
      });
    });
  }

  streamClosed(s: Session): void {
    s.streams--;
    if (s.closing && s.streams === 0 && !s.session.closed) s.session.close();
    this.events.onCapacity();
  }

  drain(): void {
    this.draining = true;
    for (const s of this.all) this.retire(s);
  }

  destroy(): void {
    for (const s of this.all) s.session.destroy();
  }

  get isDraining(): boolean {
    return this.draining;
  }
}

class Http2Exchange implements UpstreamStream {
  private responded = false;
  private done = false;
  private trailers: IncomingHttpHeaders | undefined;

  constructor(pool: Http2Pool, s: Session, private readonly stream: http2.ClientHttp2Stream, handler: UpstreamHandler) {
    stream.on('response', (headers, flags) => {
      const status = Number(headers[':status']);
      // 1xx informational headers are not forwarded
      if (status >= 100 && status < 200) return;
      this.responded = true;
      const out: IncomingHttpHeaders = {};
      for (const k in headers) if (k.charCodeAt(0) !== 58 /* : */) out[k] = headers[k] as string;
      handler.onResponse(status, out, (flags & 0x1) !== 0);
    });
    stream.on('data', (chunk: Buffer) => {
      if (!this.done) handler.onData(chunk);
    });
    stream.on('trailers', (t) => {
      this.trailers = t as IncomingHttpHeaders;
    });
    stream.on('end', () => {
      if (this.done) return;
      this.done = true;
      handler.onEnd(this.trailers);
    });
    stream.on('error', () => undefined); // reported through 'close' below
    stream.once('close', () => {
      pool.streamClosed(s);
      if (this.done) return;
      this.done = true;
      let reason: ResetReason;
      if (!s.connected) reason = 'connection_failure';
      else if (stream.rstCode === NGHTTP2_REFUSED_STREAM) reason = 'remote_refused_stream_reset';
      else if (stream.rstCode !== undefined && stream.rstCode !== 0 && !s.session.destroyed && !s.closing) reason = 'remote_reset';
      else reason = 'connection_termination';
      handler.onError(reason, undefined, this.responded);
    });
    handler.onStart(this);
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(): void {
    if (!this.stream.writableEnded) this.stream.end();
  }

  onceDrain(cb: () => void): void {
    this.stream.once('drain', cb);
  }

  pauseResponse(): void {
    this.stream.pause();
  }

  resumeResponse(): void {
    this.stream.resume();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
  }
}
