// Telemetry costs: recording a request into Istio's metrics, and rendering /stats/prometheus with many series.
import { IstioMetrics, REQUEST_LABELS } from '../dist/telemetry/istio-metrics.js';
import { median, table } from './lib/table.mjs';

export async function runTelemetry(o) {
  const rows = [];
  for (const series of o.series) {
    const m = new IstioMetrics();
    const base = Object.fromEntries(REQUEST_LABELS.map((l) => [l, 'value']));
    const sets = Array.from({ length: series }, (_, i) => ({ ...base, destination_workload: `workload-${i % 100}`, response_code: String(200 + (i % 10)), source_workload: `client-${Math.floor(i / 100)}` }));
    // Recording: warm, then time a million records spread over the series.
    for (const s of sets) m.recordRequest(s, 5, 100, 200);
    const n = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) m.recordRequest(sets[i % series], i % 300, 100, 200);
    const perRecordUs = ((performance.now() - t0) * 1000) / n;
    const renders = [];
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const r0 = performance.now();
      bytes = (await m.render()).length;
      renders.push(performance.now() - r0);
    }
    rows.push([series, perRecordUs, median(renders), Math.round(bytes / 1024)]);
  }
  return { text: ['### Istio metrics in one proxy', '', table(['series', 'record one request (µs)', 'render /stats/prometheus (ms)', 'exposition size (KiB)'], rows)].join('\n'), goals: [] };
}
