// What the analysis assumes exists without being in the files: istioctl's files-only defaults, or Trellis's own gateways.

import { GROUPS } from '../kinds.js';
import type { MeshModel } from '../mesh-config.js';
import { resourceKey, type Resource } from '../resource.js';

/**
 * Whom `trellis analyze` answers as.
 * - `istioctl` (the default): files as `istioctl analyze` reads them without a cluster. Like istioctl, it assumes the
 *   default ingress gateway a cluster has (a Pod labelled `istio: ingressgateway` and the mesh config's ingress Service,
 *   ports 80, 443, 31400 and 15443, in the control-plane namespace) unless the mesh config turns the ingress controller off.
 * - `local`: a directory as `trellis up` runs it (`trellis analyze --local`, `trellis up`, `trellis demo`, the console):
 *   Trellis's own ingress and egress gateways exist (unless a ServiceMeshControlPlane disables them, or the files bring
 *   workloads with their labels), and Trellis's own policies apply where it deliberately differs from istioctl.
 */
export type AnalysisMode = 'istioctl' | 'local';

type Port = { name: string; port: number; targetPort: number; nodePort?: number };

function service(namespace: string, name: string, labels: Record<string, string>, selector: Record<string, string>, ports: Port[]): Resource {
  const spec = { ports: ports.map((p) => ({ ...p, protocol: 'TCP' })), selector };
  return { apiVersion: 'v1', group: '', version: 'v1', kind: 'Service', metadata: { name, namespace, labels, annotations: {} }, spec, raw: { spec } };
}

function pod(namespace: string, name: string, labels: Record<string, string>): Resource {
  const spec = { containers: [{ name: 'istio-proxy' }] };
  return { apiVersion: 'v1', group: '', version: 'v1', kind: 'Pod', metadata: { name, namespace, labels, annotations: {} }, spec, raw: { spec } };
}

function deployment(namespace: string, name: string, labels: Record<string, string>): Resource {
  const spec = { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } } };
  return { apiVersion: 'apps/v1', group: 'apps', version: 'v1', kind: 'Deployment', metadata: { name, namespace, labels, annotations: {} }, spec, raw: { spec } };
}

/** istioctl's default ingress gateway (pkg/config/analysis/local, AddDefaultResources): a dummy Pod and the ingress Service. */
function istioctlDefaults(model: MeshModel): Resource[] {
  if (model.config.ingressControllerMode === 'OFF') return [];
  const ns = model.controlPlaneNamespace;
  const name = model.config.ingressService;
  const labels = { istio: 'ingressgateway' };
  return [
    pod(ns, `${name}-dummypod`, labels),
    service(ns, name, {}, labels, [
      { name: 'http2', port: 80, targetPort: 80, nodePort: 31380 },
      { name: 'https', port: 443, targetPort: 443, nodePort: 31390 },
      { name: 'tcp', port: 31400, targetPort: 31400, nodePort: 31400 },
      { name: 'tls', port: 15443, targetPort: 15443, nodePort: 31447 },
    ]),
  ];
}

/** The gateways `trellis up` runs, as a default Istio (or OpenShift Service Mesh) install has them. */
function trellisGateways(present: readonly Resource[], model: MeshModel): Resource[] {
  const smcp = present.find((r) => r.group === GROUPS.MAISTRA && r.kind === 'ServiceMeshControlPlane');
  const gw = (smcp?.spec as { gateways?: { enabled?: boolean; ingress?: { enabled?: boolean }; egress?: { enabled?: boolean } } } | undefined)?.gateways;
  if (gw?.enabled === false) return [];
  const ns = model.controlPlaneNamespace;
  // Workloads the files bring with a gateway's labels are that gateway: Trellis's own stands in only when there are none.
  const brought = (istio: string) => present.some((r) => (r.kind === 'Pod' || r.group === 'apps') && (templateLabels(r).istio === istio || r.metadata.labels.istio === istio));
  const out: Resource[] = [];
  const add = (name: string, istio: string, ports: Port[]) => {
    const labels = { app: name, istio };
    out.push(deployment(ns, name, labels), service(ns, name, labels, labels, ports));
  };
  if (gw?.ingress?.enabled !== false && !brought('ingressgateway')) {
    add('istio-ingressgateway', 'ingressgateway', [{ name: 'status-port', port: 15021, targetPort: 15021 }, { name: 'http2', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }]);
  }
  if (gw?.egress?.enabled !== false && !brought('egressgateway')) {
    add('istio-egressgateway', 'egressgateway', [{ name: 'http2', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }]);
  }
  return out;
}

function templateLabels(r: Resource): Record<string, string> {
  const labels = (r.spec as { template?: { metadata?: { labels?: unknown } } }).template?.metadata?.labels;
  return labels && typeof labels === 'object' ? (labels as Record<string, string>) : {};
}

/**
 * The resources assumed in `mode`, leaving out any the files define themselves. They have no `source`: the index sees
 * them, but no message is reported about them.
 */
export function assumedResources(mode: AnalysisMode, present: readonly Resource[], model: MeshModel): Resource[] {
  const keys = new Set(present.map(resourceKey));
  const made = mode === 'istioctl' ? istioctlDefaults(model) : trellisGateways(present, model);
  return made.filter((r) => !keys.has(resourceKey(r)));
}
