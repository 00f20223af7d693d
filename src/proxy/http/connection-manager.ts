// The HTTP connection manager of one filter chain: HTTP/1.1 and h2c codecs on the same port, route lookup, filters, drain.

import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { CompiledHcm } from '../config/listener-config.js';
import type { RouteTable } from '../config/route-table.js';
import { log } from '../log.js';
import type { ProxyRuntime } from '../runtime.js';
import type { HttpCounters, HttpGauges } from '../stats.js';
import { sniff } from '../listener/protocol-sniff.js';
import type { HttpFilter } from './filter.js';
import { HttpStream, type ConnectionInfo, type DownstreamRequest, type DownstreamResponse } from './http-stream.js';
import { parseHostPort } from './router.js';
import { handleUpgrade } from './websocket.js';
import { FastRequest, FastResponse, Http1ServerConnection, type FastHost } from './http1-server.js';
import { addSweep } from '../sweeper.js';
import { terminateConnect } from './connect-terminate.js';

const logger = log('http');
const kConn = Symbol('trellis connection');

interface TrackedConnection {
  readonly socket: net.Socket;
  readonly info: ConnectionInfo;
  session: http2.ServerHttp2Session | undefined;
  active: number;
  /** Set while the connection is on the raw-socket HTTP/1.1 fast path. */
  fast?: Http1ServerConnection;
}

/** TRELLIS_H1_FASTPATH=0 keeps every HTTP/1.1 connection on node:http (for comparisons). */
const FAST_H1 = process.env.TRELLIS_H1_FASTPATH !== '0';

type SocketWithConn = net.Socket & { [kConn]?: TrackedConnection };

/** Picks the connection manager (and the addresses it should see) for a request's target host and port. */
export type RequestDispatcher = (target: { host: string; port: number }, info: ConnectionInfo) => { cm: ConnectionManager; info: ConnectionInfo } | undefined;

/** Where a request is going: an absolute-form URL's authority, else :authority / Host (port 80 by default). */
export function requestTarget(req: DownstreamRequest, isH2: boolean): { host: string; port: number } | undefined {
  const url = req.url ?? '';
  let authority: string | undefined;
  if (/^https?:\/\//i.test(url)) {
    const start = url.indexOf('//') + 2;
    let end = start;
    while (end < url.length && url[end] !== '/' && url[end] !== '?') end++;
    authority = url.slice(start, end);
  } else {
    authority = (isH2 ? (req.headers[':authority'] as string | undefined) : undefined) ?? req.headers.host;
  }
  if (!authority) return undefined;
  const p = parseHostPort(authority, 80);
  return p ? { host: p.host.toLowerCase(), port: p.port } : undefined;
}
type SessionWithConn = http2.ServerHttp2Session & { [kConn]?: TrackedConnection };

export class ConnectionManager implements FastHost {
  readonly filters: HttpFilter[];
  readonly counters: HttpCounters;
  readonly gauges: HttpGauges;
  private readonly h1: http.Server;
  private h2: http2.Http2Server | undefined;
  private readonly conns = new Set<TrackedConnection>();
  private pendingH2: TrackedConnection | undefined;
  private draining = false;
  private drainWaiters: Array<() => void> = [];
  readonly maxHeaderBytes: number;
  readonly keepAliveLines: string;
  private unsweep: (() => void) | undefined;

