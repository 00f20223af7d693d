// Whether a workload gets a sidecar, decided as Istio's analyzers decide it: pod label or annotation, then namespace labels.

import type { Container } from '../../types/kubernetes.js';
import type { ConfigIndex } from '../config-index.js';
import { arr } from './util.js';

export const INJECT = 'sidecar.istio.io/inject';
export const INJECTION_LABEL = 'istio-injection';
export const REVISION_LABEL = 'istio.io/rev';
export const PROXY_CONTAINER = 'istio-proxy';
/** A namespace in ambient mode gets no sidecars: ztunnel captures its traffic. */
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';

/** Namespaces Istio never analyzes for injection or port naming. */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

/**
 * Whether the namespace enables injection: `istio-injection=enabled`, or a revision label (which Istio's webhook
 * selects on). Undefined when the namespace is not among the loaded objects, so nothing is known about it.
 */
export function namespaceInjection(index: ConfigIndex, namespace: string): boolean | undefined {
  const ns = index.namespaceResource(namespace);
  if (!ns) return undefined;
  const labels = ns.metadata.labels;
  if (labels[INJECTION_LABEL] !== undefined) return labels[INJECTION_LABEL] === 'enabled';
  return labels[REVISION_LABEL] !== undefined && labels[REVISION_LABEL] !== '';
}

/** Istio's `inMesh`: an istio-proxy container, else the pod's inject label, else its annotation, else the namespace. */
export function inMesh(index: ConfigIndex, namespace: string, labels: Record<string, string>, annotations: Record<string, string>, containers: readonly Container[] | undefined): boolean {
  if (arr(containers as Container[] | undefined).some((c) => c?.name === PROXY_CONTAINER && !!c.image)) return true;
  if (labels[INJECT] !== undefined) return labels[INJECT] === 'true';
  if (annotations[INJECT] !== undefined) return annotations[INJECT] === 'true';
  return namespaceInjection(index, namespace) ?? false;
}

/** The injector's ConfigMap for a revision, as Istio names it (`istio-sidecar-injector`, `istio-sidecar-injector-canary`). */
export function injectorConfigMapName(revision: string | undefined): string {
  return !revision || revision === 'default' ? 'istio-sidecar-injector' : `istio-sidecar-injector-${revision}`;
}

/** The pod's istio-proxy container, a native sidecar (an init container) included. */
export function proxyContainer(spec: { containers?: readonly Container[]; initContainers?: readonly Container[] } | undefined): Container | undefined {
  return [...arr(spec?.containers as Container[] | undefined), ...arr(spec?.initContainers as Container[] | undefined)].find((c) => c?.name === PROXY_CONTAINER);
}
