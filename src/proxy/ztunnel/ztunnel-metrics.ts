// The node proxy's share of Istio's standard metrics: the four `istio_tcp_*` metrics, reported once from the client's
// side (`reporter="source"`, by the source pod's node proxy) and once from the server's (`reporter="destination"`), with
// both workloads' names, principals, canonical service and revision from workload discovery, as ztunnel reports them.

import type { IstioMetrics, TcpLabels } from '../../telemetry/istio-metrics.js';
import { UNKNOWN } from '../../telemetry/workload-metadata.js';
import { principalOf, type MeshServiceInfo, type MeshWorkload } from './workload-state.js';

export interface Peer {
  workload?: MeshWorkload;
  /** The identity shown (a certificate's, or the workload's when this side holds its certificate). */
  principal?: string;
}

export interface TcpReport {
  reporter: 'source' | 'destination';
  source: Peer;
  destination: Peer;
  service?: MeshServiceInfo;
  /** The connection crossed HBONE (mutual TLS). */
  mtls: boolean;
}

function side(prefix: 'source' | 'destination', p: Peer): Record<string, string> {
  const w = p.workload;
  return {
    [`${prefix}_workload`]: w?.workloadName ?? UNKNOWN,
    [`${prefix}_workload_namespace`]: w?.namespace ?? UNKNOWN,
    [`${prefix}_principal`]: p.principal ?? (w ? principalOf(w) : UNKNOWN),
    [`${prefix}_app`]: w?.canonicalName ?? UNKNOWN,
    [`${prefix}_version`]: w?.canonicalRevision ?? UNKNOWN,
    [`${prefix}_canonical_service`]: w?.canonicalName ?? UNKNOWN,
    [`${prefix}_canonical_revision`]: w?.canonicalRevision ?? UNKNOWN,
    [`${prefix}_cluster`]: w ? 'Kubernetes' : UNKNOWN,
  };
}

export function tcpLabels(r: TcpReport): TcpLabels {
  return {
    reporter: r.reporter,
    ...side('source', r.source),
    ...side('destination', r.destination),
    destination_service: r.service?.hostname ?? UNKNOWN,
    destination_service_name: r.service?.name ?? UNKNOWN,
    destination_service_namespace: r.service?.namespace ?? UNKNOWN,
    request_protocol: 'tcp',
    response_flags: '-',
    connection_security_policy: r.mtls ? 'mutual_tls' : r.reporter === 'destination' ? 'none' : UNKNOWN,
  };
}

/**
 * Counts one connection: opened now, closed by `close` with the bytes sent to the client (the response) and received from
 * it (the request), and Envoy-style flags when it failed.
 */
export function recordConnection(metrics: IstioMetrics, r: TcpReport): { close(sent: number, received: number, flags?: string): void } {
  const labels = tcpLabels(r);
  metrics.recordTcpOpen(labels);
  let closed = false;
  return {
    close(sent, received, flags) {
      if (closed) return;
      closed = true;
      metrics.recordTcpClose(flags ? { ...labels, response_flags: flags } : labels, sent, received);
    },
  };
}