  constructor(
    readonly config: CompiledHcm,
    readonly listenerName: string,
    readonly runtime: ProxyRuntime,
    private readonly dispatcher?: RequestDispatcher,
  ) {
    this.filters = config.httpFilters.map((f) => f.ext.create(f.config, f.name));
    const stats = runtime.httpStats(config.statPrefix);
    this.counters = stats.counters;
    this.gauges = stats.gauges;
    this.h1 = http.createServer({
      keepAliveTimeout: config.idleTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestHeadersTimeoutMs > 0 ? config.requestHeadersTimeoutMs : 60_000,
      maxHeaderSize: config.maxRequestHeadersKb * 1024,
      noDelay: true,
    });
    this.h1.timeout = 0;
    this.maxHeaderBytes = config.maxRequestHeadersKb * 1024;
    // what node:http sends on keep-alive responses
    this.keepAliveLines = `connection: keep-alive\r\n${config.idleTimeoutMs > 0 ? `keep-alive: timeout=${Math.floor(config.idleTimeoutMs / 1000)}\r\n` : ''}`;
    this.h1.on('request', (req, res) => this.onRequest(req, res, false));
    this.h1.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const conn = (socket as SocketWithConn)[kConn];
      if (conn) handleUpgrade(this, conn.info, req, socket, head);
      else socket.destroy();
    });
    this.h1.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
      // CONNECT tunnels are not configured on this connection manager
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  }

  /** The route table for a request: inline, or the current RDS snapshot's (RDS updates apply to open connections). */
  routeTable(): RouteTable | undefined {
    if (this.config.inlineRoutes) return this.config.inlineRoutes;
    return this.config.rdsName !== undefined ? this.runtime.routeTable(this.config.rdsName) : undefined;
  }

  get isDraining(): boolean {
    return this.draining || this.runtime.draining;
  }

  private http2Server(): http2.Http2Server {
    if (this.h2) return this.h2;
    const h2 = http2.createServer({ settings: { enablePush: false, maxConcurrentStreams: 1000 }, maxSessionMemory: 64 });
    h2.on('session', (session: SessionWithConn) => {
      const conn = this.pendingH2;
      if (!conn) return;
      conn.session = session;
      session[kConn] = conn;
      session.setTimeout(this.config.idleTimeoutMs, () => {
        if (conn.active === 0) session.close();
      });
      if (this.isDraining) session.close();
    });
    h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => this.onRequest(req, res, true));
    // CONNECT over HTTP/2: terminated where a route says so (HBONE); no such route answers 404.
    h2.on('connect', (req: http2.Http2ServerRequest) => {
      const conn = (req.stream.session as SessionWithConn | undefined)?.[kConn];
      if (!conn) return void req.stream.destroy();
      conn.active++;
      req.stream.once('close', () => {
        conn.active--;
        if (this.isDraining && conn.active === 0) this.closeIdle(conn);
      });
      terminateConnect(this, conn.info, req.stream, req.headers);
    });
    h2.on('sessionError', (err) => logger.debug(`http2 session error: ${err.message}`));
    this.h2 = h2;
    return h2;
  }

  /** Takes a downstream connection; `detected` is set when the listener already looked at the first bytes. */
  handleConnection(socket: net.Socket, info: ConnectionInfo, detected?: 'h2c' | 'http/1.1' | 'tls' | 'unknown'): void {
    const conn: TrackedConnection = { socket, info, session: undefined, active: 0 };
    this.conns.add(conn);
    this.counters.downstream_cx_total++;
    this.gauges.downstream_cx_active++;
    socket.once('close', () => {
      this.conns.delete(conn);
      if (this.conns.size === 0 && this.unsweep) {
        this.unsweep();
        this.unsweep = undefined;
      }
      this.gauges.downstream_cx_active--;
      this.counters.downstream_cx_rx_bytes_total += socket.bytesRead;
      this.counters.downstream_cx_tx_bytes_total += socket.bytesWritten;
      if (this.drainWaiters.length && this.conns.size === 0) for (const w of this.drainWaiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
    const codec = this.config.codec;
    if (codec === 'HTTP1') return this.startHttp1(conn);
    if (codec === 'HTTP2') return this.startHttp2(conn);
    if (detected === 'h2c') return this.startHttp2(conn);
    if (detected !== undefined) return this.startHttp1(conn);
    sniff(socket, 0, (d) => (d === 'h2c' ? this.startHttp2(conn) : this.startHttp1(conn)));
  }

  private startHttp1(conn: TrackedConnection): void {
    this.counters.downstream_cx_http1_total++;
    this.gauges.downstream_cx_http1_active++;
    conn.socket.once('close', () => this.gauges.downstream_cx_http1_active--);
    (conn.socket as SocketWithConn)[kConn] = conn;
    if (FAST_H1) {
      conn.fast = new Http1ServerConnection(this, conn.socket);
      if (!this.unsweep) this.unsweep = addSweep((now) => this.sweep(now));
    } else this.h1.emit('connection', conn.socket);
    conn.socket.resume();
  }

  /** Timeouts of fast-path connections (node:http keeps its own for the others). */
  private sweep(now: number): void {
    const c = this.config;
    const headersMs = c.requestHeadersTimeoutMs > 0 ? c.requestHeadersTimeoutMs : 60_000;
    for (const conn of this.conns) conn.fast?.checkTimeouts(now, c.idleTimeoutMs, headersMs, c.requestTimeoutMs);
  }

  /** A request the fast path does not handle: node:http takes the connection from that request on. */
  fallback(fast: Http1ServerConnection, pending: Buffer | undefined): void {
    const socket = fast.socket as SocketWithConn;
    const conn = socket[kConn];
    if (conn) conn.fast = undefined;
    socket.pause();
    if (pending) socket.unshift(pending);
    this.h1.emit('connection', socket);
    socket.resume();
  }

  onFastRequest(fast: Http1ServerConnection, req: FastRequest, res: FastResponse): void {
    const conn = (fast.socket as SocketWithConn)[kConn];
    if (!conn) {
      fast.socket.destroy();
      return;
    }
    this.startStream(conn, req as unknown as DownstreamRequest, res as unknown as DownstreamResponse, false, res);
  }

  onFastRequestDone(res: FastResponse, finished: boolean): void {
    const conn = res.owner as TrackedConnection | undefined;
    const stream = res.stream as HttpStream | undefined;
    if (!conn || !stream) return;
    this.streamClosed(conn, res.cm as ConnectionManager, stream, finished);
  }

  private streamClosed(conn: TrackedConnection, cm: ConnectionManager, stream: HttpStream, finished: boolean): void {
    conn.active--;
    cm.gauges.downstream_rq_active--;
    stream.onClose(finished);
    if (this.isDraining && conn.active === 0) this.closeIdle(conn);
  }

  private startHttp2(conn: TrackedConnection): void {
    this.counters.downstream_cx_http2_total++;
    this.gauges.downstream_cx_http2_active++;
    conn.socket.once('close', () => this.gauges.downstream_cx_http2_active--);
    // The session reads bytes already buffered on the socket itself (on the next tick): do not resume here.
    this.pendingH2 = conn;
    this.http2Server().emit('connection', conn.socket);
    this.pendingH2 = undefined;
  }

  private onRequest(req: DownstreamRequest, res: DownstreamResponse, isH2: boolean): void {
    const conn = isH2
      ? ((req as http2.Http2ServerRequest).stream.session as SessionWithConn | undefined)?.[kConn]
      : (req.socket as SocketWithConn)[kConn];
    if (!conn) {
      res.destroy();
      return;
    }
    this.startStream(conn, req, res, isH2, undefined);
  }

  private startStream(conn: TrackedConnection, req: DownstreamRequest, res: DownstreamResponse, isH2: boolean, fast: FastResponse | undefined): void {
    // On a useOriginalDst listener each request goes to the listener its target port names (HTTP_PROXY clients).
    let cm: ConnectionManager = this;
    let info = conn.info;
    if (this.dispatcher) {
      const target = requestTarget(req, isH2);
      const d = target ? this.dispatcher(target, conn.info) : undefined;
      if (d) {
        cm = d.cm;
        info = d.info;
      }
    }
    conn.active++;
    cm.counters.downstream_rq_total++;
    if (isH2) cm.counters.downstream_rq_http2_total++;
    else {
      cm.counters.downstream_rq_http1_total++;
      if (!fast) (res as http.ServerResponse).sendDate = false;
    }
    cm.gauges.downstream_rq_active++;
    let stream: HttpStream;
    try {
      stream = new HttpStream(cm, info, req, res, isH2);
    } catch (err) {
      logger.debug(`bad request: ${(err as Error).message}`);
      res.destroy();
      conn.active--;
      cm.gauges.downstream_rq_active--;
      return;
    }
    if (fast) {
      fast.owner = conn;
      fast.cm = cm;
      fast.stream = stream;
    } else res.once('close', () => this.streamClosed(conn, cm, stream, res.writableFinished));
    const table = cm.routeTable();
    stream.routeTable = table;
    stream.route = table?.route(stream);
    stream.decode();
  }

  private closeIdle(conn: TrackedConnection): void {
    if (conn.session) conn.session.close();
    else if (conn.active === 0 && !conn.fast?.bodyIncomplete) conn.socket.destroySoon?.() ?? conn.socket.end();
  }

  /**
   * Graceful drain: HTTP/2 connections get GOAWAY, HTTP/1.1 ones close after their in-flight response
   * ("connection: close"). Idle HTTP/1.1 connections close now on shutdown, or after the connection manager's
   * drain timeout when a listener update replaced this chain (closing them at once would race clients reusing them).
   */
  drain(closeIdleNow = true): Promise<void> {
    this.draining = true;
    const closeIdle = () => {
      for (const conn of this.conns) if (!conn.session && conn.active === 0) this.closeIdle(conn);
    };
    for (const conn of this.conns) if (conn.session) conn.session.close();
    if (closeIdleNow) closeIdle();
    else setTimeout(closeIdle, this.config.drainTimeoutMs).unref();
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Closes everything now (after a drain timeout). */
  destroy(): void {
    this.draining = true;
    for (const conn of this.conns) {
      conn.session?.destroy();
      conn.socket.destroy();
    }
  }
}
