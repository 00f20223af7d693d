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

interface RequestSeries {
  labels: Record<string, string>;
  /** The labels as exposition text, rendered at the first scrape that shows the series. */
  text?: string;
  requests: number;
  duration: Histogram;
  requestBytes: Histogram;
  responseBytes: Histogram;
}

interface TcpSeries {
  labels: Record<string, string>;
  text?: string;
  opened: number;
  closed: number;
  sent: number;
  received: number;
}

const histogram = (buckets: readonly number[]): Histogram => ({ counts: new Float64Array(buckets.length + 1), sum: 0, count: 0 });

function observe(h: Histogram, buckets: readonly number[], v: number): void {
  let i = 0;
  while (i < buckets.length && v > buckets[i]!) i++;
  h.counts[i]!++;
  h.sum += v;
  h.count++;
}

const SEP = '\u0001';

const textOf = (s: { text?: string; labels: Record<string, string> }): string => (s.text ??= labelText(s.labels));

export class IstioMetrics {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private requests = new Map<string, RequestSeries>();
  private tcp = new Map<string, TcpSeries>();
  /** Tags added by Telemetry overrides (UPSERT of a new name): every series is rebuilt with them as labels. */
  private extra: string[] = [];
  private requestNames: readonly string[] = REQUEST_LABELS;
  private tcpNames: readonly string[] = TCP_LABELS;

  private addExtra(labels: Record<string, string>, known: readonly string[]): void {
    const fresh = Object.keys(labels).filter((n) => !known.includes(n) && !this.extra.includes(n));
    if (!fresh.length) return;
    this.extra = [...this.extra, ...fresh];
    this.requestNames = [...REQUEST_LABELS, ...this.extra];
    this.tcpNames = [...TCP_LABELS, ...this.extra];
    // A metric's label names are fixed: the series counted so far are dropped, as prom-client's rebuild did.
    this.requests.clear();
    this.tcp.clear();
  }

