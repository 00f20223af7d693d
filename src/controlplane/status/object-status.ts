// Objects as the running mesh sees them: the config object with the `status` Trellis computes for it (OpenShift
// Service Mesh's control-plane resources here; other kinds plug in the same way), what `trellis get` prints.

import type { Resource } from '../../config/resource.js';

/** One object with its computed status, in the shape `kubectl get -o yaml` prints. */
export interface ObjectWithStatus {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; generation?: number };
  spec?: unknown;
  status?: unknown;
  /** Other top-level fields of the object as written (data, …). */
  [field: string]: unknown;
}

/** A Kubernetes-style condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** The object as written, with `status` and extra labels merged in (nothing of the written object is lost). */
export function withStatus(r: Resource<unknown>, status: unknown, extraLabels: Record<string, string> = {}): ObjectWithStatus {
  const labels = { ...r.metadata.labels, ...extraLabels };
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = r.raw as { metadata?: unknown; status?: unknown; apiVersion?: unknown; kind?: unknown };
  const object: ObjectWithStatus = {
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: {
      name: r.metadata.name,
      ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(r.metadata.annotations).length ? { annotations: r.metadata.annotations } : {}),
      generation: r.metadata.generation ?? 1,
    },
  };
  // kubectl's order: apiVersion, kind, metadata, the rest as written (spec, data …), then status.
  Object.assign(object, rest);
  if (status !== undefined) object.status = status;
  return object;
}

export const condition = (type: string, ok: boolean, reason: string, message: string, unknown = false): Condition => ({ type, status: unknown ? 'Unknown' : ok ? 'True' : 'False', reason, message });
