// Trace context (W3C traceparent and B3, multi-header and single) and span export (Zipkin v2 JSON, OTLP/HTTP JSON),
// batched off the request path with a bounded queue.

import { randomBytes } from 'node:crypto';

export interface TraceContext {
  traceId: string;
  spanId: string;
  parentId: string | undefined;
  sampled: boolean;
}

type Headers = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The incoming context, from traceparent first, then single b3, then x-b3-*. */
export function parseContext(h: Headers): { traceId: string; spanId: string; sampled: boolean | undefined } | undefined {
  const tp = one(h['traceparent']);
  const m = tp && /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(tp);
  if (m) return { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 };
  const b3 = one(h['b3']);
  if (b3 && b3 !== '0') {
    const [traceId, spanId, sampled] = b3.split('-');
    if (traceId && spanId) return { traceId: traceId.padStart(32, '0'), spanId, sampled: sampled === undefined ? undefined : sampled === '1' || sampled === 'd' };
  }
  const tid = one(h['x-b3-traceid']);
  const sid = one(h['x-b3-spanid']);
  const s = one(h['x-b3-sampled']);
  if (tid && sid) return { traceId: tid.padStart(32, '0'), spanId: sid, sampled: s === undefined ? undefined : s === '1' || s === 'true' };
  return undefined;
}

/** A new span for this hop: a child of the incoming one, or a new trace sampled at `samplingPercent`. */
export function startSpan(h: Headers, samplingPercent: number): TraceContext {
  const incoming = parseContext(h);
  const sampled = incoming?.sampled ?? Math.random() * 100 < samplingPercent;
  return { traceId: incoming?.traceId ?? randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), parentId: incoming?.spanId, sampled };
}

/** Write the context on the forwarded request in both formats, so either kind of app propagates it. */
export function injectContext(h: Headers, c: TraceContext): void {
  h['traceparent'] = `00-${c.traceId}-${c.spanId}-${c.sampled ? '01' : '00'}`;
  h['x-b3-traceid'] = c.traceId;
  h['x-b3-spanid'] = c.spanId;
  h['x-b3-sampled'] = c.sampled ? '1' : '0';
  if (c.parentId) h['x-b3-parentspanid'] = c.parentId;
  else delete h['x-b3-parentspanid'];
  if (h['b3'] !== undefined) h['b3'] = `${c.traceId}-${c.spanId}-${c.sampled ? '1' : '0'}${c.parentId ? `-${c.parentId}` : ''}`;
}

export interface Span {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: 'CLIENT' | 'SERVER';
  /** Epoch microseconds. */
  timestamp: number;
  /** Microseconds. */
  duration: number;
  serviceName: string;
  tags: Record<string, string>;
}

function zipkinBody(spans: Span[]): string {
  return JSON.stringify(
    spans.map((s) => ({ traceId: s.traceId, id: s.id, ...(s.parentId ? { parentId: s.parentId } : {}), name: s.name, kind: s.kind, timestamp: s.timestamp, duration: s.duration, localEndpoint: { serviceName: s.serviceName }, tags: s.tags })),
  );
}

function otlpBody(spans: Span[]): string {
  const byService = new Map<string, Span[]>();
  for (const s of spans) byService.set(s.serviceName, [...(byService.get(s.serviceName) ?? []), s]);
  return JSON.stringify({
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: 'trellis' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.id,
            ...(s.parentId ? { parentSpanId: s.parentId } : {}),
            name: s.name,
            kind: s.kind === 'SERVER' ? 2 : 3,
            startTimeUnixNano: String(BigInt(Math.round(s.timestamp)) * 1000n),
            endTimeUnixNano: String(BigInt(Math.round(s.timestamp + s.duration)) * 1000n),
            attributes: Object.entries(s.tags).map(([key, v]) => ({ key, value: { stringValue: v } })),
          })),
        },
      ],
    })),
  });
}

/** Batches spans per collector and posts them every `flushMs` or at `batch` spans; drops beyond `maxQueue`. */
export class SpanExporter {
  private readonly queues = new Map<string, { kind: 'zipkin' | 'otlp'; spans: Span[] }>();
  private timer: NodeJS.Timeout | undefined;
  dropped = 0;

  constructor(private readonly o: { flushMs?: number; batch?: number; maxQueue?: number } = {}) {}

  export(collector: { kind: 'zipkin' | 'otlp'; url: string }, span: Span): void {
    let q = this.queues.get(collector.url);
    if (!q) {
      q = { kind: collector.kind, spans: [] };
      this.queues.set(collector.url, q);
    }
    if (q.spans.length >= (this.o.maxQueue ?? 5000)) {
      this.dropped++;
      return;
    }
    q.spans.push(span);
    if (q.spans.length >= (this.o.batch ?? 100)) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.o.flushMs ?? 1000);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sends: Array<Promise<unknown>> = [];
    for (const [url, q] of this.queues) {
      if (!q.spans.length) continue;
      const spans = q.spans.splice(0);
      sends.push(
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: q.kind === 'zipkin' ? zipkinBody(spans) : otlpBody(spans), signal: AbortSignal.timeout(5000) }).catch(() => {
          this.dropped += spans.length; // the collector is down: tracing must never hurt the traffic
        }),
      );
    }
    await Promise.all(sends);
  }
}
