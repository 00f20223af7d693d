// Istio's standard metrics with their names, types, labels and buckets, kept per label set and rendered in the
// Prometheus text format.
//
// This is the proxy's per-request hot path, so it is written here rather than on prom-client: prom-client validates
// and hashes every label of a series on each observation (25 labels × 4 metrics: ~19 µs per request measured here).
// A request now costs one key built from its label values, a map lookup and
// a few additions; the label text of a series is rendered once, at the first scrape that shows it. The control plane keeps
// prom-client (src/telemetry/controlplane-metrics.ts), and telemetry.test.ts checks this exposition against
// prom-client's for the same requests.

import { formatValue, labelText, PROMETHEUS_CONTENT_TYPE, type MetricsJson } from './exposition.js';

export const REQUEST_LABELS = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version', 'source_canonical_service', 'source_canonical_revision', 'source_cluster',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version', 'destination_service', 'destination_service_name',
  'destination_service_namespace', 'destination_canonical_service', 'destination_canonical_revision', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status',
  'response_flags', 'connection_security_policy',
] as const;

export const TCP_LABELS = REQUEST_LABELS.filter((l) => !['request_protocol', 'response_code', 'grpc_response_status'].includes(l)).concat(['request_protocol']);

export type RequestLabels = Record<(typeof REQUEST_LABELS)[number], string>;
export type TcpLabels = Record<string, string>;

/** Istio's default buckets. */
export const DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
export const SIZE_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

/** Istio's metric enum (Telemetry API `match.metric`) → metric names. */
export { METRIC_NAMES } from './metric-names.js';

/** A histogram of one series: per-bucket (not cumulative) counts, the last slot for values above every bound. */
interface Histogram {
  counts: Float64Array;
  sum: number;
  count: number;
}

interface Series {
  labels: Record<string, string>;
  /** The labels as exposition text, rendered at the first scrape that shows the series. */
  text?: string;
}

interface RequestSeries extends Series {
  requests: number;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

interface TcpSeries extends Series {
  opened: number;
  closed: number;
  sent: number;
  received: number;
}

const histogram = (buckets: readonly number[]): Histogram => ({ counts: new Float64Array(buckets.length + 1), sum: 0, count: 0 });
const newRequestSeries = (labels: Record<string, string>): RequestSeries => ({ labels, requests: 0, duration: histogram(DURATION_BUCKETS), requestBytes: histogram(SIZE_BUCKETS), responseBytes: histogram(SIZE_BUCKETS) });
const newTcpSeries = (labels: Record<string, string>): TcpSeries => ({ labels, opened: 0, closed: 0, sent: 0, received: 0 });

function observe(h: Histogram, buckets: readonly number[], v: number): void {
  let i = 0;
  while (i < buckets.length && v > buckets[i]!) i++;
  h.counts[i]!++;
  h.sum += v;
  h.count++;
}

const SEP = '\u0001';

/** The series of `labels` over `names` (a name the labels lack counts as empty), created on first use. */
function seriesOf<S extends Series>(map: Map<string, S>, names: readonly string[], labels: Record<string, string>, create: (labels: Record<string, string>) => S): S {
  let key = '';
  for (let i = 0; i < names.length; i++) key += (labels[names[i]!] ?? '') + SEP;
  let s = map.get(key);
  if (!s) {
    const own: Record<string, string> = {};
    for (const n of names) own[n] = labels[n] ?? '';
    s = create(own);
    map.set(key, s);
  }
  return s;
}

const textOf = (s: Series): string => (s.text ??= labelText(s.labels));

/** One metric as a scrape sees it: the series that have a sample, with a value (counter) or a histogram. */
type Family = { name: string; help: string } & (
  | { type: 'counter'; samples: Array<{ series: Series; value: number }> }
  | { type: 'histogram'; buckets: readonly number[]; samples: Array<{ series: Series; histogram: Histogram }> }
);

export class IstioMetrics {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private requests = new Map<string, RequestSeries>();
  private tcp = new Map<string, TcpSeries>();
  /** Tags added by Telemetry overrides (UPSERT of a new name): every series is rebuilt with them as labels. */
  private extra: string[] = [];
  private requestNames: readonly string[] = REQUEST_LABELS;
  private tcpNames: readonly string[] = TCP_LABELS;

  /**
   * Record one request. `disabled` holds metric names a Telemetry override turned off; labels may carry extra
   * tags (an empty value is how a removed tag disappears: Prometheus drops empty labels).
   */
  recordRequest(labels: RequestLabels & Record<string, string>, durationMs: number, requestBytes: number, responseBytes: number, disabled?: ReadonlySet<string>): void {
    let count = 0;
    for (const _ in labels) count++;
    if (count > this.requestNames.length) this.addExtra(labels);
    const s = seriesOf(this.requests, this.requestNames, labels, newRequestSeries);
    if (!disabled?.has('istio_requests_total')) s.requests++;
    if (!disabled?.has('istio_request_duration_milliseconds')) observe(s.duration, DURATION_BUCKETS, durationMs);
    if (!disabled?.has('istio_request_bytes')) observe(s.requestBytes, SIZE_BUCKETS, requestBytes);
    if (!disabled?.has('istio_response_bytes')) observe(s.responseBytes, SIZE_BUCKETS, responseBytes);
  }

