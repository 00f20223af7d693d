// Route attachment: where each parentRef of a Gateway API route lands — the listeners of a Gateway (chosen by
// sectionName and port, admitted by their allowedRoutes, with the hostnames the route and listener share) or a Service
// (a GAMMA mesh route) — and the Accepted condition the specification gives each parent.

import { GATEWAY_API_GROUP, hostnameIntersection, kindListed, namespaceAdmitted } from '../../../config/gateway-api.js';
import type { Resource } from '../../../config/resource.js';
import type { ParentReference } from '../../../config/types/gateway-api.js';
import type { MeshService } from '../../registry/service-registry.js';
import { C, condition, R, type Condition } from './conditions.js';
import type { GatewayModel, ListenerModel } from './gateways.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute';
export const ROUTE_KINDS: readonly RouteKind[] = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute'];

/** A route attached to one listener, serving these hostnames there (`*`: any). */
export interface ListenerAttachment {
  listener: ListenerModel;
  hostnames: string[];
}

/** One parentRef of a route, as its status reports it. */
export interface ParentResult {
  /** The reference as status echoes it: group and kind defaulted, the rest as written. */
  ref: ParentReference;
  accepted: Condition;
  /** Listeners that admit the route (allowedRoutes), whether or not hostnames intersect. */
  admittedBy: ListenerModel[];
  /** Where it is Accepted and serves traffic (counted in `attachedRoutes`): admitting listeners whose hostnames intersect the route's. */
  attachments: ListenerAttachment[];
  /** For a Service parent (GAMMA): the service and, when the ref names one, its port. */
  service?: MeshService;
  servicePort?: number;
}

/** What attaching routes needs from the push context. */
export interface ParentLookup {
  /** A Gateway of one of Trellis's classes. */
  gateway(namespace: string, name: string): GatewayModel | undefined;
  /** Whether a Gateway of that name exists at all (of any class). */
  gatewayExists(namespace: string, name: string): boolean;
  namespaceLabels(namespace: string): Record<string, string>;
  service(namespace: string, name: string): MeshService | undefined;
}

const isCore = (group: string | undefined) => group === '' || group === 'core';

/** The parentRef with the defaults the API server fills in (group, kind), so status names the parent unambiguously. */
export function statusParentRef(ref: ParentReference): ParentReference {
  const out: ParentReference = { group: ref.group ?? GATEWAY_API_GROUP, kind: ref.kind ?? 'Gateway', name: ref.name };
  if (ref.namespace !== undefined) out.namespace = ref.namespace;
  if (ref.sectionName !== undefined) out.sectionName = ref.sectionName;
  if (ref.port !== undefined) out.port = ref.port;
  return out;
}

const accepted = () => condition(C.Accepted, true, R.Accepted);
const refused = (reason: string, message: string) => condition(C.Accepted, false, reason, message);

/** A route's hostnames (TCPRoutes have none: they serve whatever arrives on the port). */
const hostnamesOf = (route: Resource<unknown>): string[] => (route.kind === 'TCPRoute' ? [] : (((route.spec as { hostnames?: string[] }).hostnames ?? []) as string[]));

/**
 * One parentRef of `route`, or undefined when the parent is a Gateway of another controller (not Trellis's to report
 * on). `unsupported` (a feature the route uses that Trellis cannot serve) refuses it everywhere.
 */
export function attachParent(route: Resource<unknown>, ref: ParentReference, lookup: ParentLookup, unsupported: string | undefined): ParentResult | undefined {
  const group = ref.group ?? GATEWAY_API_GROUP;
  const kind = ref.kind ?? 'Gateway';
  const namespace = ref.namespace ?? route.metadata.namespace;
  const name = ref.name ?? '';
  const base = { ref: statusParentRef(ref), admittedBy: [] as ListenerModel[], attachments: [] as ListenerAttachment[] };
  if (isCore(group) && kind === 'Service') {
    const service = lookup.service(namespace, name);
    if (!service) return { ...base, accepted: refused(R.NoMatchingParent, `Service ${namespace}/${name} not found`) };
    if (ref.port !== undefined && !service.ports.some((p) => p.port === ref.port)) return { ...base, accepted: refused(R.NoMatchingParent, `Service ${namespace}/${name} has no port ${ref.port}`) };
    return { ...base, service, servicePort: ref.port, accepted: unsupported ? refused(R.UnsupportedValue, unsupported) : accepted() };
  }
  if (group !== GATEWAY_API_GROUP || kind !== 'Gateway') return { ...base, accepted: refused(R.NoMatchingParent, `parent kind ${group}/${kind} is not supported (Gateway, or a Service for mesh routes)`) };
  const gw = lookup.gateway(namespace, name);
  if (!gw) return lookup.gatewayExists(namespace, name) ? undefined : { ...base, accepted: refused(R.NoMatchingParent, `Gateway ${namespace}/${name} not found`) };
  let listeners = gw.listeners;
  if (ref.sectionName !== undefined) listeners = listeners.filter((l) => l.name === ref.sectionName);
  if (ref.port !== undefined) listeners = listeners.filter((l) => l.port === ref.port);
  if (!listeners.length) {
    const what = [ref.sectionName !== undefined ? `named ${ref.sectionName}` : '', ref.port !== undefined ? `on port ${ref.port}` : ''].filter(Boolean).join(' ');
    return { ...base, accepted: refused(R.NoMatchingParent, `Gateway ${namespace}/${name} has no listener ${what}`) };
  }
  const routeKind = { group: route.group, kind: route.kind };
  const nsLabels = lookup.namespaceLabels(route.metadata.namespace);
  const admittedBy = listeners.filter((l) => kindListed(l.supportedKinds, routeKind) && namespaceAdmitted(l.allowedRoutes, gw.namespace, route.metadata.namespace, nsLabels));
  if (!admittedBy.length) return { ...base, accepted: refused(R.NotAllowedByListeners, `no listener of Gateway ${namespace}/${name} admits a ${route.kind} from namespace ${route.metadata.namespace}`) };
  const routeHosts = hostnamesOf(route);
  const attachments = admittedBy.map((listener) => ({ listener, hostnames: route.kind === 'TCPRoute' ? ['*'] : hostnameIntersection(listener.hostname, routeHosts) })).filter((a) => a.hostnames.length > 0);
  if (!attachments.length) return { ...base, admittedBy, accepted: refused(R.NoMatchingListenerHostname, `no hostname of the route matches a listener of Gateway ${namespace}/${name}`) };
  if (unsupported) return { ...base, admittedBy, accepted: refused(R.UnsupportedValue, unsupported) };
  return { ...base, admittedBy, attachments, accepted: accepted() };
}
