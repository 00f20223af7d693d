// Outbound HTTP for the sample apps and the curl stand-in: proxy-aware (absolute-form via HTTP_PROXY, CONNECT for https), with timeouts and curl-style failure kinds.

import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import dns from 'node:dns';
import type { LookupFunction, Socket } from 'node:net';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { proxyFor } from './proxy-env.js';
import type { Env } from './serve.js';

/** Why a request failed, named after curl's exit codes (5, 6, 7, 28, 35, 52, 56). */
export type FailureKind =
  | 'resolve-proxy'
  | 'resolve'
  | 'connect'
  | 'timeout'
  | 'tls'
  | 'empty-reply'
  | 'recv'
  | 'other';

export class HttpClientError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly elapsedMs: number,
  ) {
    super(message);
  }
}

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Skip certificate verification (curl -k). */
  insecure?: boolean;
}

export interface HttpRequestOptions {
  url: string;
  method?: string;
  /** Header name/value pairs in the order they should be sent. */
  headers?: ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;
  body?: string | Buffer;
  /** Whole-request deadline (curl --max-time). */
  timeoutMs?: number;
  /** Deadline for the TCP connection alone (curl --connect-timeout). */
  connectTimeoutMs?: number;
  /** Proxy variables are read from here; defaults to process.env. */
  env?: Env;
  /** Overrides the environment: a proxy URL, or null for none (curl -x / --noproxy '*'). */
  proxy?: string | null;
  /** `host:port` → address, like curl --resolve. */
  resolve?: ReadonlyMap<string, string>;
  tls?: TlsOptions;
}

export interface HttpResponse {
  status: number;
  statusMessage: string;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  /** Header names as received, alternating name/value. */
  rawHeaders: string[];
  body: Buffer;
  /** The peer actually connected to (the proxy when one was used). */
  remoteAddress: string;
  remotePort: number;
  /** What was put on the wire, for curl -v. */
  sent: { requestLine: string; headers: Array<[string, string]> };
  timings: { connectMs: number; firstByteMs: number; totalMs: number };
}

