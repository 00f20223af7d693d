// `/debug/objects`: the objects one control plane serves, as written, with the status it computes for the kinds it
// owns (its ServiceMeshControlPlane, member roll and members; namespaces with `maistra.io/member-of`). Each item says
// whether this control plane owns it, so a client asking several control planes keeps the owner's copy. Gateway API
// objects carry the status the control plane computes for them.

import { meshTopologyOf } from '../../config/mesh-topology.js';
import { resourceKey, type Resource } from '../../config/resource.js';
import type { ControlPlane } from '../control-plane.js';
import type { ObjectStatus } from '../translate/gateway-api/status.js';
import { maistraObjects, namespaceObjects, type ComponentReadiness } from '../status/maistra-status.js';
import { withStatus, type ObjectWithStatus } from '../status/object-status.js';

/** A control plane of a run, as `/debug/controlplanes` lists it. */
export interface ControlPlaneRef {
  namespace: string;
  name: string;
  mode: string;
  /** Its debug endpoints (`http://host:port`). */
  debug: string;
  /** Its xDS address (`host:port`). */
  xds: string;
}

/** What a run (`trellis up`) tells each of its control planes' debug servers. */
export interface MeshRuntime {
  /** The whole config of the run; each control plane's view is a part of it. */
  allResources(): readonly Resource[];
  controlPlanes(): ControlPlaneRef[];
  /** The readiness of this control plane's components (istiod, its gateways, Prometheus, the console). */
  components(): ComponentReadiness[];
}

export interface ObjectsReply {
  controlPlane: { namespace: string; name: string };
  items: Array<{ owned: boolean; object: ObjectWithStatus }>;
}

/** `gatewayStatus`: the Gateway API status this control plane computes (translate/gateway-api/status.ts), merged in. */
export function meshObjects(cp: ControlPlane, runtime: MeshRuntime | undefined, gatewayStatus: readonly ObjectStatus[] = []): ObjectsReply {
  const all = runtime?.allResources() ?? cp.store.list();
  const topology = meshTopologyOf(all);
  const namespace = cp.cluster.controlPlaneNamespace ?? cp.pushContext.meshModel.controlPlaneNamespace;
  const plane = topology.controlPlanes.find((p) => p.namespace === namespace) ?? topology.controlPlanes[0];
  const components = runtime?.components() ?? [{ name: 'istiod', ready: true }];
  // A namespaced object belongs to the control plane its namespace is a member of; a Namespace to the one it is a
  // member of; anything else (and what no mesh has) to the run's first control plane.
  const owns = (ns: string | undefined) => {
    const owner = ns ? topology.ownerOf(ns) : undefined;
    return owner ? owner === plane : plane === topology.controlPlanes[0];
  };
  const items = new Map<string, { owned: boolean; object: ObjectWithStatus }>();
  for (const r of cp.store.list()) {
    const scope = r.metadata.namespace || (r.group === '' && r.kind === 'Namespace' ? r.metadata.name : undefined);
    items.set(resourceKey(r), { owned: owns(scope), object: withStatus(r, (r.raw as { status?: unknown }).status) });
  }
  for (const s of gatewayStatus) {
    const item = items.get(resourceKey({ group: s.group, kind: s.kind, metadata: { namespace: s.namespace, name: s.name, labels: {}, annotations: {} } }));
    if (item) item.object = { ...item.object, status: s.status };
  }
  if (plane) {
    for (const o of maistraObjects(plane, topology, all, components)) items.set(`maistra.io/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, { owned: true, object: o });
    for (const o of namespaceObjects(topology, all)) {
      if (!plane.watches(o.metadata.name)) continue;
      items.set(`/Namespace//${o.metadata.name}`, { owned: owns(o.metadata.name), object: o });
    }
  }
  return { controlPlane: { namespace: plane?.namespace ?? namespace, name: plane?.name ?? '' }, items: [...items.values()] };
}
