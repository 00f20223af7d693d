// Proxy records → Istio's standard metrics. The local side of each request is this proxy's workload; the peer comes
// from the peer metadata header the other sidecar added (request header inbound, response header outbound).

import type { HttpRequestRecord, ProxyObserver, TcpConnectionRecord } from '../proxy/records.js';
import type { IstioMetrics, RequestLabels, TcpLabels } from './istio-metrics.js';
import { decodePeerMetadata, PEER_METADATA, UNKNOWN, type WorkloadMetadata } from './workload-metadata.js';
import { attributesOf, type StatsPolicy } from './proxy-telemetry.js';
import { parseSpiffeId } from '../ca/identity.js';

export interface CollectorOptions {
  local: WorkloadMetadata;
  metrics: IstioMetrics;
  domain?: string;
  /** Telemetry API overrides for a connection manager (by stat prefix). */
  policy?: (statPrefix: string) => StatsPolicy | undefined;
  /** A waypoint's collector: Istio's reporter="waypoint", the source the client of the HBONE tunnel (its certificate). */
  waypoint?: boolean;
}

interface Side {
  workload: string;
  namespace: string;
  principal: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
  cluster: string;
}

const unknownSide: Side = { workload: UNKNOWN, namespace: UNKNOWN, principal: UNKNOWN, app: UNKNOWN, version: UNKNOWN, canonicalService: UNKNOWN, canonicalRevision: UNKNOWN, cluster: UNKNOWN };

function side(m: WorkloadMetadata | undefined, mtls: boolean, domain: string): Side {
  if (!m) return { ...unknownSide };
  return {
    workload: m.workload,
    namespace: m.namespace,
    // Istio knows a principal only from a peer certificate.
    principal: mtls ? `spiffe://${domain}/ns/${m.namespace}/sa/${m.serviceAccount}` : UNKNOWN,
    app: m.app,
    version: m.version,
    canonicalService: m.canonicalService,
    canonicalRevision: m.canonicalRevision,
    cluster: m.cluster,
  };
}

/** `reviews.default.svc.cluster.local` → name and namespace; other hosts keep their name with an unknown namespace. */
export function serviceParts(host: string): { name: string; namespace: string } {
  const m = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(host);
  return m ? { name: m[1]!, namespace: m[2]! } : { name: host, namespace: UNKNOWN };
}

export class MetricsCollector implements ProxyObserver {
  private readonly domain: string;

  constructor(private readonly o: CollectorOptions) {
    this.domain = o.domain ?? 'cluster.local';
  }

  private destinationService(cluster: string, authority: string): string {
    const parts = cluster.split('|');
    if (parts.length === 4 && parts[0] === 'outbound') return parts[3]!;
    const host = authority.replace(/:\d+$/, '');
    if (!host) return UNKNOWN;
    if (host.includes('.')) return host;
    return `${host}.${this.o.local.namespace}.svc.${this.domain}`;
  }

