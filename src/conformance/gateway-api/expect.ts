// Requests to a Gateway and what the conformance suite expects of them: the status, the response's headers, a redirect's
// Location, and — read from the echo backend's JSON — the request as the backend saw it and which backend (pod prefix,
// namespace) served it. Routing settles eventually, so an expectation must hold for several requests in a row.

import http from 'node:http';
import https from 'node:https';

export interface Request {
  host?: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** HTTPS, with SNI `sni` (default: `host` without its port). */
  https?: boolean;
  sni?: string;
  /** Extra CA to trust for HTTPS. */
  ca?: string;
}

export interface ExpectedResponse {
  request: Request;
  /** What the backend must have received (defaults: the request's path, host and method). */
  backendRequest?: { host?: string; method?: string; path?: string; headers?: Record<string, string>; absentHeaders?: string[] };
  /** Status (200 by default) and response headers. */
  response?: { status?: number | number[]; headers?: Record<string, string>; absentHeaders?: string[] };
  /** The backend that must answer: its pods' name prefix and namespace (gateway-conformance-infra by default). */
  backend?: string;
  namespace?: string;
  /** For 3xx answers: the Location's parts (each compared when given; no port: none, or the scheme's default). */
  redirect?: { scheme?: string; host?: string; port?: string; path?: string };
}

export interface Reply {
  status: number;
  /** Every value of each header, as sent (lower-case names): Node would join repeated ones with ", ". */
  headers: Record<string, string[]>;
  body: string;
}

function headerLists(raw: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) (out[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!);
  return out;
}

/** The echo backend's JSON (echo-basic). */
interface Echoed {
  path: string;
  host: string;
  method: string;
  headers: Record<string, string[]>;
  namespace: string;
  pod: string;
}

const INFRA = 'gateway-conformance-infra';

/** One request to `address:port` (IPv4/6 literal), with the Host header of the request. */
export function send(address: string, port: number, r: Request, timeoutMs = 10_000): Promise<Reply> {
  const lib = r.https ? https : http;
  const headers = { ...(r.headers ?? {}), ...(r.host ? { host: r.host } : {}) };
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: address,
        port,
        method: r.method ?? 'GET',
        path: r.path,
        headers,
        agent: false,
        // The chain is verified against the suite's CA; the name is not (the suite sends names its certificate lacks
        // on purpose, to see the listener answer 404).
        ...(r.https ? { servername: r.sni ?? (r.host ?? '').replace(/:\d+$/, ''), ca: r.ca, rejectUnauthorized: !!r.ca, checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: headerLists(res.rawHeaders), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.end();
  });
}


/** Why `reply` does not meet `e`, or undefined when it does (the checks of the upstream suite's CompareRequest). */
export function mismatch(e: ExpectedResponse, reply: Reply): string | undefined {
  const statuses = [e.response?.status ?? 200].flat();
  if (!statuses.includes(reply.status)) return `status ${reply.status}, expected ${statuses.join(' or ')} (${reply.body.slice(0, 120)})`;
  for (const [name, value] of Object.entries(e.response?.headers ?? {})) {
    const got = reply.headers[name.toLowerCase()]?.join(',');
    if (got !== value) return `response header ${name}: ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`;
  }
  for (const name of e.response?.absentHeaders ?? []) if (reply.headers[name.toLowerCase()] !== undefined) return `response header ${name} should be absent`;
  if (e.redirect) {
    const location = reply.headers.location?.[0];
    if (!location) return 'no Location header';
    const u = new URL(location);
    const want = e.redirect;
    if (want.scheme !== undefined && u.protocol !== `${want.scheme}:`) return `redirect scheme ${u.protocol}, expected ${want.scheme} (${location})`;
    if (want.host !== undefined && u.hostname !== want.host) return `redirect host ${u.hostname}, expected ${want.host} (${location})`;
    // URL drops a scheme's default port, so "no port" and ":80" for http (":443" for https) both read as "".
    if (u.port !== (want.port ?? '')) return `redirect port "${u.port}", expected "${want.port ?? ''}" (${location})`;
    if (want.path !== undefined && u.pathname + u.search !== want.path) return `redirect path ${u.pathname}${u.search}, expected ${want.path} (${location})`;
    return undefined;
  }
  if (reply.status !== 200 || (!e.backend && !e.backendRequest)) return undefined;
  let echoed: Echoed;
  try {
    echoed = JSON.parse(reply.body) as Echoed;
  } catch {
    return `not an echo response: ${reply.body.slice(0, 120)}`;
  }
  const b = e.backendRequest ?? {};
  const path = b.path ?? e.request.path;
  if (echoed.path !== path) return `backend saw path ${echoed.path}, expected ${path}`;
  const host = b.host ?? e.request.host;
  if (host !== undefined && echoed.host !== host) return `backend saw host ${echoed.host}, expected ${host}`;
  const method = b.method ?? e.request.method ?? 'GET';
  if (echoed.method !== method) return `backend saw method ${echoed.method}, expected ${method}`;
  const seen = Object.fromEntries(Object.entries(echoed.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v.join(',')]));
  for (const [name, value] of Object.entries(b.headers ?? {})) {
    if (seen[name.toLowerCase()] !== value) return `backend saw header ${name}: ${JSON.stringify(seen[name.toLowerCase()])}, expected ${JSON.stringify(value)}`;
  }
  for (const name of b.absentHeaders ?? []) if (seen[name.toLowerCase()] !== undefined) return `backend saw header ${name}, which should be absent`;
  if (e.backend && !echoed.pod.startsWith(e.backend)) return `served by pod ${echoed.pod}, expected a pod of ${e.backend}`;
  const ns = e.namespace ?? INFRA;
  if (e.backend && echoed.namespace !== ns) return `served from namespace ${echoed.namespace}, expected ${ns}`;
  return undefined;
}

export interface Consistency {
  /** How long routing may take to settle (the upstream suite's MaxTimeToConsistency: 30 s). */
  maxMs: number;
  /** How many requests in a row must meet the expectation (upstream: 3). */
  consecutive: number;
}

export const DEFAULT_CONSISTENCY: Consistency = { maxMs: 30_000, consecutive: 3 };

/** Sends the request until it meets the expectation `consecutive` times in a row; throws the last mismatch after `maxMs`. */
export async function expectEventually(address: string, port: number, e: ExpectedResponse, c: Consistency = DEFAULT_CONSISTENCY): Promise<void> {
  const deadline = Date.now() + c.maxMs;
  let inARow = 0;
  let last = '';
  while (inARow < c.consecutive) {
    let problem: string | undefined;
    try {
      problem = mismatch(e, await send(address, port, e.request));
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem === undefined) inARow++;
    else {
      inARow = 0;
      last = problem;
    }
    if (inARow >= c.consecutive) return;
    if (Date.now() > deadline) throw new Error(`${e.request.method ?? 'GET'} ${e.request.host ?? ''}${e.request.path}: ${last}`);
    if (problem !== undefined) await new Promise((r) => setTimeout(r, 100));
  }
}
