// A proxy's static configuration file (`trellis proxy --config FILE`): the shapes people hand Envoy, read into a snapshot.

import { createRequire } from 'node:module';
import { TypeUrl, type XdsResource } from '../xds/resource.js';
import type { EnvoySnapshot } from '../xds/envoy/index.js';

/**
 * Reads a snapshot in any of three shapes: `{listeners, routes, clusters, endpoints}`, an Envoy bootstrap with
 * `staticResources`, or a list of xDS resources (`[{typeUrl, value}]`, what the control plane produces).
 */
export function readSnapshot(text: string): EnvoySnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // YAML (a superset of JSON) only when needed
    const YAML = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = YAML.parse(text);
  }
  if (Array.isArray(doc)) {
    const snap: Required<EnvoySnapshot> = { listeners: [], routes: [], clusters: [], endpoints: [] };
    for (const r of doc as XdsResource[]) {
      if (r.typeUrl === TypeUrl.Listener) snap.listeners.push(r.value);
      else if (r.typeUrl === TypeUrl.RouteConfiguration) snap.routes.push(r.value);
      else if (r.typeUrl === TypeUrl.Cluster) snap.clusters.push(r.value);
      else if (r.typeUrl === TypeUrl.ClusterLoadAssignment) snap.endpoints.push(r.value);
    }
    return snap;
  }
  const o = (doc ?? {}) as Record<string, unknown> & { staticResources?: EnvoySnapshot; static_resources?: EnvoySnapshot };
  const s = o.staticResources ?? o.static_resources;
  if (s) return { listeners: s.listeners ?? [], clusters: s.clusters ?? [], routes: [], endpoints: [] };
  return o as EnvoySnapshot;
}
