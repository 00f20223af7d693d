// Istio's standard metrics with their names, types, labels and buckets, in a prom-client registry, plus a cache from
// label sets to series so that recording a request costs a few increments.

import client from 'prom-client';

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

type Series = { requests: client.Counter.Internal; duration: client.Histogram.Internal<string>; req: client.Histogram.Internal<string>; res: client.Histogram.Internal<string> };

export class IstioMetrics {
  readonly registry = new client.Registry();
  private requests!: client.Counter<string>;
  private duration!: client.Histogram<string>;
  private requestBytes!: client.Histogram<string>;
  private responseBytes!: client.Histogram<string>;
  private tcpSent!: client.Counter<string>;
  private tcpReceived!: client.Counter<string>;
  private tcpOpened!: client.Counter<string>;
  private tcpClosed!: client.Counter<string>;
  private series = new Map<string, Series>();
  /** Tags added by Telemetry overrides (UPSERT of a new name): the metrics are rebuilt with them as labels. */
  private extra: string[] = [];

  constructor() {
    this.build();
  }

  private build(): void {
    this.registry.clear();
    this.series = new Map();
    const r = [this.registry];
    const labelNames = [...REQUEST_LABELS, ...this.extra];
    this.requests = new client.Counter({ name: 'istio_requests_total', help: 'Total requests.', labelNames, registers: r });
    this.duration = new client.Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration in milliseconds.', labelNames, buckets: DURATION_BUCKETS, registers: r });
    this.requestBytes = new client.Histogram({ name: 'istio_request_bytes', help: 'Request body sizes in bytes.', labelNames, buckets: SIZE_BUCKETS, registers: r });
    this.responseBytes = new client.Histogram({ name: 'istio_response_bytes', help: 'Response body sizes in bytes.', labelNames, buckets: SIZE_BUCKETS, registers: r });
    const tcp = [...TCP_LABELS, ...this.extra];
    this.tcpSent = new client.Counter({ name: 'istio_tcp_sent_bytes_total', help: 'Bytes sent during a TCP connection.', labelNames: tcp, registers: r });
    this.tcpReceived = new client.Counter({ name: 'istio_tcp_received_bytes_total', help: 'Bytes received during a TCP connection.', labelNames: tcp, registers: r });
    this.tcpOpened = new client.Counter({ name: 'istio_tcp_connections_opened_total', help: 'TCP connections opened.', labelNames: tcp, registers: r });
    this.tcpClosed = new client.Counter({ name: 'istio_tcp_connections_closed_total', help: 'TCP connections closed.', labelNames: tcp, registers: r });
  }

  /**
   * Record one request. `disabled` holds metric names a Telemetry override turned off; labels may carry extra
   * tags (an empty value is how a removed tag disappears: Prometheus drops empty labels).
   */
  recordRequest(labels: RequestLabels & Record<string, string>, durationMs: number, requestBytes: number, responseBytes: number, disabled?: ReadonlySet<string>): void {
    const names = Object.keys(labels);
    if (names.length !== REQUEST_LABELS.length + this.extra.length) {
      const fresh = names.filter((n) => !(REQUEST_LABELS as readonly string[]).includes(n) && !this.extra.includes(n));
      if (fresh.length) {
        this.extra = [...this.extra, ...fresh];
        this.build();
      }
    }
    const full: Record<string, string> = {};
    for (const n of [...REQUEST_LABELS, ...this.extra]) full[n] = labels[n] ?? '';
    const key = Object.values(full).join('\u0001');
    let s = this.series.get(key);
    if (!s) {
      s = { requests: this.requests.labels(full), duration: this.duration.labels(full), req: this.requestBytes.labels(full), res: this.responseBytes.labels(full) };
      this.series.set(key, s);
    }
    if (!disabled?.has('istio_requests_total')) s.requests.inc();
    if (!disabled?.has('istio_request_duration_milliseconds')) s.duration.observe(durationMs);
    if (!disabled?.has('istio_request_bytes')) s.req.observe(requestBytes);
    if (!disabled?.has('istio_response_bytes')) s.res.observe(responseBytes);
  }

  private tcp(labels: TcpLabels): Record<string, string> {
    const full: Record<string, string> = {};
    for (const n of [...TCP_LABELS, ...this.extra]) full[n] = labels[n] ?? '';
    return full;
  }

  recordTcpOpen(labels: TcpLabels): void {
    this.tcpOpened.inc(this.tcp(labels));
  }

  recordTcpClose(labels: TcpLabels, sent: number, received: number): void {
    const l = this.tcp(labels);
    this.tcpClosed.inc(l);
    this.tcpSent.inc(l, sent);
    this.tcpReceived.inc(l, received);
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
