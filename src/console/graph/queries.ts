// The PromQL the graph is built from: Kiali's queries over Istio's standard metrics, one namespace at a time.

/** Quote a label value for PromQL. */
export function promString(s: string): string {
  return JSON.stringify(s);
}

/**
 * Kiali groups by the workload/app/version labels of both ends. Kiali releases up to the 1.6x line use
 * `source_app`/`source_version` (newer ones the `*_canonical_service`/`*_canonical_revision` twins, which Istio
 * and Trellis fill with the same values); Trellis uses the app/version ones, the labels every Istio dashboard knows.
 */
export const REQUESTS_GROUP_BY =
  'source_workload_namespace,source_workload,source_app,source_version,destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,destination_workload,destination_app,destination_version,request_protocol,response_code,grpc_response_status,response_flags';
export const TCP_GROUP_BY =
  'source_workload_namespace,source_workload,source_app,source_version,destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,destination_workload,destination_app,destination_version,response_flags';
export const RESPONSE_TIME_GROUP_BY =
  'le,source_workload_namespace,source_workload,source_app,source_version,destination_service_namespace,destination_service_name,destination_workload_namespace,destination_workload,destination_app,destination_version';
export const SECURITY_GROUP_BY =
  'source_workload_namespace,source_workload,source_app,source_version,source_principal,destination_service_namespace,destination_service_name,destination_workload_namespace,destination_workload,destination_app,destination_version,destination_principal,connection_security_policy';

/** Waypoint telemetry also says whether the client came over mutual TLS, and by which certificate. */
export const WAYPOINT_GROUP_BY = `${REQUESTS_GROUP_BY},source_principal,connection_security_policy`;

export interface GraphQueries {
  requests: string[];
  tcp: string[];
  responseTime: string[];
  security: string[];
  /** Istio's waypoint telemetry for requests to the namespace's services. */
  waypointRequests: string[];
}

/**
 * Three selectors per metric, as in Kiali's namespace graph:
 *  1. traffic from sources without a sidecar ("unknown"), only reported by the destination proxy;
 *  2. traffic into the namespace from workloads of other namespaces, reported by the source proxy (it also sees
 *     requests that never reached a destination workload);
 *  3. traffic sent by the namespace's own workloads, reported by the source proxy.
 * Security uses destination telemetry, the side that knows whether the connection was mutual TLS.
 * Response time is the 95th percentile of successful (2xx) requests from the duration histogram.
 */
export function graphQueries(namespace: string, durationSeconds: number, quantile = 0.95): GraphQueries {
  const ns = promString(namespace);
  const d = `${Math.max(1, Math.round(durationSeconds))}s`;
  const selectors = [
    `reporter="destination",source_workload="unknown",destination_workload_namespace=${ns}`,
    `reporter="source",source_workload_namespace!=${ns},source_workload!="unknown",destination_service_namespace=${ns}`,
    `reporter="source",source_workload_namespace=${ns}`,
  ];
  const sumRate = (metric: string, sel: string, by: string) => `sum(rate(${metric}{${sel}}[${d}])) by (${by})`;
  return {
    requests: selectors.map((s) => sumRate('istio_requests_total', s, REQUESTS_GROUP_BY)),
    tcp: selectors.map((s) => sumRate('istio_tcp_sent_bytes_total', s, TCP_GROUP_BY)),
    responseTime: selectors.map(
      (s) => `histogram_quantile(${quantile}, ${sumRate('istio_request_duration_milliseconds_bucket', `${s},response_code=~"2[0-9]{2}"`, RESPONSE_TIME_GROUP_BY)}) > 0`,
    ),
    security: [
      `reporter="destination",source_workload_namespace!=${ns},destination_service_namespace=${ns}`,
      `reporter="destination",source_workload_namespace=${ns}`,
    ].map((s) => `(${sumRate('istio_requests_total', s, SECURITY_GROUP_BY)} > 0) or (${sumRate('istio_tcp_sent_bytes_total', s, SECURITY_GROUP_BY)} > 0)`),
    waypointRequests: [sumRate('istio_requests_total', `reporter="waypoint",destination_service_namespace=${ns}`, WAYPOINT_GROUP_BY)],
  };
}
