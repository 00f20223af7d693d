// HTTP/1.1 wire helpers for the raw-socket fast paths (downstream server, upstream pool): header blocks parsed the
// way node:http presents them (lower-case names, its duplicate rules), chunked bodies, one Buffer per write.

import type { IncomingHttpHeaders } from 'node:http';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Index just past the blank line that ends a header block in `buf` (searching from `from`), or -1. */
export function headEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(CRLFCRLF, from > 3 ? from - 3 : 0);
  return i < 0 ? -1 : i + 4;
}

/** Headers node:http keeps only the first of (IncomingMessage's matchKnownFields). */
const FIRST_WINS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

/** Adds one received header the way node:http's IncomingMessage does (set-cookie array, cookie "; ", others ", "). */
export function addHeader(h: IncomingHttpHeaders, name: string, value: string): void {
  const prev = h[name];
  if (prev === undefined) {
    h[name] = name === 'set-cookie' ? [value] : value;
    return;
  }
  if (name === 'set-cookie') (prev as string[]).push(value);
  else if (FIRST_WINS.has(name)) return;
  else h[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
}

// RFC 9110 token characters, as a lookup table.
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Header values node:http refuses to send (ERR_INVALID_CHAR). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

const validNames = new Set<string>();

/**
 * Appends "name: value\r\n" lines for a header map to `out`; throws (like node:http's writeHead) on a name or value
 * that cannot be sent. `skip` is called for names the caller writes itself.
 */
export function serializeHeaders(headers: Record<string, string | number | readonly string[] | undefined>, out: string): string {
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (!validNames.has(k)) {
      if (!isToken(k)) throw new TypeError(`invalid header name "${k}"`);
      if (validNames.size < 4096) validNames.add(k);
    }
    if (typeof v === 'string') {
      if (INVALID_VALUE.test(v)) throw new TypeError(`invalid value for header "${k}"`);
      out += `${k}: ${v}\r\n`;
    } else if (typeof v === 'number') {
      out += `${k}: ${v}\r\n`;
    } else {
      for (const one of v) {
        const s = String(one);
        if (INVALID_VALUE.test(s)) throw new TypeError(`invalid value for header "${k}"`);
        out += `${k}: ${s}\r\n`;
      }
    }
  }
  return out;
}

export interface ParsedHead {
  /** Request: method; response: undefined. */
  method: string | undefined;
  /** Request target (request) or reason phrase (response). */
  target: string;
  status: number;
  versionMinor: number;
  headers: IncomingHttpHeaders;
  /** Something the fast path does not handle (obs-fold, odd framing): the caller falls back or fails. */
  unusual: boolean;
}

/**
 * Parses a complete header block (`buf[start, end)`, CRLF line ends, the blank line included). Returns undefined for
 * a malformed block.
 */
export function parseHead(buf: Buffer, start: number, end: number, isRequest: boolean): ParsedHead | undefined {
  const s = buf.toString('latin1', start, end - 4);
  let eol = s.indexOf('\r\n');
  if (eol < 0) eol = s.length;
  const line = s.slice(0, eol);
  let method: string | undefined;
  let target: string;
  let status = 0;
  let versionMinor: number;
  if (isRequest) {
    const sp1 = line.indexOf(' ');
    const sp2 = line.lastIndexOf(' ');
    if (sp1 <= 0 || sp2 <= sp1 + 1) return undefined;
    method = line.slice(0, sp1);
    target = line.slice(sp1 + 1, sp2);
    const v = line.slice(sp2 + 1);
    if (v === 'HTTP/1.1') versionMinor = 1;
    else if (v === 'HTTP/1.0') versionMinor = 0;
    else return undefined;
    if (!isToken(method!) || target.indexOf(' ') >= 0) return undefined;
  } else {
    if (!line.startsWith('HTTP/1.') || line.length < 12 || line.charCodeAt(12) !== 32 && line.length > 12) return undefined;
    versionMinor = line.charCodeAt(7) - 48;
    status = Number(line.slice(9, 12));
    if (!(status >= 100 && status <= 999)) return undefined;
    target = line.slice(13);
  }
  const headers: IncomingHttpHeaders = {};
  let unusual = false;
  let pos = eol + 2;
  while (pos < s.length) {
    let next = s.indexOf('\r\n', pos);
    if (next < 0) next = s.length;
    const c0 = s.charCodeAt(pos);
    if (c0 === 32 || c0 === 9) {
      unusual = true; // obs-fold
      pos = next + 2;
      continue;
    }
    const colon = s.indexOf(':', pos);
    if (colon < 0 || colon > next) return undefined;
    const name = s.slice(pos, colon).toLowerCase();
    if (!isToken(name)) return undefined;
    let a = colon + 1;
    let b = next;
    while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
    while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
    const value = s.slice(a, b);
    if ((name === 'content-length' || name === 'transfer-encoding') && headers[name] !== undefined) unusual = true;
    addHeader(headers, name, value);
    pos = next + 2;
  }
  return { method, target, status, versionMinor, headers, unusual };
}

