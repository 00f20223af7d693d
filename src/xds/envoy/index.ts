// Envoy's v3 API in proto3 JSON as Trellis uses it: the one typed contract between the control plane's translation
// (which builds these values) and the proxy (which reads them). Every part of Trellis imports Envoy's shapes from here.

export type * from './core.js';
export { ADS_SOURCE, ORIGINAL_DST_METADATA } from './core.js';
export type * from './listener.js';
export type * from './route.js';
export type * from './cluster.js';
export type * from './tls.js';
export type * from './filters.js';
export * from './type-urls.js';

import type { Cluster, ClusterLoadAssignment } from './cluster.js';
import type { Listener } from './listener.js';
import type { RouteConfiguration } from './route.js';

/** A state-of-the-world set of the xDS resource types: what the proxy applies and the xDS client assembles. */
export interface EnvoySnapshot {
  listeners?: Listener[];
  routes?: RouteConfiguration[];
  clusters?: Cluster[];
  endpoints?: ClusterLoadAssignment[];
}