  /**
   * Record one request. `disabled` holds metric names a Telemetry override turned off; labels may carry extra
   * tags (an empty value is how a removed tag disappears: Prometheus drops empty labels).
   */
  recordRequest(labels: RequestLabels & Record<string, string>, durationMs: number, requestBytes: number, responseBytes: number, disabled?: ReadonlySet<string>): void {
    let names = this.requestNames;
    let key = '';
    let count = 0;
    for (const _ in labels) count++;
    if (count > names.length) {
      this.addExtra(labels, REQUEST_LABELS);
      names = this.requestNames;
    }
    for (let i = 0; i < names.length; i++) key += (labels[names[i]!] ?? '') + SEP;
    let s = this.requests.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const n of names) own[n] = labels[n] ?? '';
      s = { labels: own, requests: 0, duration: histogram(DURATION_BUCKETS), requestBytes: histogram(SIZE_BUCKETS), responseBytes: histogram(SIZE_BUCKETS) };
      this.requests.set(key, s);
    }
    if (!disabled?.has('istio_requests_total')) s.requests++;
    if (!disabled?.has('istio_request_duration_milliseconds')) observe(s.duration, DURATION_BUCKETS, durationMs);
    if (!disabled?.has('istio_request_bytes')) observe(s.requestBytes, SIZE_BUCKETS, requestBytes);
    if (!disabled?.has('istio_response_bytes')) observe(s.responseBytes, SIZE_BUCKETS, responseBytes);
  }

  private tcpSeries(labels: TcpLabels): TcpSeries {
    if (Object.keys(labels).some((n) => !this.tcpNames.includes(n))) this.addExtra(labels, TCP_LABELS);
    let key = '';
    for (const n of this.tcpNames) key += (labels[n] ?? '') + SEP;
    let s = this.tcp.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const n of this.tcpNames) own[n] = labels[n] ?? '';
      s = { labels: own, opened: 0, closed: 0, sent: 0, received: 0 };
      this.tcp.set(key, s);
    }
    return s;
  }

  recordTcpOpen(labels: TcpLabels): void {
    this.tcpSeries(labels).opened++;
  }

  recordTcpClose(labels: TcpLabels, sent: number, received: number): void {
    const s = this.tcpSeries(labels);
    s.closed++;
    s.sent += sent;
    s.received += received;
  }

  /**
   * Every series as plain data (prom-client's `getMetricsAsJSON` shape): what a worker process sends its primary,
   * which sums the workers' and renders them (merged-metrics.ts). Series of a metric nothing has counted yet (a
   * disabled one) are left out, as prom-client never created them.
   */
  toJson(): MetricsJson {
    const req = [...this.requests.values()];
    const tcp = [...this.tcp.values()];
    const counter = (name: string, help: string, values: Array<{ labels: Record<string, string>; value: number }>) => ({ name, help, type: 'counter' as const, values });
    const hist = (name: string, help: string, buckets: readonly number[], pick: (s: RequestSeries) => Histogram) => ({
      name,
      help,
      type: 'histogram' as const,
      values: req
        .filter((s) => pick(s).count > 0)
        .flatMap((s) => {
          const h = pick(s);
          let cumulative = 0;
          return [
            ...[...buckets, '+Inf' as const].map((le, i) => ((cumulative += h.counts[i]!), { metricName: `${name}_bucket`, labels: { le, ...s.labels }, value: cumulative })),
            { metricName: `${name}_sum`, labels: s.labels, value: h.sum },
            { metricName: `${name}_count`, labels: s.labels, value: h.count },
          ];
        }),
    });
    return [
      counter('istio_requests_total', 'Total requests.', req.filter((s) => s.requests > 0).map((s) => ({ labels: s.labels, value: s.requests }))),
      hist('istio_request_duration_milliseconds', 'Request duration in milliseconds.', DURATION_BUCKETS, (s) => s.duration),
      hist('istio_request_bytes', 'Request body sizes in bytes.', SIZE_BUCKETS, (s) => s.requestBytes),
      hist('istio_response_bytes', 'Response body sizes in bytes.', SIZE_BUCKETS, (s) => s.responseBytes),
      counter('istio_tcp_sent_bytes_total', 'Bytes sent during a TCP connection.', tcp.filter((s) => s.closed > 0).map((s) => ({ labels: s.labels, value: s.sent }))),
      counter('istio_tcp_received_bytes_total', 'Bytes received during a TCP connection.', tcp.filter((s) => s.closed > 0).map((s) => ({ labels: s.labels, value: s.received }))),
      counter('istio_tcp_connections_opened_total', 'TCP connections opened.', tcp.filter((s) => s.opened > 0).map((s) => ({ labels: s.labels, value: s.opened }))),
      counter('istio_tcp_connections_closed_total', 'TCP connections closed.', tcp.filter((s) => s.closed > 0).map((s) => ({ labels: s.labels, value: s.closed }))),
    ];
  }

  /** Prometheus text exposition, from each series' label text rendered once. */
  async render(): Promise<string> {
    const req = [...this.requests.values()];
    const tcp = [...this.tcp.values()];
    // Lines collected in an array and joined once: appending to one string of tens of MiB is slower.
    const out: string[] = [];
    const head = (name: string, help: string, type: string) => out.push(`${out.length ? '\n' : ''}# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    const counter = <S extends { text?: string; labels: Record<string, string> }>(name: string, help: string, series: S[], value: (s: S) => number, present: (s: S) => boolean) => {
      head(name, help, 'counter');
      for (const s of series) if (present(s)) out.push(`${name}{${textOf(s)}} ${formatValue(value(s))}\n`);
    };
    const hist = (name: string, help: string, buckets: readonly number[], pick: (s: RequestSeries) => Histogram) => {
      head(name, help, 'histogram');
      const le = [...buckets.map(String), '+Inf'].map((b) => `${name}_bucket{le="${b}",`);
      for (const s of req) {
        const h = pick(s);
        if (h.count === 0) continue;
        const text = textOf(s);
        let cumulative = 0;
        for (let i = 0; i <= buckets.length; i++) {
          cumulative += h.counts[i]!;
          out.push(`${le[i]}${text}} ${cumulative}\n`);
        }
        out.push(`${name}_sum{${text}} ${formatValue(h.sum)}\n${name}_count{${text}} ${h.count}\n`);
      }
    };
    counter('istio_requests_total', 'Total requests.', req, (s) => s.requests, (s) => s.requests > 0);
    hist('istio_request_duration_milliseconds', 'Request duration in milliseconds.', DURATION_BUCKETS, (s) => s.duration);
    hist('istio_request_bytes', 'Request body sizes in bytes.', SIZE_BUCKETS, (s) => s.requestBytes);
    hist('istio_response_bytes', 'Response body sizes in bytes.', SIZE_BUCKETS, (s) => s.responseBytes);
    counter('istio_tcp_sent_bytes_total', 'Bytes sent during a TCP connection.', tcp, (s) => s.sent, (s) => s.closed > 0);
    counter('istio_tcp_received_bytes_total', 'Bytes received during a TCP connection.', tcp, (s) => s.received, (s) => s.closed > 0);
    counter('istio_tcp_connections_opened_total', 'TCP connections opened.', tcp, (s) => s.opened, (s) => s.opened > 0);
    counter('istio_tcp_connections_closed_total', 'TCP connections closed.', tcp, (s) => s.closed, (s) => s.closed > 0);
    return out.join('');
  }
}
