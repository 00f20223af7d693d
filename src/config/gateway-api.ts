// The Kubernetes Gateway API's own rules, one place for analysis (`trellis analyze`) and translation alike: the route
// kinds a listener takes, whether its allowedRoutes admit a route, what a ReferenceGrant permits, and how listener and
// route hostnames intersect.

import { matchesLabelSelector } from './labels.js';
import type { Resource } from './resource.js';
import {
  ISTIO_CONTROLLER_NAME,
  ISTIO_GATEWAY_CLASS,
  ISTIO_MESH_CONTROLLER_NAME,
  ISTIO_REMOTE_CLASS,
  ISTIO_UNMANAGED_CONTROLLER_NAME,
  ISTIO_WAYPOINT_CLASS,
  type GatewayClass,
  type GatewayListener,
  type ReferenceGrantSpec,
} from './types/gateway-api.js';
import type { LabelSelector } from './types/kubernetes.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export interface GroupKind {
  group: string;
  kind: string;
}

const gk = (kind: string): GroupKind => ({ group: GATEWAY_API_GROUP, kind });

/** Route kinds a listener takes when `allowedRoutes.kinds` is empty, by protocol (Istio's choice). */
const DEFAULT_ROUTE_KINDS: Record<string, readonly GroupKind[]> = {
  HTTP: [gk('HTTPRoute'), gk('GRPCRoute')],
  HTTPS: [gk('HTTPRoute'), gk('GRPCRoute')],
  TLS: [gk('TLSRoute'), gk('TCPRoute')],
  TCP: [gk('TCPRoute')],
  UDP: [gk('UDPRoute')],
};

/** The route kinds a listener of `protocol` takes by default (none for a protocol the API does not define). */
export function defaultRouteKinds(protocol: string | undefined): readonly GroupKind[] {
  return DEFAULT_ROUTE_KINDS[protocol ?? ''] ?? [];
}

/** Whether `kind` (as a route's group/kind) is one of `kinds`; a kind written without a group is the API's own. */
export function kindListed(kinds: ReadonlyArray<{ group?: string; kind?: string }>, kind: GroupKind): boolean {
  return kinds.some((k) => (k.group ?? GATEWAY_API_GROUP) === kind.group && k.kind === kind.kind);
}

/** The listener protocols Trellis serves (others are not Accepted: UnsupportedProtocol). */
export const SERVED_LISTENER_PROTOCOLS: ReadonlySet<string> = new Set(['HTTP', 'HTTPS', 'TLS', 'TCP']);

/** A listener's TLS mode: Terminate unless it says Passthrough, for HTTPS and TLS listeners; none for the others. */
export function listenerTlsMode(l: Pick<GatewayListener, 'protocol' | 'tls'>): 'Terminate' | 'Passthrough' | undefined {
  return l.protocol === 'HTTPS' || l.protocol === 'TLS' ? (l.tls?.mode ?? 'Terminate') : undefined;
}

/** The route kinds Trellis serves on a listener, by protocol and TLS mode (a passthrough listener cannot read TCP routes' bytes apart). */
function servableRouteKinds(protocol: string | undefined, tlsMode: string | undefined): readonly GroupKind[] {
  switch (protocol) {
    case 'HTTP':
    case 'HTTPS':
      return [gk('HTTPRoute'), gk('GRPCRoute')];
    case 'TLS':
      return tlsMode === 'Passthrough' ? [gk('TLSRoute')] : [gk('TLSRoute'), gk('TCPRoute')];
    case 'TCP':
      return [gk('TCPRoute')];
    default:
      return [];
  }
}

/**
 * The route kinds a listener takes (its status' supportedKinds): those of `allowedRoutes.kinds` Trellis serves on it,
 * else the protocol's defaults it serves; and the kinds written there that it cannot serve (InvalidRouteKinds).
 */
export function listenerRouteKinds(l: Pick<GatewayListener, 'protocol' | 'tls' | 'allowedRoutes'>): { supported: GroupKind[]; invalid: Array<{ group?: string; kind?: string }> } {
  const servable = servableRouteKinds(l.protocol, listenerTlsMode(l));
  const written = l.allowedRoutes?.kinds ?? [];
  if (!written.length) return { supported: defaultRouteKinds(l.protocol).filter((k) => kindListed(servable, k)), invalid: [] };
  return {
    supported: servable.filter((k) => kindListed(written, k)),
    invalid: written.filter((k) => !kindListed(servable, { group: k.group ?? GATEWAY_API_GROUP, kind: k.kind ?? '' })),
  };
}

/** Protocols that can share a port: HTTPS and TLS listeners are told apart by SNI; HTTP and TCP stand alone. */
const portFamily = (protocol: string) => (protocol === 'HTTPS' || protocol === 'TLS' ? 'tls' : protocol);

export interface PortConflict<L> {
  listener: L;
  /** The listener that keeps the port (the first one declared on it). */
  holder: L;
  reason: 'ProtocolConflict' | 'HostnameConflict';
}

/**
 * Listeners on one port that cannot share it with the first one declared there: another protocol family
 * (ProtocolConflict), or a second TCP listener, which nothing tells apart (HostnameConflict). Pass the listeners that
 * are otherwise accepted, in their Gateway's order.
 */
