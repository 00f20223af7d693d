// Node identity per graph type: which telemetry labels make one node, following Kiali's rules.

import type { GraphType, NodeType } from './types.js';

export const UNKNOWN = 'unknown';

/** A label value that names something: set and not `unknown` (what Istio writes when it cannot tell). */
export function isOK(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== UNKNOWN;
}

/** The labels that can identify a node; empty strings where a label does not apply. */
export interface NodeKey {
  serviceNamespace: string;
  service: string;
  workloadNamespace: string;
  workload: string;
  app: string;
  version: string;
}

export interface NodeIdentity {
  id: string;
  nodeType: NodeType;
  namespace: string;
}

/**
 * The node a set of labels falls into.
 * - A source with no sidecar is reported as workload/app `unknown` in namespace `unknown`: one "unknown" node.
 * - Workload and service graphs have workload nodes, or service nodes where no workload is known.
 * - App graphs group by `app`; the versioned-app graph keeps one node per workload (so versions stay apart even
 *   when labels are sloppy); without an `app` label a node falls back to its workload, then its service.
 */
export function nodeIdentity(k: NodeKey, graphType: GraphType): NodeIdentity | undefined {
  const namespace = isOK(k.workloadNamespace) ? k.workloadNamespace : k.serviceNamespace;
  if (k.workloadNamespace === UNKNOWN && k.workload === UNKNOWN && (k.app === UNKNOWN || k.app === '') && k.service === '') {
    return { id: 'unknown_unknown', nodeType: 'unknown', namespace: UNKNOWN };
  }
  const workloadOK = isOK(k.workload);
  const appOK = isOK(k.app);
  const serviceOK = isOK(k.service);
  if (!workloadOK && !appOK && !serviceOK) return undefined;
  const svcNs = isOK(k.serviceNamespace) ? k.serviceNamespace : namespace;
  if (graphType === 'workload' || graphType === 'service') {
    if (workloadOK) return { id: `wl_${namespace}_${k.workload}`, nodeType: 'workload', namespace };
    if (serviceOK) return { id: `svc_${svcNs}_${k.service}`, nodeType: 'service', namespace: svcNs };
    return undefined;
  }
  if (appOK) {
    if (graphType === 'versionedApp' && workloadOK) return { id: `vapp_${namespace}_${k.workload}`, nodeType: 'app', namespace };
    return { id: `app_${namespace}_${k.app}`, nodeType: 'app', namespace };
  }
  if (workloadOK) return { id: `wl_${namespace}_${k.workload}`, nodeType: 'workload', namespace };
  return { id: `svc_${svcNs}_${k.service}`, nodeType: 'service', namespace: svcNs };
}