/** Performs one HTTP request and buffers the answer. Rejects with HttpClientError. */
export function httpRequest(opts: HttpRequestOptions): Promise<HttpResponse> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const target = new URL(opts.url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new HttpClientError('other', `Protocol "${target.protocol.replace(/:$/, '')}" not supported`, 0));
  }
  const secure = target.protocol === 'https:';
  const proxy =
    opts.proxy === null ? undefined : opts.proxy !== undefined ? new URL(withScheme(opts.proxy)) : proxyFor(target, opts.env ?? process.env);
  const method = (opts.method ?? 'GET').toUpperCase();
  const targetPort = Number(target.port || (secure ? 443 : 80));
  const hostHeader = target.port ? `${target.hostname}:${target.port}` : target.hostname;
  const headers = headerPairs(opts.headers);
  if (!headers.some(([n]) => n.toLowerCase() === 'host')) headers.unshift(['Host', hostHeader]);
  if (opts.body !== undefined && !headers.some(([n]) => n.toLowerCase() === 'content-length')) {
    headers.push(['Content-Length', String(Buffer.byteLength(opts.body))]);
  }
  const pathOnly = `${target.pathname}${target.search}`;
  // Through a plain HTTP proxy the request line carries the absolute URI; https is tunnelled with CONNECT instead.
  const requestPath = proxy && !secure ? `${target.protocol}//${hostHeader}${pathOnly}` : pathOnly;
  const connectHost = proxy ? proxy.hostname.replace(/^\[|\]$/g, '') : target.hostname.replace(/^\[|\]$/g, '');
  const connectPort = proxy ? Number(proxy.port || 80) : targetPort;
  const lookup = resolveOverride(opts.resolve);

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let connectMs = -1;
    let firstByteMs = -1;
    let connected = false;
    let req: http.ClientRequest | undefined;
    const sockets: Duplex[] = [];
    const timers: NodeJS.Timeout[] = [];

    const fail = (err: HttpClientError): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      req?.destroy();
      sockets.forEach((s) => s.destroy());
      reject(err);
    };
    const finish = (res: HttpResponse): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      resolve(res);
    };
    const classify = (err: NodeJS.ErrnoException): HttpClientError => {
      const code = err.code ?? '';
      const where = proxy ? `proxy ${connectHost} port ${connectPort}` : `${connectHost} port ${connectPort}`;
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
        return proxy
          ? new HttpClientError('resolve-proxy', `Could not resolve proxy: ${connectHost}`, elapsed())
          : new HttpClientError('resolve', `Could not resolve host: ${connectHost}`, elapsed());
      }
      if (!connected && ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'ETIMEDOUT'].includes(code)) {
        return new HttpClientError(
          'connect',
          `Failed to connect to ${where} after ${Math.round(elapsed())} ms: Couldn't connect to server`,
          elapsed(),
        );
      }
      if (/SSL|TLS|CERT|certificate|self.signed/i.test(`${code} ${err.message}`)) {
        return new HttpClientError('tls', `SSL connect error: ${err.message}`, elapsed());
      }
      if (code === 'ECONNRESET' && err.message === 'socket hang up') {
        return new HttpClientError('empty-reply', 'Empty reply from server', elapsed());
      }
      if (code === 'ECONNRESET' || code === 'EPIPE') {
        return new HttpClientError('recv', `Recv failure: Connection reset by peer`, elapsed());
      }
      return new HttpClientError('other', err.message, elapsed());
    };

    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      timers.push(
        setTimeout(() => {
          const ms = Math.round(elapsed());
          fail(
            new HttpClientError(
              'timeout',
              connected ? `Operation timed out after ${ms} milliseconds with 0 bytes received` : `Connection timed out after ${ms} milliseconds`,
              elapsed(),
            ),
          );
        }, opts.timeoutMs),
      );
    }
    if (opts.connectTimeoutMs !== undefined && opts.connectTimeoutMs > 0) {
      timers.push(
        setTimeout(() => {
          if (!connected) fail(new HttpClientError('timeout', `Connection timed out after ${Math.round(elapsed())} milliseconds`, elapsed()));
        }, opts.connectTimeoutMs),
      );
    }

    const onSocket = (socket: Socket): void => {
      sockets.push(socket);
      const mark = (): void => {
        if (!connected) {
          connected = true;
          connectMs = elapsed();
        }
      };
      if (!socket.connecting && socket.remoteAddress) mark();
      else socket.once('connect', mark);
    };

    const sendOn = (transport: typeof http | typeof https, extra: https.RequestOptions): void => {
      const headerObj: Record<string, string | string[]> = {};
      for (const [n, v] of headers) {
        const prev = headerObj[n];
        headerObj[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      req = transport.request({
        host: connectHost,
        port: connectPort,
        method,
        path: requestPath,
        headers: headerObj,
        // A tunnelled request brings its own connection; Node only uses createConnection when no agent is given.
        ...(extra.createConnection ? {} : { agent: false }),
        setHost: false,
        ...(lookup ? { lookup } : {}),
        ...extra,
      });
      req.on('socket', (s) => onSocket(s as Socket));
      req.on('error', (err) => fail(classify(err)));
      req.on('response', (res) => {
        firstByteMs = elapsed();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(classify(err)));
        res.on('end', () => {
          const sock = res.socket;
          finish({
            status: res.statusCode ?? 0,
            statusMessage: res.statusMessage ?? '',
            httpVersion: res.httpVersion,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks),
            remoteAddress: sock?.remoteAddress ?? connectHost,
            remotePort: sock?.remotePort ?? connectPort,
            sent: { requestLine: `${method} ${requestPath} HTTP/1.1`, headers },
            timings: { connectMs, firstByteMs, totalMs: elapsed() },
          });
        });
      });
      if (opts.body !== undefined) req.write(opts.body);
      req.end();
    };

    const tlsOpts: tls.ConnectionOptions = {
      servername: isIP(target.hostname) ? undefined : target.hostname,
      rejectUnauthorized: !opts.tls?.insecure,
      ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
      ...(opts.tls?.cert ? { cert: opts.tls.cert } : {}),
      ...(opts.tls?.key ? { key: opts.tls.key } : {}),
    };

    if (secure && proxy) {
      // Open a tunnel through the proxy, then speak TLS to the target inside it.
      const authority = `${target.hostname}:${targetPort}`;
      const connectReq = http.request({
        host: connectHost,
        port: connectPort,
        method: 'CONNECT',
        path: authority,
        headers: { host: authority },
        agent: false,
        ...(lookup ? { lookup } : {}),
      });
      req = connectReq;
      connectReq.on('socket', (s) => onSocket(s as Socket));
      connectReq.on('error', (err) => fail(classify(err)));
      connectReq.on('connect', (res, socket) => {
        sockets.push(socket);
        if (res.statusCode !== 200) {
          fail(new HttpClientError('connect', `CONNECT tunnel failed, response ${res.statusCode}`, elapsed()));
          return;
        }
        sendOn(https, { createConnection: () => tls.connect({ ...tlsOpts, socket }), ...tlsOpts });
      });
      connectReq.end();
      return;
    }
    sendOn(secure ? https : http, secure ? tlsOpts : {});
  });
}

function withScheme(raw: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
}

function headerPairs(h: HttpRequestOptions['headers']): Array<[string, string]> {
  if (!h) return [];
  if (Array.isArray(h)) return h.map(([n, v]) => [n, v] as [string, string]);
  return Object.entries(h as Record<string, string>).map(([n, v]) => [n, v] as [string, string]);
}

/** A DNS lookup that answers from `--resolve` entries first (keyed by host:port; the port is not known here, so any port matches the host). */
function resolveOverride(map: ReadonlyMap<string, string> | undefined): LookupFunction | undefined {
  if (!map || map.size === 0) return undefined;
  const byHost = new Map<string, string>();
  for (const [key, addr] of map) {
    const host = key.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
    byHost.set(host, addr.replace(/^\[|\]$/g, ''));
  }
  const lookup: LookupFunction = (hostname, options, callback) => {
    const addr = byHost.get(hostname.toLowerCase());
    if (!addr) {
      dns.lookup(hostname, options, callback as never);
      return;
    }
    const family = isIP(addr) === 6 ? 6 : 4;
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: addr, family }]);
    } else {
      callback(null, addr, family);
    }
  };
  return lookup;
}
