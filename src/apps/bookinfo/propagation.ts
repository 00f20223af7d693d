// Which incoming headers each Bookinfo service copies onto its upstream calls, so that traces join up and `end-user` routing works.

import type { IncomingHttpHeaders } from 'node:http';

/**
 * Trace context headers, as listed in upstream Bookinfo's services (W3C, B3 multi and
 * single header, Lightstep, Datadog, Cloud Trace, gRPC binary, SkyWalking) plus
 * x-request-id, which Envoy uses to tie access logs and sampling together.
 */
export const TRACE_HEADERS: readonly string[] = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-datadog-origin',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
];

/** productpage also passes on the client's identity headers (upstream: user-agent, cookie, authorization, jwt). */
export const PRODUCTPAGE_HEADERS: readonly string[] = [...TRACE_HEADERS, 'user-agent', 'cookie', 'authorization', 'jwt'];

/** reviews passes on `end-user` (set by productpage) so routing on it also works for calls to ratings. */
export const REVIEWS_HEADERS: readonly string[] = [...TRACE_HEADERS, 'end-user', 'user-agent'];

/** details forwards the trace headers only. */
export const DETAILS_HEADERS: readonly string[] = TRACE_HEADERS;

/** Copies the listed headers that are present, keeping repeated values joined as one line. */
export function pickHeaders(incoming: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = incoming[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(name === 'cookie' ? '; ' : ', ') : v;
  }
  return out;
}
