// GrpcChannel over node:http2 with gRPC's framing written here: a POST per call with `content-type: application/grpc`
// and `te: trailers`, each message a 5-byte prefix (uncompressed flag, big-endian length) and its bytes, the status in
// the trailers (`grpc-status`, percent-encoded `grpc-message`) or in trailers-only headers. That is all a sidecar's
// two RPCs (the ADS stream and the CA's unary call) need; @grpc/grpc-js brings a channel stack (resolvers, load
// balancing, service configs, retries) that costs every sidecar ~8 MiB of memory for them.

import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { isIP } from 'node:net';
import { GrpcError, type ChannelOptions, type GrpcChannel, type GrpcStream, type UnaryOptions } from './grpc-channel.js';

/** Flow-control window per stream and for the connection: a large CDS response arrives without a round trip per 64 KiB. */
const WINDOW = 8 * 1024 * 1024;
const UNAVAILABLE = 14;

/** `host:port` or `[v6]:port` → its parts. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`gRPC address "${address}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The gRPC code for an HTTP status that is not 200 (gRPC's HTTP-to-status mapping). */
function codeOfHttp(status: number): number {
  if (status === 400) return 13;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 12;
  if (status === 429 || status === 502 || status === 503 || status === 504) return UNAVAILABLE;
  return 2;
}

function statusOf(h: http2.IncomingHttpHeaders): { code: number; message: string } | undefined {
  const s = h['grpc-status'];
  if (s === undefined) return undefined;
  const raw = String(h['grpc-message'] ?? '');
  let message = raw;
  try {
    message = decodeURIComponent(raw);
  } catch {
    /* not percent-encoded after all */
  }
  return { code: Number(s), message };
}

/** Splits a stream's bytes into gRPC messages. */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(
    private readonly max: number,
    private readonly onMessage: (m: Buffer) => void,
  ) {}

  /** Throws a GrpcError on a compressed or oversized message. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 5) {
      const head = this.chunks[0]!.length >= 5 ? this.chunks[0]! : Buffer.concat(this.chunks);
      if (head[0] !== 0) throw new GrpcError(13, 'compressed message, none was asked for');
      const len = head.readUInt32BE(1);
      if (len > this.max) throw new GrpcError(8, `message of ${len} bytes, more than the ${this.max} accepted`);
      if (this.buffered < 5 + len) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.onMessage(all.subarray(5, 5 + len));
      const rest = all.subarray(5 + len);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }
}

function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

export class Http2Channel implements GrpcChannel {
  private session: http2.ClientHttp2Session | undefined;
  /** Calls in flight: the connection keeps the process alive only while there are some (as grpc-js's do). */
  private active = 0;
  private readonly host: string;
  private readonly port: number;

  constructor(
    address: string,
    private readonly o: ChannelOptions = {},
  ) {
    ({ host: this.host, port: this.port } = parseAddress(address));
  }

  /** The connection, opened anew when there is none or the last one closed (the server went away, GOAWAY). */
  private connection(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const tls = this.o.tls;
    const authority = `${tls ? 'https' : 'http'}://${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port}`;
    const serverName = tls?.serverName ?? (isIP(this.host) ? undefined : this.host);
    const session = http2.connect(authority, {
      settings: { initialWindowSize: WINDOW, enablePush: false },
      ...(tls ? { ca: tls.rootPem, servername: serverName, ALPNProtocols: ['h2'] } : {}),
    });
    // Failures reach the calls as their own errors; the connection is dropped and the next call opens another.
    session.on('error', () => {});
    session.once('connect', () => session.setLocalWindowSize(WINDOW));
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    if (!this.active) session.unref();
    this.session = session;
    return session;
  }

  private hold(session: http2.ClientHttp2Session): () => void {
    if (this.active++ === 0) session.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.active === 0 && !session.destroyed) session.unref();
    };
  }

  /** One call: its events are `data` (a message), `error` (GrpcError) and `end` (status OK). */
  private call(path: string, metadata: Record<string, string> = {}, timeoutMs?: number): { s: GrpcStream; req: http2.ClientHttp2Stream | undefined } {
    const s = new EventEmitter() as GrpcStream;
    let done = false;
    let release = () => {};
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      release();
      if (err) s.emit('error', err);
      else s.emit('end');
    };
    let req: http2.ClientHttp2Stream | undefined;
    try {
      const session = this.connection();
      release = this.hold(session);
      const headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-accept-encoding': 'identity', 'user-agent': 'trellis-http2-grpc', ...metadata };
      if (timeoutMs !== undefined) headers['grpc-timeout'] = `${Math.max(1, Math.ceil(timeoutMs))}m`;
      req = session.request(headers);
    } catch (err) {
      process.nextTick(() => finish(new GrpcError(UNAVAILABLE, (err as Error).message)));
      s.write = () => {};
      s.cancel = () => void (done = true);
      return { s, req: undefined };
    }
    const r = req;
    let status: { code: number; message: string } | undefined;
    const reader = new FrameReader(this.o.maxReceiveBytes ?? 64 * 1024 * 1024, (m) => !done && s.emit('data', m));
    r.on('response', (h) => {
      const http = Number(h[':status']);
      if (http !== 200) {
        finish(new GrpcError(codeOfHttp(http), `HTTP status ${http}`));
        r.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      status = statusOf(h); // trailers-only: the status came with the headers
    });
    r.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        finish(err as Error);
        r.close(http2.constants.NGHTTP2_CANCEL);
      }
    });
    r.on('trailers', (t) => (status = statusOf(t)));
    r.on('error', (err) => finish(new GrpcError(UNAVAILABLE, err.message)));
    r.on('close', () => {
      if (!status) finish(new GrpcError(UNAVAILABLE, `stream closed without a status (HTTP/2 code ${r.rstCode})`));
      else if (status.code === 0) finish();
      else finish(new GrpcError(status.code, status.message));
    });
    s.write = (m) => {
      if (!done) r.write(frame(m));
    };
    s.cancel = () => {
      if (done) return;
      done = true;
      release();
      r.close(http2.constants.NGHTTP2_CANCEL);
    };
    return { s, req: r };
  }

  stream(path: string): GrpcStream {
    return this.call(path).s;
  }

  unary(path: string, request: Uint8Array, o: UnaryOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const { s, req } = this.call(path, o.metadata, o.timeoutMs);
      let response: Buffer | undefined;
      const timer = setTimeout(() => {
        s.cancel();
        reject(new GrpcError(4, 'deadline exceeded'));
      }, o.timeoutMs);
      s.on('data', (m: Buffer) => (response = Buffer.from(m)));
      s.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.on('end', () => {
        clearTimeout(timer);
        if (response) resolve(response);
        else reject(new GrpcError(13, 'the server sent no response message'));
      });
      req?.end(frame(request));
    });
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }
}
