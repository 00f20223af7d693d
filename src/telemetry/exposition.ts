// The Prometheus text format (version 0.0.4) for metric families held as plain data, and the sum of several
// processes' families: what a proxy with worker processes serves on /stats/prometheus.

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricValue {
  /** The sample's own name where it differs from the family's (`_bucket`, `_sum`, `_count`). */
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: MetricValue[];
}

/** Families as plain data (the shape of prom-client's `getMetricsAsJSON`): it crosses the workers' IPC channel. */
export type MetricsJson = MetricFamily[];

export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
}

/** `a="x",b="y"`: the inside of a sample's braces. */
export function labelText(labels: Record<string, string | number>): string {
  let out = '';
  for (const k in labels) out += `${out ? ',' : ''}${k}="${escapeLabelValue(String(labels[k]))}"`;
  return out;
}

export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sample(name: string, labels: string, value: number): string {
  return `${name}${labels ? `{${labels}}` : ''} ${formatValue(value)}\n`;
}

/** Families → the exposition: HELP and TYPE for each (even with no samples yet), then its samples. */
export function renderFamilies(families: MetricsJson): string {
  return families
    .map((f) => {
      let out = `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
      for (const v of f.values) out += sample(v.metricName ?? f.name, labelText(v.labels), v.value);
      return out;
    })
    .join('\n');
}

/** Several processes' families summed by family, sample name and label set, so each request is counted once. */
export function sumFamilies(list: readonly MetricsJson[]): MetricsJson {
  const families = new Map<string, { family: MetricFamily; byKey: Map<string, MetricValue> }>();
  for (const json of list) {
    for (const f of json) {
      let entry = families.get(f.name);
      if (!entry) families.set(f.name, (entry = { family: { name: f.name, help: f.help, type: f.type, values: [] }, byKey: new Map() }));
      for (const v of f.values) {
        const key = `${v.metricName ?? ''}\u0000${labelText(v.labels)}`;
        const have = entry.byKey.get(key);
        if (have) have.value += v.value;
        else {
          const copy = { ...v, labels: { ...v.labels } };
          entry.byKey.set(key, copy);
          entry.family.values.push(copy);
        }
      }
    }
  }
  return [...families.values()].map((e) => e.family);
}