  private addExtra(labels: Record<string, string>): void {
    const fresh = Object.keys(labels).filter((n) => !(REQUEST_LABELS as readonly string[]).includes(n) && !this.extra.includes(n));
    if (!fresh.length) return;
    this.extra = [...this.extra, ...fresh];
    this.requestNames = [...REQUEST_LABELS, ...this.extra];
    this.tcpNames = [...TCP_LABELS, ...this.extra];
    // A metric's label names are fixed: the series counted so far are dropped, as prom-client's rebuild did.
    this.requests.clear();
    this.tcp.clear();
  }

  recordTcpOpen(labels: TcpLabels): void {
    seriesOf(this.tcp, this.tcpNames, labels, newTcpSeries).opened++;
  }

  recordTcpClose(labels: TcpLabels, sent: number, received: number): void {
    const s = seriesOf(this.tcp, this.tcpNames, labels, newTcpSeries);
    s.closed++;
    s.sent += sent;
    s.received += received;
  }

  /**
   * The eight metrics in exposition order. A series appears in a metric once it has counted there: a disabled
   * metric, or a TCP connection not yet closed, has no sample (prom-client never created one either).
   */
  private families(): Family[] {
    const req = [...this.requests.values()];
    const tcp = [...this.tcp.values()];
    const counter = <S extends Series>(name: string, help: string, series: S[], value: (s: S) => number, present: (s: S) => boolean): Family => ({
      name,
      help,
      type: 'counter',
      samples: series.filter(present).map((s) => ({ series: s, value: value(s) })),
    });
    const hist = (name: string, help: string, buckets: readonly number[], pick: (s: RequestSeries) => Histogram): Family => ({
      name,
      help,
      type: 'histogram',
      buckets,
      samples: req.filter((s) => pick(s).count > 0).map((s) => ({ series: s, histogram: pick(s) })),
    });
    return [
      counter('istio_requests_total', 'Total requests.', req, (s) => s.requests, (s) => s.requests > 0),
      hist('istio_request_duration_milliseconds', 'Request duration in milliseconds.', DURATION_BUCKETS, (s) => s.duration),
      hist('istio_request_bytes', 'Request body sizes in bytes.', SIZE_BUCKETS, (s) => s.requestBytes),
      hist('istio_response_bytes', 'Response body sizes in bytes.', SIZE_BUCKETS, (s) => s.responseBytes),
      counter('istio_tcp_sent_bytes_total', 'Bytes sent during a TCP connection.', tcp, (s) => s.sent, (s) => s.closed > 0),
      counter('istio_tcp_received_bytes_total', 'Bytes received during a TCP connection.', tcp, (s) => s.received, (s) => s.closed > 0),
      counter('istio_tcp_connections_opened_total', 'TCP connections opened.', tcp, (s) => s.opened, (s) => s.opened > 0),
      counter('istio_tcp_connections_closed_total', 'TCP connections closed.', tcp, (s) => s.closed, (s) => s.closed > 0),
    ];
  }

  /**
   * Every series as plain data (prom-client's `getMetricsAsJSON` shape): what a worker process sends its primary,
   * which sums the workers' and renders them (merged-metrics.ts).
   */
  toJson(): MetricsJson {
    return this.families().map((f) => ({
      name: f.name,
      help: f.help,
      type: f.type,
      values:
        f.type === 'counter'
          ? f.samples.map(({ series, value }) => ({ labels: series.labels, value }))
          : f.samples.flatMap(({ series, histogram: h }) => {
              let cumulative = 0;
              return [
                ...[...f.buckets, '+Inf' as const].map((le, i) => ((cumulative += h.counts[i]!), { metricName: `${f.name}_bucket`, labels: { le, ...series.labels }, value: cumulative })),
                { metricName: `${f.name}_sum`, labels: series.labels, value: h.sum },
                { metricName: `${f.name}_count`, labels: series.labels, value: h.count },
              ];
            }),
    }));
  }

  /** Prometheus text exposition, from each series' label text rendered once. */
  async render(): Promise<string> {
    // Lines collected in an array and joined once: appending to one string of tens of MiB is slower.
    const out: string[] = [];
    for (const f of this.families()) {
      out.push(`${out.length ? '\n' : ''}# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`);
      if (f.type === 'counter') {
        for (const { series, value } of f.samples) out.push(`${f.name}{${textOf(series)}} ${formatValue(value)}\n`);
        continue;
      }
      const le = [...f.buckets.map(String), '+Inf'].map((b) => `${f.name}_bucket{le="${b}",`);
      for (const { series, histogram: h } of f.samples) {
        const text = textOf(series);
        let cumulative = 0;
        for (let i = 0; i <= f.buckets.length; i++) {
          cumulative += h.counts[i]!;
          out.push(`${le[i]}${text}} ${cumulative}\n`);
        }
        out.push(`${f.name}_sum{${text}} ${formatValue(h.sum)}\n${f.name}_count{${text}} ${h.count}\n`);
      }
    }
    return out.join('');
  }
}
