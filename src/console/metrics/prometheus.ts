// MetricsSource over Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`), as Kiali talks to it.

import type { MetricsSource, RangeSeries, Sample } from '../sources.js';

export class PrometheusError extends Error {
  readonly code = 'PROMETHEUS_ERROR';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> };
}

export interface PrometheusOptions {
  /** Per-request deadline (default 10 s): a slow Prometheus must not hang the console's requests. */
  timeoutMs?: number;
}

export class PrometheusMetricsSource implements MetricsSource {
  private readonly base: string;

  constructor(url: string, private readonly options: PrometheusOptions = {}) {
    this.base = url.replace(/\/+$/, '');
  }

  async query(promql: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: promql });
    if (time !== undefined) params.set('time', String(time));
    const data = await this.call('/api/v1/query', params);
    if (data.resultType === 'scalar' || data.resultType === 'string') return [];
    return data.result.map((r) => ({ metric: r.metric, value: parseValue(r.value?.[1]) }));
  }

  async queryRange(promql: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({ query: promql, start: String(start), end: String(end), step: String(Math.max(1, Math.round(step))) });
    const data = await this.call('/api/v1/query_range', params);
    return data.result.map((r) => ({ metric: r.metric, values: (r.values ?? []).map(([t, v]) => [Number(t), parseValue(v)] as [number, number]) }));
  }

  /** Whether Prometheus answers at all (for the status endpoint). */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/-/ready`, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  private async call(path: string, params: URLSearchParams): Promise<NonNullable<PromResponse['data']>> {
    let res: Response;
    try {
      // POST with a form body, as Prometheus allows: Kiali's queries are long enough to hit URL limits.
      res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: params.toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new PrometheusError(`Prometheus at ${this.base} is not reachable: ${(err as Error).message}`);
    }
    let body: PromResponse;
    try {
      body = (await res.json()) as PromResponse;
    } catch {
      throw new PrometheusError(`Prometheus at ${this.base} answered ${res.status} without JSON`, res.status);
    }
    if (body.status !== 'success' || !body.data) throw new PrometheusError(`Prometheus query failed: ${body.errorType ?? ''} ${body.error ?? res.status}`.trim(), res.status);
    return body.data;
  }
}

/** Prometheus sends numbers as strings, including `NaN` and `+Inf`. */
export function parseValue(v: string | undefined): number {
  if (v === undefined) return NaN;
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}
