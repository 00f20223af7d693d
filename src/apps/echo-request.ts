// How the echo server describes a request: Go-style canonical header maps, client origin, full URL and parsed body, as go-httpbin reports them.

import type { IncomingMessage } from 'node:http';

/** `x-request-id` → `X-Request-Id`, as Go's net/http canonicalises header names. */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part ? part[0]!.toUpperCase() + part.slice(1) : part))
    .join('-');
}

/** Header name → all its values, in arrival order; Host included when `withHost` (go-httpbin lists it). */
export function headerMap(req: IncomingMessage, withHost: boolean): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalHeaderName(raw[i]!);
    if (name === 'Host' && !withHost) continue;
    (out[name] ??= []).push(raw[i + 1]!);
  }
  return out;
}

/** Query parameters as name → values. */
export function valuesMap(params: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of params) (out[k] ??= []).push(v);
  return out;
}

/** The client's address: the first X-Forwarded-For entry when a proxy set one, else the peer address. */
export function clientOrigin(req: IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  if (first) return first;
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

/** The URL the client asked for, honouring X-Forwarded-Proto. */
export function requestUrl(req: IncomingMessage): string {
  const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() || 'http';
  const target = req.url ?? '/';
  if (/^[a-z]+:\/\//i.test(target)) return target;
  return `${proto}://${req.headers.host ?? 'localhost'}${target}`;
}

export interface ParsedBody {
  data: string;
  form: Record<string, string[]>;
  json: unknown;
  files: Record<string, string[]>;
}

/** Body as httpbin reports it: raw `data` (a base64 data URL when not UTF-8), plus `form` or `json` by content type. */
export function parseBody(body: Buffer, contentType: string | undefined): ParsedBody {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  const isUtf8 = Buffer.from(text, 'utf8').equals(body);
  const out: ParsedBody = {
    data: isUtf8 ? text : `data:${ct || 'application/octet-stream'};base64,${body.toString('base64')}`,
    form: {},
    json: null,
    files: {},
  };
  if (ct === 'application/x-www-form-urlencoded') {
    out.form = valuesMap(new URLSearchParams(text));
  } else if (ct === 'application/json' || ct.endsWith('+json')) {
    try {
      out.json = body.length ? JSON.parse(text) : null;
    } catch {
      throw new Error('invalid JSON body');
    }
  }
  return out;
}
