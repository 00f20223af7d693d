// The contract between the control plane's translation and the ADS server: a generator turns one proxy's identity
// into its complete configuration; the server diffs it against what that proxy already has and sends only changes.

import type { ProxyNode, TypeUrlValue, XdsResource } from './resource.js';

/**
 * Everything one proxy should have, by type URL. Types absent from the map are unchanged/unsupported, not empty.
 * A generator should hand proxies that get the same resources the same list object: the ADS server encodes a list,
 * and each response drawn from it, once per list object. Lists and their values are never changed once returned.
 */
export type ProxyResources = Map<TypeUrlValue | string, XdsResource[]>;

/** Builds a proxy's configuration from the current mesh state. Must be a pure function of (state, node). */
export interface ConfigGenerator {
  /** The full configuration of the proxy that sent `node`. Throws only on programming errors. */
  generate(node: ProxyNode): ProxyResources;
}

/** Why a push was asked for; carried into logs, syncz and metrics (`pilot_xds_pushes{type}`). */
export interface PushRequest {
  reason: string;
  /** Limit the push to these proxies (by node id); all proxies when absent. */
  proxies?: ReadonlySet<string>;
}
