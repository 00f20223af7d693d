// Reads a connection's first bytes without consuming them (they are pushed back), to tell h2c from HTTP/1.x from TLS or raw TCP.

import type net from 'node:net';
import { parseClientHello, type ClientHello } from './client-hello.js';

export type Detected = 'h2c' | 'http/1.1' | 'tls' | 'unknown';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const METHOD = /^[A-Z]{3,10} /;

/** Decides as soon as the bytes allow; undefined means "need more". */
export function classify(buf: Buffer): Detected | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] === 0x16) return buf.length < 2 ? undefined : buf[1] === 0x03 ? 'tls' : 'unknown';
  const n = Math.min(buf.length, PREFACE.length);
  if (buf.subarray(0, n).equals(PREFACE.subarray(0, n))) return buf.length >= PREFACE.length ? 'h2c' : undefined;
  const nl = buf.indexOf(0x0a);
  if (nl < 0) {
    if (buf.length > 8192) return 'unknown';
    // "GET " is enough to know it is HTTP/1.x for practical purposes once a method and space arrived
    return METHOD.test(buf.toString('latin1', 0, Math.min(buf.length, 12))) ? 'http/1.1' : buf.length >= 12 ? 'unknown' : undefined;
  }
  const line = buf.toString('latin1', 0, nl);
  return /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/.test(line) ? 'http/1.1' : 'unknown';
}

/**
 * Waits for enough bytes to classify the connection, then puts them back so the next reader sees the whole
 * stream. With `timeoutMs` > 0 the callback gets undefined when the client stays silent that long (server-first
 * protocols).
 */
export function sniff(socket: net.Socket, timeoutMs: number, cb: (d: Detected | undefined, hello?: ClientHello) => void, wantHello = false): void {
  let buf: Buffer | undefined;
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let hello: ClientHello | undefined;
  const finish = (d: Detected | undefined) => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onEnd);
    socket.pause();
    if (buf) socket.unshift(buf);
    cb(d, hello);
  };
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const d = classify(buf);
    if (d === 'tls' && wantHello) {
      // Chains that match on server names need the whole ClientHello (Envoy's tls_inspector), not just its first bytes.
      const h = parseClientHello(buf);
      if (h === undefined) return;
      hello = h ?? undefined;
    }
    if (d !== undefined) finish(d);
  };
  const onEnd = () => finish('unknown');
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  if (timeoutMs > 0) timer = setTimeout(() => finish(undefined), timeoutMs);
}