  onHttpRequest(r: HttpRequestRecord): void {
    // A waypoint stands between the two sides: it reports the request as it passed, the client by its certificate.
    const waypoint = this.o.waypoint === true;
    const inbound = waypoint || r.upstreamCluster.startsWith('inbound|');
    // Principals are known only from certificates: the server side sees the client's; Istio reports both there.
    const mtls = inbound && r.connectionSecurity === 'mutual_tls';
    const local = side(this.o.local, mtls, this.domain);
    const peer = side(decodePeerMetadata(inbound ? r.requestHeaders[PEER_METADATA] : r.responseHeaders?.[PEER_METADATA]), mtls, this.domain);
    if (mtls && r.peerPrincipal) peer.principal = r.peerPrincipal;
    if (waypoint && mtls && r.peerPrincipal) peer.namespace = parseSpiffeId(r.peerPrincipal)?.namespace ?? UNKNOWN;
    const src = inbound ? peer : local;
    const dst = waypoint ? { ...unknownSide } : inbound ? local : peer;
    const service = this.destinationService(r.upstreamCluster, r.authority);
    const svc = serviceParts(service);
    const grpc = String(r.requestHeaders['content-type'] ?? '').startsWith('application/grpc');
    const labels: RequestLabels = {
      reporter: waypoint ? 'waypoint' : inbound ? 'destination' : 'source',
      source_workload: src.workload,
      source_workload_namespace: src.namespace,
      source_principal: src.principal,
      source_app: src.app,
      source_version: src.version,
      source_canonical_service: src.canonicalService,
      source_canonical_revision: src.canonicalRevision,
      source_cluster: src.cluster,
      destination_workload: dst.workload,
      destination_workload_namespace: dst.namespace,
      destination_principal: dst.principal,
      destination_app: dst.app,
      destination_version: dst.version,
      destination_service: service,
      destination_service_name: svc.name,
      destination_service_namespace: svc.namespace,
      destination_canonical_service: dst.canonicalService,
      destination_canonical_revision: dst.canonicalRevision,
      destination_cluster: dst.cluster,
      request_protocol: grpc ? 'grpc' : 'http',
      response_code: String(r.responseCode),
      grpc_response_status: grpc && r.grpcStatus !== undefined ? String(r.grpcStatus) : '',
      response_flags: r.responseFlags || '-',
      connection_security_policy: inbound ? (mtls ? 'mutual_tls' : 'none') : UNKNOWN,
    };
    const policy = this.o.policy?.(r.statPrefix);
    if (policy?.tags.length) {
      const attrs = attributesOf(r);
      const l = labels as RequestLabels & Record<string, string>;
      for (const t of policy.tags) l[t.name] = t.remove ? '' : String(t.value?.(attrs) ?? '');
    }
    this.o.metrics.recordRequest(labels, r.duration, r.bytesReceived, r.bytesSent, policy?.disabled);
  }

  /**
   * TCP has no metadata exchange here: the peer's workload stays unknown, but a connection that came over mutual TLS
   * names its principal (from the certificate), and its security policy is mutual_tls, as Istio reports it.
   */
  private tcpLabels(cluster: string, peerPrincipal?: string): TcpLabels {
    const inbound = cluster.startsWith('inbound|');
    const local = side(this.o.local, false, this.domain);
    const src = inbound ? (peerPrincipal ? { ...unknownSide, principal: peerPrincipal } : unknownSide) : local;
    const dst = inbound ? local : unknownSide;
    const service = this.destinationService(cluster, '');
    const svc = serviceParts(service);
    return {
      reporter: inbound ? 'destination' : 'source',
      source_workload: src.workload, source_workload_namespace: src.namespace, source_principal: src.principal, source_app: src.app, source_version: src.version,
      source_canonical_service: src.canonicalService, source_canonical_revision: src.canonicalRevision, source_cluster: src.cluster,
      destination_workload: dst.workload, destination_workload_namespace: dst.namespace, destination_principal: dst.principal, destination_app: dst.app, destination_version: dst.version,
      destination_service: service, destination_service_name: svc.name, destination_service_namespace: svc.namespace,
      destination_canonical_service: dst.canonicalService, destination_canonical_revision: dst.canonicalRevision, destination_cluster: dst.cluster,
      response_flags: '-', connection_security_policy: inbound ? (peerPrincipal ? 'mutual_tls' : 'none') : UNKNOWN, request_protocol: 'tcp',
    };
  }

  onTcpOpen(r: Pick<TcpConnectionRecord, 'upstreamCluster' | 'peerPrincipal'>): void {
    this.o.metrics.recordTcpOpen(this.tcpLabels(r.upstreamCluster, r.peerPrincipal));
  }

  onTcpConnection(r: TcpConnectionRecord): void {
    this.o.metrics.recordTcpClose({ ...this.tcpLabels(r.upstreamCluster, r.peerPrincipal), response_flags: r.responseFlags || '-' }, r.bytesSent, r.bytesReceived);
  }
}
