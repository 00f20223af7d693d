// The HTTP filters the proxy knows, registered by name and config type URL (features are added by registration, not a switch).

import type { Any } from '../../xds/envoy/index.js';
import type { IssueSink } from '../errors.js';
import type { HttpFilter } from './filter.js';

export interface HttpFilterExtension<C = unknown, R = unknown> {
  /** Well-known names, e.g. `envoy.filters.http.fault`. */
  readonly names: readonly string[];
  /** Type URLs of the listener-level config message. */
  readonly configTypes: readonly string[];
  /** Type URLs accepted in typed_per_filter_config (defaults to configTypes). */
  readonly perRouteTypes?: readonly string[];
  /** Reads the listener-level config (an absent config means the filter's defaults). */
  parseConfig(value: Any | undefined, sink: IssueSink, field: string): C;
  /** Reads a per-route override; without it the per-route config is parsed like the listener-level one. */
  parsePerRoute?(value: Any, sink: IssueSink, field: string): R;
  /** Builds the filter for one HTTP connection manager; `name` is the name it was configured under. */
  create(config: C, name: string): HttpFilter;
}

const byName = new Map<string, HttpFilterExtension>();
const byType = new Map<string, HttpFilterExtension>();
const byPerRouteType = new Map<string, HttpFilterExtension>();

export function registerHttpFilter<C, R>(ext: HttpFilterExtension<C, R>): void {
  const e = ext as unknown as HttpFilterExtension;
  for (const n of ext.names) byName.set(n, e);
  for (const t of ext.configTypes) byType.set(t, e);
  for (const t of ext.perRouteTypes ?? ext.configTypes) byPerRouteType.set(t, e);
}

/** Finds a filter by its config's type URL first (what xDS carries), then by name. */
export function findHttpFilter(name: string | undefined, typeUrl: string | undefined): HttpFilterExtension | undefined {
  return (typeUrl ? byType.get(typeUrl) : undefined) ?? (name ? byName.get(name) : undefined);
}

export function findPerRouteFilter(typeUrl: string | undefined): HttpFilterExtension | undefined {
  return typeUrl ? byPerRouteType.get(typeUrl) : undefined;
}

export const ROUTE_FILTER_CONFIG_TYPE = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
