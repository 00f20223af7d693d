// What a workload is called in Istio's telemetry (workload, app, version, canonical service and revision,
// namespace, principal), and how Trellis sidecars tell each other (the peer metadata headers).

export interface WorkloadMetadata {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
  serviceAccount: string;
  cluster: string;
}

/** Istio's peer metadata headers; Trellis carries base64 JSON in them (between its own proxies only). */
export const PEER_METADATA = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID = 'x-envoy-peer-metadata-id';

export const UNKNOWN = 'unknown';

/** Istio's rules: canonical service from `service.istio.io/canonical-name`, `app.kubernetes.io/name`, `app`, else the workload. */
export function workloadMetadata(o: { workload: string; namespace: string; labels: Record<string, string>; serviceAccount?: string; cluster?: string }): WorkloadMetadata {
  const l = o.labels;
  const app = l['app'] ?? l['app.kubernetes.io/name'] ?? UNKNOWN;
  const version = l['version'] ?? l['app.kubernetes.io/version'] ?? UNKNOWN;
  return {
    workload: o.workload,
    namespace: o.namespace,
    app,
    version,
    canonicalService: l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l['app'] ?? o.workload,
    canonicalRevision: l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l['version'] ?? 'latest',
    serviceAccount: o.serviceAccount ?? 'default',
    cluster: o.cluster ?? 'Kubernetes',
  };
}

export function encodePeerMetadata(m: WorkloadMetadata): string {
  return Buffer.from(JSON.stringify(m)).toString('base64');
}

export function decodePeerMetadata(value: string | string[] | undefined): WorkloadMetadata | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  try {
    const m = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as WorkloadMetadata;
    return typeof m.workload === 'string' && typeof m.namespace === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** `spiffe://cluster.local/ns/<ns>/sa/<sa>`: the principal Istio reports (when the connection is mutual TLS). */
export function principal(m: WorkloadMetadata, trustDomain = 'cluster.local'): string {
  return `spiffe://${trustDomain}/ns/${m.namespace}/sa/${m.serviceAccount}`;
}

/** A Deployment's workload name from a pod name Kubernetes-style (`reviews-v1-545db77b95-2zt8j` → `reviews-v1`). */
export function workloadOfPod(pod: string): string {
  const m = /^(.*)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(pod);
  return m ? m[1]! : pod;
}
