// Inbound/outbound metrics of one app, workload or service over time: Kiali's detail-page charts.

import { promString } from '../graph/queries.js';
import type { MetricsSource } from '../sources.js';

export type TargetKind = 'app' | 'workload' | 'service';
export type Direction = 'inbound' | 'outbound';

export interface MetricSeries {
  name: string;
  /** Unit of the values: requests per second, milliseconds, bytes per second, or a ratio (0–1). */
  unit: 'rps' | 'ms' | 'Bps' | 'ratio';
  /** [unix seconds, value]; NaN where Prometheus had no value. */
  points: Array<[number, number]>;
}

export interface Dashboard {
  target: { kind: TargetKind; namespace: string; name: string };
  direction: Direction;
  start: number;
  end: number;
  step: number;
  series: MetricSeries[];
}

/**
 * The selector Kiali uses per target and direction: inbound is reported by the destination proxy, outbound by
 * the source proxy; services only have inbound traffic.
 */
export function selectorFor(kind: TargetKind, namespace: string, name: string, direction: Direction): string {
  const ns = promString(namespace);
  const n = promString(name);
  if (kind === 'service') return `reporter="destination",destination_service_namespace=${ns},destination_service_name=${n}`;
  if (direction === 'inbound') return `reporter="destination",destination_workload_namespace=${ns},destination_${kind}=${n}`;
  return `reporter="source",source_workload_namespace=${ns},source_${kind}=${n}`;
}

export function dashboardQueries(selector: string, rateSeconds: number): Array<Omit<MetricSeries, 'points'> & { query: string }> {
  const r = `[${Math.max(1, Math.round(rateSeconds))}s]`;
  const quantile = (q: number) => `histogram_quantile(${q}, sum(rate(istio_request_duration_milliseconds_bucket{${selector}}${r})) by (le))`;
  return [
    { name: 'Request volume', unit: 'rps', query: `sum(rate(istio_requests_total{${selector}}${r}))` },
    { name: 'Request errors', unit: 'rps', query: `sum(rate(istio_requests_total{${selector},response_code=~"[45].."}${r}))` },
    { name: 'Duration p50', unit: 'ms', query: quantile(0.5) },
    { name: 'Duration p95', unit: 'ms', query: quantile(0.95) },
    { name: 'Duration p99', unit: 'ms', query: quantile(0.99) },
    { name: 'TCP sent', unit: 'Bps', query: `sum(rate(istio_tcp_sent_bytes_total{${selector}}${r}))` },
    { name: 'TCP received', unit: 'Bps', query: `sum(rate(istio_tcp_received_bytes_total{${selector}}${r}))` },
  ];
}

export async function fetchDashboard(
  metrics: MetricsSource,
  target: Dashboard['target'],
  direction: Direction,
  durationSeconds: number,
  end = Math.floor(Date.now() / 1000),
): Promise<Dashboard> {
  // About 60 points per chart; the rate window spans a few steps so that short gaps between scrapes do not show.
  const step = Math.max(1, Math.floor(durationSeconds / 60));
  const start = end - durationSeconds;
  const queries = dashboardQueries(selectorFor(target.kind, target.namespace, target.name, direction), Math.max(step * 4, 10));
  const series = await Promise.all(
    queries.map(async ({ query, ...meta }) => {
      const result = await metrics.queryRange(query, start, end, step);
      return { ...meta, points: result[0]?.values ?? [] };
    }),
  );
  return { target, direction, start, end, step, series };
}
