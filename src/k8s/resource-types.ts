// Which resource types the control plane watches, and at which version the API server serves each: discovery picks,
// per kind, the first of the versions Trellis reads (kinds.ts, newest first) that the server has, so Istio 1.16's CRDs
// (v1beta1) and EndpointSlice on Kubernetes 1.20 (v1beta1) are found as well as today's v1.

import { GROUPS, KINDS, type KindInfo } from '../config/kinds.js';
import type { KubeClient } from './client/kube-client.js';

export interface WatchedType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** The API groups of the config Trellis serves, and the Kubernetes kinds the registry, mesh config and CA read. */
const CONFIG_GROUPS = new Set<string>([GROUPS.ISTIO_NET, GROUPS.ISTIO_SEC, GROUPS.ISTIO_TEL, GROUPS.GATEWAY_API, GROUPS.MAISTRA]);
const KUBERNETES_KINDS = new Set(['/Namespace', '/Service', '/Pod', '/Secret', '/ConfigMap', '/ServiceAccount', 'discovery.k8s.io/EndpointSlice']);

/** The kinds the store watches (whatever version the server has). */
export const WATCHED_KINDS: readonly KindInfo[] = KINDS.filter((k) => CONFIG_GROUPS.has(k.group) || KUBERNETES_KINDS.has(`${k.group}/${k.kind}`));

/** Kinds that decide which namespaces a control plane watches: always watched cluster-wide. */
export const TOPOLOGY_KINDS = new Set(['/Namespace', 'maistra.io/ServiceMeshControlPlane', 'maistra.io/ServiceMeshMemberRoll', 'maistra.io/ServiceMeshMember']);

export const typeKey = (t: Pick<WatchedType, 'group' | 'kind'>) => `${t.group}/${t.kind}`;

/** The collection path of a type, cluster-wide or in one namespace. */
export function collectionPath(t: WatchedType, namespace?: string): string {
  const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  return namespace && t.namespaced ? `${base}/namespaces/${encodeURIComponent(namespace)}/${t.plural}` : `${base}/${t.plural}`;
}

/** The path of one object. */
export function objectPath(t: WatchedType, namespace: string, name: string): string {
  return `${collectionPath(t, namespace)}/${encodeURIComponent(name)}`;
}

interface ApiResourceList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

/**
 * The served version of each watched kind (one discovery call per group version that Trellis reads). Kinds the server
 * does not serve (a CRD not installed) are left out and named in `missing`.
 */
export async function discoverTypes(client: KubeClient, kinds: readonly KindInfo[] = WATCHED_KINDS): Promise<{ types: WatchedType[]; missing: string[] }> {
  const served = new Map<string, ApiResourceList | undefined>();
  const types: WatchedType[] = [];
  const missing: string[] = [];
  for (const k of kinds) {
    let found: WatchedType | undefined;
    for (const version of k.versions) {
      const gv = k.group ? `/apis/${k.group}/${version}` : `/api/${version}`;
      if (!served.has(gv)) served.set(gv, await client.discover<ApiResourceList>(gv));
      const res = served.get(gv)?.resources.find((r) => r.kind === k.kind && !r.name.includes('/'));
      if (res) {
        found = { group: k.group, version, kind: k.kind, plural: res.name, namespaced: res.namespaced };
        break;
      }
    }
    if (found) types.push(found);
    else missing.push(`${k.kind}.${k.group || 'core'}`);
  }
  return { types, missing };
}
