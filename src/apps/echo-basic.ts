// The Gateway API conformance echo backend (echo-basic): every request answered with what arrived (path, host, method,
// proto, headers) and where (namespace, ingress, service, pod) as indented JSON; `/status/NNN` answers NNN, `?delay=`
// waits, `X-Echo-Set-Header` sets response headers, `/ws` echoes WebSocket messages, each echoed request is logged; HTTP on HTTP_PORT (3000), h2c on
// H2C_PORT (3001), HTTPS on HTTPS_PORT (8443) when TLS_SERVER_CERT/TLS_SERVER_PRIVKEY name a certificate; with
// GRPC_ECHO_SERVER set, the gRPC echo service instead (echo-basic-grpc.ts).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { canonicalHeaderName } from './echo-request.js';
import { parseDelay } from './echo.js';
import { startGrpcEcho } from './echo-basic-grpc.js';
import { bindAddress, isMain, listen, parsePort, runUntilSignal, type Env, type RunningApp } from './lib/serve.js';

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

/** Where the echo runs, as the conformance manifests tell it through the environment. */
interface Context {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

/** Header name → values as Go's `http.Header` holds them: canonical names, Host and HTTP/2 pseudo-headers left out. */
function goHeaders(req: AnyRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.startsWith(':') || name.toLowerCase() === 'host') continue;
    (out[canonicalHeaderName(name)] ??= []).push(raw[i + 1]!);
  }
  return out;
}

const TLS_VERSIONS: Record<string, string> = { 'TLSv1.3': 'TLSv1.3', 'TLSv1.2': 'TLSv1.2', 'TLSv1.1': 'TLSv1.1', TLSv1: 'TLSv1.0' };

function tlsOf(req: AnyRequest): Record<string, unknown> | undefined {
  const socket = req.socket as TLSSocket;
  if (!socket.encrypted) return undefined;
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  return { version: TLS_VERSIONS[socket.getProtocol() ?? ''] ?? '', serverName: servername || '', negotiatedProtocol: socket.alpnProtocol || '', cipherSuite: socket.getCipher()?.standardName ?? '' };
}

/** What arrived, in the field order and indentation of echo-basic's JSON. */
function assertions(req: AnyRequest, context: Context): string {
  const h2 = req.httpVersionMajor === 2;
  const host = h2 ? String((req as http2.Http2ServerRequest).authority ?? '') : (req.headers.host ?? '');
  const tls = tlsOf(req);
  const body = { path: req.url ?? '/', host, method: req.method ?? 'GET', proto: h2 ? 'HTTP/2.0' : `HTTP/${req.httpVersion}`, headers: goHeaders(req), ...context, ...(tls ? { tls } : {}), sni: '' };
  return JSON.stringify(body, null, 1);
}

/** `X-Echo-Set-Header: name: value, name2: value2` → response headers (a repeated name's values joined with ","). */
function echoSetHeaders(req: AnyRequest, res: AnyResponse): void {
  const values = req.headers['x-echo-set-header'];
  for (const list of Array.isArray(values) ? values : values ? [values] : []) {
    for (const item of list.split(',')) {
      const [name = '', ...rest] = item.trim().split(':');
      if (!name) continue;
      const value = rest.join(':');
      const had = res.getHeader(name);
      res.setHeader(name, had === undefined ? value : `${String(had)},${value.trim()}`);
    }
  }
}

function sendJson(res: AnyResponse, status: number, body: string): void {
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-content-type-options', 'nosniff');
  res.writeHead(status);
  res.end(body);
}

function handler(context: Context, h2cOnly: boolean) {
  return (req: AnyRequest, res: AnyResponse): void => {
    // echo-basic routes on the path with `//` folded, but reports the request-URI as it came.
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/\//g, '/');
    if (h2cOnly && req.httpVersionMajor !== 2) {
      res.writeHead(400);
      res.end('Expected h2c request');
      return;
    }
    if (path === '/health') {
      res.writeHead(200);
      res.end('OK');
      return;
    }
    if (path.startsWith('/status/')) {
      const m = /^\/status\/(\d\d\d)$/.exec(req.url ?? '');
      res.writeHead(m ? Number(m[1]) : 400);
      res.end();
      return;
    }
    // The line upstream's backend logs for every echoed request: the suite finds mirrored requests by it.
    process.stdout.write(`Echoing back request made to ${req.url ?? '/'} to client (${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''})\n`);
    const delay = new URL(req.url ?? '/', 'http://x').searchParams.get('delay');
    let ms = 0;
    if (delay) {
      try {
        ms = parseDelay(delay);
      } catch (err) {
        sendJson(res, 500, JSON.stringify({ message: (err as Error).message }));
        return;
      }
    }
    const answer = () => {
      if (res.writableEnded || res.destroyed) return;
      echoSetHeaders(req, res);
      sendJson(res, 200, assertions(req, context));
    };
    if (ms > 0) {
      const timer = setTimeout(answer, ms);
      res.on('close', () => clearTimeout(timer));
    } else answer();
  };
}