/** Content-Length as a number, or -1 when absent, -2 when invalid. */
export function contentLength(v: string | string[] | undefined): number {
  if (v === undefined) return -1;
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) return -2;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -2;
  }
  return Number(v);
}

/** Incremental chunked-body decoder: feeds data slices and trailers to callbacks. */
export class ChunkedDecoder {
  /** 0 size line, 1 data, 2 CRLF after data, 3 trailers, 4 done */
  private state = 0;
  private remaining = 0;
  private line = '';
  private trailerText = '';
  trailers: IncomingHttpHeaders | undefined;

  get done(): boolean {
    return this.state === 4;
  }

  /**
   * Consumes bytes from `buf[start, end)`, calling `onData` for body slices; returns the index after what it used
   * (less than `end` only once the body is complete), or -1 on a framing error.
   */
  feed(buf: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): number {
    let i = start;
    while (i < end && this.state !== 4) {
      switch (this.state) {
        case 0: {
          const nl = buf.indexOf(10, i);
          if (nl < 0 || nl >= end) {
            this.line += buf.toString('latin1', i, end);
            if (this.line.length > 1024) return -1;
            return end;
          }
          let text = this.line + buf.toString('latin1', i, nl);
          this.line = '';
          i = nl + 1;
          if (text.endsWith('\r')) text = text.slice(0, -1);
          const semi = text.indexOf(';');
          const hex = (semi >= 0 ? text.slice(0, semi) : text).trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return -1;
          this.remaining = parseInt(hex, 16);
          this.state = this.remaining === 0 ? 3 : 1;
          break;
        }
        case 1: {
          const n = Math.min(this.remaining, end - i);
          onData(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 2;
          break;
        }
        case 2: {
          // CRLF after the data
          const nl = buf.indexOf(10, i);
          if (nl < 0 || nl >= end) {
            this.line += buf.toString('latin1', i, end);
            if (this.line.length > 2) return -1;
            return end;
          }
          const text = this.line + buf.toString('latin1', i, nl);
          this.line = '';
          if (text !== '\r' && text !== '') return -1;
          i = nl + 1;
          this.state = 0;
          break;
        }
        case 3: {
          const nl = buf.indexOf(10, i);
          if (nl < 0 || nl >= end) {
            this.line += buf.toString('latin1', i, end);
            if (this.line.length > 16384) return -1;
            return end;
          }
          let text = this.line + buf.toString('latin1', i, nl);
          this.line = '';
          i = nl + 1;
          if (text.endsWith('\r')) text = text.slice(0, -1);
          if (text === '') {
            this.state = 4;
            if (this.trailerText) {
              const t: IncomingHttpHeaders = {};
              for (const l of this.trailerText.split('\n')) {
                const colon = l.indexOf(':');
                if (colon > 0) addHeader(t, l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim());
              }
              this.trailers = t;
            }
          } else {
            this.trailerText += (this.trailerText ? '\n' : '') + text;
            if (this.trailerText.length > 16384) return -1;
          }
          break;
        }
      }
    }
    return i;
  }
}

/** The chunk-size line for a body chunk of `n` bytes. */
export function chunkHeader(n: number): string {
  return `${n.toString(16)}\r\n`;
}

/** One Buffer with a latin1 header block followed by `body` (one write instead of two). */
export function headPlusBody(head: string, body: Buffer | undefined, tail?: string): Buffer {
  const hl = Buffer.byteLength(head, 'latin1');
  const bl = body ? body.length : 0;
  const tl = tail ? tail.length : 0;
  const out = Buffer.allocUnsafe(hl + bl + tl);
  out.write(head, 0, 'latin1');
  if (body) body.copy(out, hl);
  if (tail) out.write(tail, hl + bl, 'latin1');
  return out;
}
