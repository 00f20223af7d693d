// Header hygiene between hops: hop-by-hop and pseudo headers are not forwarded; request ids; gRPC detection.

import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap } from '../config/header-mutation.js';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

function connectionTokens(v: string | string[] | undefined): string[] | undefined {
  if (!v) return undefined;
  const s = Array.isArray(v) ? v.join(',') : v;
  const out: string[] = [];
  for (const t of s.split(',')) {
    const n = t.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive' && n !== 'upgrade') out.push(n);
  }
  return out.length ? out : undefined;
}

/**
 * The headers to send upstream: everything but hop-by-hop headers, headers the Connection header names,
 * pseudo-headers and Host (the authority travels separately). `te: trailers` survives (gRPC needs it).
 */
export function upstreamRequestHeaders(src: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  const extra = connectionTokens(src.connection);
  for (const k in src) {
    if (k.charCodeAt(0) === 58 /* : */ || k === 'host') continue;
    if (HOP_BY_HOP.has(k)) {
      if (k === 'te' && /(^|,)\s*trailers\s*(,|$)/i.test(String(src.te))) out.te = 'trailers';
      continue;
    }
    if (extra && extra.includes(k)) continue;
    out[k] = src[k];
  }
  return out;
}

/** The hop-by-hop headers an upstream response can carry (`te` and `http2-settings` are request-only). */
const RESPONSE_HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

/**
 * The upstream response's headers without hop-by-hop ones, for the downstream response. A copy when there is
 * something to drop: deleting properties would turn the parsed header object into a slow dictionary-mode object
 * (and Node servers send `connection` and `keep-alive` on every keep-alive response).
 */
export function cleanResponseHeaders(h: IncomingHttpHeaders): HeaderMap {
  if (RESPONSE_HOP_BY_HOP.every((k) => h[k] === undefined)) return h as HeaderMap;
  const extra = connectionTokens(h.connection);
  const out: HeaderMap = {};
  for (const k in h) {
    if (RESPONSE_HOP_BY_HOP.includes(k)) continue;
    if (extra && extra.includes(k)) continue;
    out[k] = h[k];
  }
  return out;
}

export function isGrpcContentType(ct: string | string[] | undefined): boolean {
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/** gRPC's mapping from an HTTP status to a status code, as Envoy applies it to local replies. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** grpc-message is percent-encoded outside printable ASCII (and "%" itself). */
export function encodeGrpcMessage(msg: string): string {
  let out = '';
  for (const b of Buffer.from(msg, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** grpc-timeout ("100m", "5S") in milliseconds. */
export function parseGrpcTimeout(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'H':
      return n * 3_600_000;
    case 'M':
      return n * 60_000;
    case 'S':
      return n * 1000;
    case 'm':
      return n;
    case 'u':
      return Math.ceil(n / 1000);
    default:
      return Math.ceil(n / 1e6);
  }
}
