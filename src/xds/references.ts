// What a configuration refers to by name and must also be fetched: route configurations (RDS) named by HTTP
// connection managers, endpoints (EDS) named by clusters, secrets (SDS) named by TLS contexts. An xDS client follows
// these; the control plane does not need to, since translation knows what it named.

import { configOf, TYPE, type Any, type Cluster, type CommonTlsContext, type FilterChain, type Listener, type TransportSocket } from './envoy/index.js';
import type { XdsSnapshot } from './resource.js';

export interface ReferencedNames {
  routes: string[];
  endpoints: string[];
  secrets: string[];
}

/** SDS names in one TLS context. */
function tlsContextSecrets(ctx: CommonTlsContext | undefined, out: Set<string>): void {
  for (const c of ctx?.tlsCertificateSdsSecretConfigs ?? []) if (c.name) out.add(c.name);
  const vc = ctx?.validationContextSdsSecretConfig ?? ctx?.combinedValidationContext?.validationContextSdsSecretConfig;
  if (vc?.name) out.add(vc.name);
}

function transportSocketSecrets(ts: TransportSocket | undefined, out: Set<string>): void {
  const tc = ts?.typedConfig;
  const ctx = configOf(tc, TYPE.downstreamTls)?.commonTlsContext ?? configOf(tc, TYPE.upstreamTls)?.commonTlsContext;
  tlsContextSecrets(ctx, out);
}

function hcmRoute(tc: Any | undefined, out: Set<string>): void {
  const name = configOf(tc, TYPE.hcm)?.rds?.routeConfigName;
  if (name) out.add(name);
}

/** Route configuration names from HCMs (filter chains, default chain, API listener), endpoint names from EDS clusters, SDS names from TLS contexts. */
export function referencedNames(s: Pick<XdsSnapshot, 'listeners' | 'clusters'>): ReferencedNames {
  const routes = new Set<string>();
  const secrets = new Set<string>();
  const endpoints = new Set<string>();
  for (const l of s.listeners) {
    listenerReferences(l, routes, secrets);
  }
  for (const c of s.clusters) clusterReferences(c, endpoints, secrets);
  return { routes: [...routes], endpoints: [...endpoints], secrets: [...secrets] };
}

function listenerReferences(l: Listener, routes: Set<string>, secrets: Set<string>): void {
  const chains: FilterChain[] = [...(l.filterChains ?? []), ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])];
  for (const chain of chains) {
    for (const f of chain.filters ?? []) hcmRoute(f.typedConfig, routes);
    transportSocketSecrets(chain.transportSocket, secrets);
  }
  hcmRoute(l.apiListener?.apiListener, routes);
}

function clusterReferences(c: Cluster, endpoints: Set<string>, secrets: Set<string>): void {
  if (c.type === 'EDS' || (c.edsClusterConfig && !c.type)) endpoints.add(c.edsClusterConfig?.serviceName || c.name || '');
  transportSocketSecrets(c.transportSocket, secrets);
}