// ---------------------------------------------------------------- WebSocket echo (RFC 6455, just enough)

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  return Buffer.concat([head, payload]);
}

/** Echoes every message back (unmasked, as a server must send it) until the client closes. */
function echoWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const key = req.headers['sec-websocket-key'];
  if (!key || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  // Bytes the client sent right after its request head arrive with the upgrade, not as data.
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      const masked = (buf[1]! & 0x80) !== 0;
      let len = buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) [len, at] = [buf.length >= 4 ? buf.readUInt16BE(2) : -1, 4];
      else if (len === 127) [len, at] = [buf.length >= 10 ? Number(buf.readBigUInt64BE(2)) : -1, 10];
      if (len < 0 || buf.length < at + (masked ? 4 : 0) + len) return;
      const mask = masked ? buf.subarray(at, at + 4) : undefined;
      at += masked ? 4 : 0;
      const payload = Buffer.from(buf.subarray(at, at + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      buf = buf.subarray(at + len);
      if (opcode === 0x8) {
        socket.end(wsFrame(0x8, payload));
        return;
      }
      socket.write(wsFrame(opcode === 0x9 ? 0xa : opcode, payload));
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  if (head.length) onData(head);
}

/** An HTTP/2 cleartext server listening; close() ends its sessions too (http2 servers have no idle-connection close). */
function listenH2c(server: http2.Http2Server, port: number, host: string): Promise<RunningApp> {
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          for (const s of sessions) s.destroy();
        });
      resolve({ url: `http://${host}:${bound}`, host, port: bound, close });
    });
  });
}

export interface EchoBasic {
  http: RunningApp;
  h2c: RunningApp;
  https?: RunningApp;
  close(): Promise<void>;
}

/** Starts the HTTP, h2c and (with a certificate) HTTPS servers; ports from the environment unless given. */
export async function startEchoBasic(opts: { env?: Env; host?: string; httpPort?: number; h2cPort?: number; httpsPort?: number } = {}): Promise<EchoBasic> {
  const env = opts.env ?? process.env;
  const host = opts.host ?? bindAddress(env);
  const context: Context = { namespace: env.NAMESPACE ?? '', ingress: env.INGRESS_NAME ?? '', service: env.SERVICE_NAME ?? '', pod: env.POD_NAME ?? '' };
  const plain = http.createServer(handler(context, false));
  plain.on('upgrade', (req, socket, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] === '/ws') echoWebSocket(req, socket, head);
    else socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  const h2c = http2.createServer(handler(context, true));
  const servers: RunningApp[] = [];
  try {
    const httpApp = await listen(plain, opts.httpPort ?? parsePort(env.HTTP_PORT) ?? 3000, host);
    servers.push(httpApp);
    const h2cApp = await listenH2c(h2c, opts.h2cPort ?? parsePort(env.H2C_PORT) ?? 3001, host);
    servers.push(h2cApp);
    let httpsApp: RunningApp | undefined;
    if (env.TLS_SERVER_CERT && env.TLS_SERVER_PRIVKEY) {
      const secure = https.createServer({ cert: readFileSync(env.TLS_SERVER_CERT), key: readFileSync(env.TLS_SERVER_PRIVKEY) }, handler(context, false));
      httpsApp = await listen(secure, opts.httpsPort ?? parsePort(env.HTTPS_PORT) ?? 8443, host);
      servers.push(httpsApp);
    }
    return { http: httpApp, h2c: h2cApp, ...(httpsApp ? { https: httpsApp } : {}), close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
}

if (isMain(import.meta.url)) {
  runUntilSignal('echo-basic', async () => {
    if (process.env.GRPC_ECHO_SERVER) {
      const grpcApp = await startGrpcEcho(process.env, bindAddress(process.env), parsePort(process.env.HTTP_PORT) ?? 3000);
      return { close: grpcApp.close, describe: `listening on ${grpcApp.host}:${grpcApp.port} (gRPC)` };
    }
    const app = await startEchoBasic();
    return { close: app.close, describe: `listening on ${app.http.host}:${app.http.port} (http), ${app.h2c.port} (h2c)${app.https ? `, ${app.https.port} (https)` : ''}` };
  });
}
