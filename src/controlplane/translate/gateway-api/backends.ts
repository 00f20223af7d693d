// backendRefs of Gateway API routes → the clusters they name: a Service port (the core kind), an Istio ServiceEntry or
// Hostname; across namespaces only with a ReferenceGrant. A reference that cannot be used says why, in the words of
// the route's ResolvedRefs reasons, and its share of traffic answers 500 as the specification requires.

import { serviceFqdn } from '../../../config/hosts.js';
import { GATEWAY_API_GROUP, referenceGranted } from '../../../config/gateway-api.js';
import { GROUPS } from '../../../config/kinds.js';
import type { Resource } from '../../../config/resource.js';
import type { BackendRef, ReferenceGrantSpec } from '../../../config/types/gateway-api.js';
import type { ServiceEntry } from '../../../config/types/networking.js';
import type { MeshService, ServicePort } from '../../registry/service-registry.js';
import type { OutboundClusterKey } from '../names.js';
import { R, type RefProblem } from './conditions.js';

/** What resolving a backend needs from the push context. */
export interface BackendLookup {
  domain: string;
  service(host: string): MeshService | undefined;
  grants(namespace: string): ReadonlyArray<{ spec: ReferenceGrantSpec }>;
  serviceEntry(namespace: string, name: string): ServiceEntry | undefined;
}

export type ResolvedBackend = { ok: true; key: OutboundClusterKey; service: MeshService; port: ServicePort } | ({ ok: false } & RefProblem);

const isCore = (group: string | undefined) => !group || group === 'core';

/** One backendRef of `route` (a Gateway API route in its namespace), resolved to a service port. */
export function resolveBackend(ref: BackendRef, route: Resource<unknown>, lookup: BackendLookup): ResolvedBackend {
  const group = isCore(ref.group) ? '' : ref.group!;
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? route.metadata.namespace;
  const name = ref.name ?? '';
  const written = `${group ? `${group}/` : ''}${kind} ${namespace}/${name}`;
  const istioKind = group === GROUPS.ISTIO_NET && (kind === 'ServiceEntry' || kind === 'Hostname');
  if (!(group === '' && kind === 'Service') && !istioKind) return { ok: false, reason: R.InvalidKind, message: `backend kind ${written} is not supported (Service, or networking.istio.io ServiceEntry or Hostname)` };
  if (kind !== 'Hostname' && !referenceGranted(lookup.grants(namespace), { group: GATEWAY_API_GROUP, kind: route.kind, namespace: route.metadata.namespace }, { group, kind, namespace, name })) {
    return { ok: false, reason: R.RefNotPermitted, message: `backend ${written} is in another namespace and no ReferenceGrant there permits it` };
  }
  let host: string;
  if (kind === 'Service') host = serviceFqdn(name, namespace, lookup.domain);
  else if (kind === 'Hostname') host = name;
  else {
    const se = lookup.serviceEntry(namespace, name);
    if (!se) return { ok: false, reason: R.BackendNotFound, message: `backend ${written} not found` };
    host = se.spec.hosts?.[0] ?? '';
  }
  const service = lookup.service(host);
  if (!service) return { ok: false, reason: R.BackendNotFound, message: `backend ${written} not found` };
  const port = ref.port !== undefined ? service.ports.find((p) => p.port === ref.port) : service.ports.length === 1 ? service.ports[0] : undefined;
  if (!port) return { ok: false, reason: R.BackendNotFound, message: ref.port !== undefined ? `backend ${written} has no port ${ref.port}` : `backend ${written} needs a port` };
  return { ok: true, key: { port: port.port, subset: '', host: service.hostname }, service, port };
}

/** The first problem among a route's backend references (spec: ResolvedRefs reports one reason), if any. */
export function firstProblem(results: Iterable<ResolvedBackend>): RefProblem | undefined {
  for (const r of results) if (!r.ok) return { reason: r.reason, message: r.message };
  return undefined;
}
