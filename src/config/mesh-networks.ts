// Istio's MeshNetworks (which networks the mesh spans, and how their endpoints are found): read from a file given to
// `trellis analyze --meshNetworksFile`, else from the `meshNetworks` key of the `istio` ConfigMap, as istiod reads it.

import { parse as parseYaml } from 'yaml';
import type { Resource } from './resource.js';

/** One way a network's endpoints are found: from a service registry (a cluster) or an address range. */
export interface NetworkEndpoints {
  fromRegistry?: string;
  fromCidr?: string;
}

export interface MeshNetwork {
  name: string;
  endpoints: NetworkEndpoints[];
}

export interface MeshNetworksModel {
  networks: MeshNetwork[];
  /** Where the networks were written (the file's resource with pointer '', or the ConfigMap at /data/meshNetworks). */
  source?: { resource: Resource; pointer: string };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The networks of a MeshNetworks document (proto JSON names, or the snake_case ones istiod also accepts). */
export function readMeshNetworks(doc: unknown): MeshNetwork[] {
  const networks = obj(obj(doc)?.networks);
  if (!networks) return [];
  return Object.entries(networks).map(([name, n]) => ({
    name,
    endpoints: (Array.isArray(obj(n)?.endpoints) ? (obj(n)!.endpoints as unknown[]) : []).map((e) => {
      const o = obj(e) ?? {};
      const fromRegistry = str(o.fromRegistry) ?? str(o.from_registry);
      const fromCidr = str(o.fromCidr) ?? str(o.from_cidr);
      return { ...(fromRegistry ? { fromRegistry } : {}), ...(fromCidr ? { fromCidr } : {}) };
    }),
  }));
}

/** The mesh networks: the file when one is given, else the control plane's `istio` ConfigMap, else none. */
export function meshNetworksOf(resources: readonly Resource[], controlPlaneNamespace: string, file?: Resource): MeshNetworksModel {
  if (file) return { networks: readMeshNetworks(file.raw), source: { resource: file, pointer: '' } };
  const cm = resources.find((r) => r.group === '' && r.kind === 'ConfigMap' && r.metadata.namespace === controlPlaneNamespace && r.metadata.name === 'istio');
  const text = obj(cm?.raw.data)?.meshNetworks;
  if (!cm || typeof text !== 'string') return { networks: [] };
  try {
    return { networks: readMeshNetworks(parseYaml(text)), source: { resource: cm, pointer: '/data/meshNetworks' } };
  } catch {
    return { networks: [] };
  }
}

/** The identity istioctl gives a mesh networks file in its messages (`MeshNetworks istio-system/meshnetworks`). */
export const MESH_NETWORKS_FILE_KIND = { apiVersion: 'v1alpha1', kind: 'MeshNetworks', name: 'meshnetworks' } as const;