export function portConflicts<L extends { port?: number; protocol?: string }>(listeners: readonly L[]): Array<PortConflict<L>> {
  const byPort = new Map<number, L[]>();
  for (const l of listeners) byPort.set(l.port ?? 0, [...(byPort.get(l.port ?? 0) ?? []), l]);
  const out: Array<PortConflict<L>> = [];
  for (const group of byPort.values()) {
    const holder = group[0]!;
    const family = portFamily(holder.protocol ?? '');
    for (const l of group.slice(1)) {
      const same = portFamily(l.protocol ?? '') === family;
      if (same && family !== 'TCP') continue;
      out.push({ listener: l, holder, reason: same ? 'HostnameConflict' : 'ProtocolConflict' });
    }
  }
  return out;
}

/** What Trellis does with the Gateways of a class. */
export type ClassRole =
  /** Configures them and, in `trellis up`, deploys a gateway proxy for each (Istio's automated deployment). */
  | 'deployed'
  /** Configures them; their proxies are run by someone else. */
  | 'unmanaged'
  /** Reserved for ambient waypoints: recognised, not served yet. */
  | 'waypoint';

export interface ClassInfo {
  name: string;
  controllerName: string;
  role: ClassRole;
  /** Undefined for the classes Istio provides without an object. */
  resource?: GatewayClass;
}

const ROLES: Record<string, ClassRole> = {
  [ISTIO_CONTROLLER_NAME]: 'deployed',
  [ISTIO_UNMANAGED_CONTROLLER_NAME]: 'unmanaged',
  [ISTIO_MESH_CONTROLLER_NAME]: 'waypoint',
};

const BUILT_IN_CLASSES: ReadonlyArray<[string, string]> = [
  [ISTIO_GATEWAY_CLASS, ISTIO_CONTROLLER_NAME],
  [ISTIO_REMOTE_CLASS, ISTIO_UNMANAGED_CONTROLLER_NAME],
  [ISTIO_WAYPOINT_CLASS, ISTIO_MESH_CONTROLLER_NAME],
];

/**
 * The GatewayClasses Trellis handles, by name: `istio`, `istio-remote` and `istio-waypoint` exist without an object
 * (Istio creates them); a declared class is Trellis's when its controllerName is one of Istio's (and then wins), and
 * a declared class of another controller hides a built-in one of its name.
 */
export function trellisGatewayClasses(resources: readonly Resource[]): Map<string, ClassInfo> {
  const out = new Map<string, ClassInfo>();
  for (const [name, controllerName] of BUILT_IN_CLASSES) out.set(name, { name, controllerName, role: ROLES[controllerName]! });
  for (const r of resources) {
    if (r.group !== GATEWAY_API_GROUP || r.kind !== 'GatewayClass') continue;
    const cls = r as GatewayClass;
    const controllerName = cls.spec.controllerName ?? '';
    const role = ROLES[controllerName];
    if (role) out.set(cls.metadata.name, { name: cls.metadata.name, controllerName, role, resource: cls });
    else out.delete(cls.metadata.name);
  }
  return out;
}

/** Kubernetes gives every namespace the label `kubernetes.io/metadata.name: <name>`; a Selector may rely on it. */
export function namespaceLabels(namespace: string, declared: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return { ...declared, 'kubernetes.io/metadata.name': namespace };
}

/**
 * `allowedRoutes.namespaces` of a listener: `Same` (the default) admits routes of the Gateway's namespace, `All` every
 * namespace, `Selector` the namespaces whose labels match (none when it has no selector).
 */
export function namespaceAdmitted(allowed: GatewayListener['allowedRoutes'], gatewayNamespace: string, routeNamespace: string, routeNamespaceLabels: Readonly<Record<string, string>>): boolean {
  const from = allowed?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNamespace === gatewayNamespace;
  const selector = allowed?.namespaces?.selector as LabelSelector | undefined;
  if (!selector) return false;
  return matchesLabelSelector(selector, routeNamespaceLabels);
}

export interface ReferenceFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface ReferenceTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Whether a reference may cross namespaces: always within one namespace; across, only when a ReferenceGrant in the
 * target's namespace lists the referrer (group, kind, namespace) in `from` and the target (group, kind, optionally
 * name) in `to`. `grants` are the ReferenceGrants of the target's namespace.
 */
export function referenceGranted(grants: ReadonlyArray<{ spec: ReferenceGrantSpec }>, from: ReferenceFrom, to: ReferenceTo): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some(
    (g) =>
      (g.spec.from ?? []).some((f) => (f?.group ?? '') === from.group && f?.kind === from.kind && f?.namespace === from.namespace) &&
      (g.spec.to ?? []).some((t) => (t?.group ?? '') === to.group && t?.kind === to.kind && (!t?.name || t.name === to.name)),
  );
}

/** Does wildcard `pattern` (`*.example.com`) cover `host`? It matches one or more labels, never the bare suffix. */
function wildcardCovers(pattern: string, host: string): boolean {
  return pattern.startsWith('*.') && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
}

/**
 * The hostnames a route serves on a listener: the spec's intersection of the listener's `hostname` (none: any) and the
 * route's `hostnames` (none: any). `['*']` means every host; `[]` means they do not intersect.
 */
export function hostnameIntersection(listener: string | undefined, route: readonly string[]): string[] {
  if (route.length === 0) return [listener ?? '*'];
  if (!listener) return [...new Set(route)];
  const out = new Set<string>();
  for (const r of route) {
    if (r === listener || wildcardCovers(listener, r)) out.add(r);
    else if (wildcardCovers(r, listener)) out.add(listener);
  }
  return [...out];
}
