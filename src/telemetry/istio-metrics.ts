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

export class IstioMetrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<string>;
  private readonly duration: client.Histogram<string>;
  private readonly requestBytes: client.Histogram<string>;
  private readonly responseBytes: client.Histogram<string>;
  private readonly tcpSent: client.Counter<string>;
  private readonly tcpReceived: client.Counter<string>;
  private readonly tcpOpened: client.Counter<string>;
  private readonly tcpClosed: client.Counter<string>;
  private readonly series = new Map<string, { requests: client.Counter.Internal; duration: client.Histogram.Internal<string>; req: client.Histogram.Internal<string>; res: client.Histogram.Internal<string> }>();

  constructor() {
    const r = [this.registry];
    const labelNames = [...REQUEST_LABELS];
    this.requests = new client.Counter({ name: 'istio_requests_total', help: 'Total requests.', labelNames, registers: r });
    this.duration = new client.Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration in milliseconds.', labelNames, buckets: DURATION_BUCKETS, registers: r });
    this.requestBytes = new client.Histogram({ name: 'istio_request_bytes', help: 'Request body sizes in bytes.', labelNames, buckets: SIZE_BUCKETS, registers: r });
    this.responseBytes = new client.Histogram({ name: 'istio_response_bytes', help: 'Response body sizes in bytes.', labelNames, buckets: SIZE_BUCKETS, registers: r });
    const tcp = [...TCP_LABELS];
    this.tcpSent = new client.Counter({ name: 'istio_tcp_sent_bytes_total', help: 'Bytes sent during a TCP connection.', labelNames: tcp, registers: r });
    this.tcpReceived = new client.Counter({ name: 'istio_tcp_received_bytes_total', help: 'Bytes received during a TCP connection.', labelNames: tcp, registers: r });
    this.tcpOpened = new client.Counter({ name: 'istio_tcp_connections_opened_total', help: 'TCP connections opened.', labelNames: tcp, registers: r });
    this.tcpClosed = new client.Counter({ name: 'istio_tcp_connections_closed_total', help: 'TCP connections closed.', labelNames: tcp, registers: r });
  }

  recordRequest(labels: RequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    const key = REQUEST_LABELS.map((l) => labels[l]).join('\u0001');
    let s = this.series.get(key);
    if (!s) {
      s = { requests: this.requests.labels(labels), duration: this.duration.labels(labels), req: this.requestBytes.labels(labels), res: this.responseBytes.labels(labels) };
      this.series.set(key, s);
    }
    s.requests.inc();
    s.duration.observe(durationMs);
    s.req.observe(requestBytes);
    s.res.observe(responseBytes);
  }

  recordTcpOpen(labels: TcpLabels): void {
    this.tcpOpened.inc(labels);
  }

  recordTcpClose(labels: TcpLabels, sent: number, received: number): void {
    this.tcpClosed.inc(labels);
    this.tcpSent.inc(labels, sent);
    this.tcpReceived.inc(labels, received);
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
