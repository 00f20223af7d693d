// Who a proxy is, from the `node` of its first DiscoveryRequest: Istio's node id and metadata conventions.

import type { ProxyNode } from './resource.js';

/** A proxy's role as Istio names it in the node id's first field (`router` is a gateway). */
export type ProxyRole = 'sidecar' | 'router' | 'ztunnel' | 'waypoint' | 'unknown';

export interface ProxyIdentity {
  role: ProxyRole;
  /** The first IP of the node id (the pod IP). */
  ip: string;
  /** Pod (or workload) name and namespace from `<pod>.<namespace>`. */
  podName: string;
  namespace: string;
  /** DNS domain, e.g. `default.svc.cluster.local`. */
  domain: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** `grpc` for proxyless gRPC clients (GENERATOR metadata), else `envoy`. */
  generator: 'grpc' | 'envoy';
  istioVersion: string;
  clusterId: string;
  /** The workload it belongs to (Istio's WORKLOAD_NAME metadata: the Deployment, or the pod itself), when sent. */
  workloadName?: string;
}

const ROLES = new Set(['sidecar', 'router', 'ztunnel', 'waypoint']);

/**
 * Istio's node id is `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>`. Metadata (NAMESPACE, LABELS,
 * SERVICE_ACCOUNT, GENERATOR…) wins over what the id implies, since proxyless clients often send short ids.
 */
export function proxyIdentity(node: ProxyNode): ProxyIdentity {
  const [type = '', ip = '', podDotNs = '', domain = ''] = node.id.split('~');
  const dot = podDotNs.lastIndexOf('.');
  const md = node.metadata ?? {};
  const str = (k: string) => (typeof md[k] === 'string' ? (md[k] as string) : undefined);
  const labels: Record<string, string> = {};
  if (md.LABELS && typeof md.LABELS === 'object') for (const [k, v] of Object.entries(md.LABELS as Record<string, unknown>)) labels[k] = String(v);
  const namespace = str('NAMESPACE') ?? (dot > 0 ? podDotNs.slice(dot + 1) : '') ?? 'default';
  const ips = str('INSTANCE_IPS')?.split(',')[0];
  return {
    role: ROLES.has(type) ? (type as ProxyRole) : 'unknown',
    ip: ips ?? ip,
    podName: str('NAME') ?? (dot > 0 ? podDotNs.slice(0, dot) : podDotNs),
    namespace: namespace || 'default',
    domain,
    labels,
    serviceAccount: str('SERVICE_ACCOUNT') ?? 'default',
    generator: str('GENERATOR') === 'grpc' ? 'grpc' : 'envoy',
    istioVersion: str('ISTIO_VERSION') ?? '',
    clusterId: str('CLUSTER_ID') ?? 'Kubernetes',
    ...(str('WORKLOAD_NAME') ? { workloadName: str('WORKLOAD_NAME') } : {}),
  };
}

/** Istio's node id for a workload: `sidecar~10.0.0.1~productpage-v1-abc.default~default.svc.cluster.local`. */
export function nodeId(role: ProxyRole, ip: string, pod: string, namespace: string, domain = 'cluster.local'): string {
  return `${role}~${ip}~${pod}.${namespace}~${namespace}.svc.${domain}`;
}
