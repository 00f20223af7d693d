// Envoy access log formats compiled once into functions of a request record: text with %COMMAND% operators, or JSON
// whose values are such strings. Lines go to a file or the proxy's stdout, buffered.

import { createWriteStream, type WriteStream } from 'node:fs';
import type { HttpRequestRecord } from '../proxy/records.js';

type Part = (r: HttpRequestRecord) => string;

const header = (h: Readonly<Record<string, string | string[] | undefined>> | undefined, name: string): string | undefined => {
  const v = h?.[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** `%REQ(X?Y):N%` → first present header of X, Y, truncated to N. */
function headerOperator(source: 'req' | 'resp', spec: string, max: number | undefined): Part {
  const names = spec.toLowerCase().split('?').map((n) => (n === ':authority' ? 'host' : n));
  return (r) => {
    let v: string | undefined;
    for (const n of names) {
      if (source === 'req') {
        if (n === ':method') v = r.method;
        else if (n === ':path') v = r.path;
        else if (n === 'host') v = r.authority;
        else v = header(r.requestHeaders, n);
      } else v = header(r.responseHeaders, n);
      if (v !== undefined) break;
    }
    if (v === undefined) return '-';
    return max ? v.slice(0, max) : v;
  };
}

const OPERATORS: Record<string, Part> = {
  START_TIME: (r) => new Date(r.startTime).toISOString(),
  PROTOCOL: (r) => r.protocol,
  RESPONSE_CODE: (r) => String(r.responseCode),
  RESPONSE_FLAGS: (r) => r.responseFlags || '-',
  RESPONSE_CODE_DETAILS: (r) => r.responseCodeDetails || '-',
  CONNECTION_TERMINATION_DETAILS: () => '-',
  UPSTREAM_TRANSPORT_FAILURE_REASON: (r) => r.upstreamTransportFailureReason || '-',
  BYTES_RECEIVED: (r) => String(r.bytesReceived),
  BYTES_SENT: (r) => String(r.bytesSent),
  DURATION: (r) => String(Math.round(r.duration)),
  UPSTREAM_HOST: (r) => r.upstreamHost || '-',
  UPSTREAM_CLUSTER: (r) => r.upstreamCluster || '-',
  UPSTREAM_LOCAL_ADDRESS: () => '-',
  DOWNSTREAM_LOCAL_ADDRESS: (r) => r.downstreamLocalAddress || '-',
  DOWNSTREAM_REMOTE_ADDRESS: (r) => r.downstreamRemoteAddress || '-',
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (r) => r.downstreamRemoteAddress.replace(/:\d+$/, '') || '-',
  REQUESTED_SERVER_NAME: () => '-',
  ROUTE_NAME: (r) => r.routeName || '-',
  METHOD: (r) => r.method,
  REQUEST_DURATION: (r) => String(Math.round(r.duration)),
  RESPONSE_DURATION: (r) => (r.responseDuration === undefined ? '-' : String(Math.round(r.responseDuration))),
  UPSTREAM_SERVICE_TIME: (r) => (r.upstreamServiceTime === undefined ? '-' : String(Math.round(r.upstreamServiceTime))),
  GRPC_STATUS: (r) => (r.grpcStatus === undefined ? '-' : String(r.grpcStatus)),
};

/** Compile a text format; unknown operators are an error naming them (as Envoy rejects the config). */
export function compileText(format: string): (r: HttpRequestRecord) => string {
  const parts: Part[] = [];
  const re = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;
  let last = 0;
  for (let m; (m = re.exec(format)); ) {
    const literal = format.slice(last, m.index);
    if (literal) parts.push(() => literal);
    const [, op, arg, max] = m;
    if (op === 'REQ' || op === 'RESP') parts.push(headerOperator(op === 'REQ' ? 'req' : 'resp', arg ?? '', max ? Number(max) : undefined));
    else if (OPERATORS[op!]) parts.push(OPERATORS[op!]!);
    else throw new Error(`unknown access log operator %${op}%`);
    last = re.lastIndex;
  }
  const tail = format.slice(last);
  if (tail) parts.push(() => tail);
  return (r) => parts.map((p) => p(r)).join('');
}

/** JSON format: each value is a text format; numbers stay numbers. */
export function compileJson(labels: Record<string, string>): (r: HttpRequestRecord) => string {
  const fields = Object.entries(labels).map(([k, v]) => [k, compileText(v)] as const);
  return (r) => {
    const o: Record<string, unknown> = {};
    for (const [k, f] of fields) {
      const v = f(r);
      o[k] = v === '-' ? null : /^\d+$/.test(v) ? Number(v) : v;
    }
    return JSON.stringify(o) + '\n';
  };
}

const streams = new Map<string, WriteStream>();

/** Lines to a path (`/dev/stdout` is the proxy's stdout), buffered by the stream. */
export function sinkFor(path: string): (line: string) => void {
  if (path === '/dev/stdout') return (l) => void process.stdout.write(l);
  if (path === '/dev/stderr') return (l) => void process.stderr.write(l);
  let s = streams.get(path);
  if (!s) {
    s = createWriteStream(path, { flags: 'a' });
    streams.set(path, s);
  }
  const stream = s;
  return (l) => void stream.write(l);
}
