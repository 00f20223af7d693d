// Gateway API status for the console: what the running control planes compute for the objects they serve (their
// `/debug/status`, with transition times), or, with none running, the same pure function over the manifests — each
// control plane's view of them as `trellis up` would give it — where no gateway proxy runs, so nothing is Programmed.

import { meshTopologyOf } from '../../config/mesh-topology.js';
import type { Resource } from '../../config/resource.js';
import { ServiceRegistry } from '../../controlplane/registry/service-registry.js';
import { MemoryStore } from '../../controlplane/store/memory-store.js';
import { ScopedStore } from '../../controlplane/store/scoped-store.js';
import { gatewayApiStatus, type ObjectStatus } from '../../controlplane/translate/gateway-api/status.js';
import { DEFAULT_CLUSTER, PushContext } from '../../controlplane/translate/push-context.js';
import type { ConfigRef } from '../sources.js';

const id = (o: Pick<ObjectStatus, 'group' | 'kind' | 'namespace' | 'name'>) => `${o.group}/${o.kind}/${o.namespace}/${o.name}`;

/** Several control planes' statuses as one list: an object reported twice (a GatewayClass every plane sees) keeps the first. */
export function mergeStatuses(lists: ReadonlyArray<readonly ObjectStatus[]>): ObjectStatus[] {
  const seen = new Map<string, ObjectStatus>();
  for (const list of lists) for (const o of list) if (!seen.has(id(o))) seen.set(id(o), o);
  return [...seen.values()];
}

/** A control plane's `/debug/status` (its debug port, 15014), as a provider for YamlMeshSource. */
export function controlPlaneGatewayStatus(debugUrl: string): () => Promise<ObjectStatus[]> {
  const url = `${debugUrl.replace(/\/+$/, '')}/debug/status`;
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return (await res.json()) as ObjectStatus[];
  };
}

/**
 * The status the control planes would compute from `resources` alone: each one's objects as its config store takes
 * them (valid ones, its namespaces, the Gateway API where it serves it), its registry from them, no gateway deployed.
 */
export function gatewayStatusFromFiles(resources: readonly Resource[]): ObjectStatus[] {
  const store = new MemoryStore(resources);
  const lists = meshTopologyOf(resources).controlPlanes.map((plane) => {
    const scoped = new ScopedStore(store, plane.namespace);
    const list = scoped.list();
    void scoped.close();
    const registry = new ServiceRegistry(DEFAULT_CLUSTER.domain);
    registry.setResources(list);
    return gatewayApiStatus(new PushContext(list, registry.snapshot(), { ...DEFAULT_CLUSTER, controlPlaneNamespace: plane.namespace }));
  });
  return mergeStatuses(lists);
}

/** The status of one object, if a control plane reports on it. */
export function statusOf(items: readonly ObjectStatus[], ref: ConfigRef): ObjectStatus['status'] | undefined {
  return items.find((o) => o.group === ref.group && o.kind === ref.kind && o.namespace === ref.namespace && o.name === ref.name)?.status;
}
