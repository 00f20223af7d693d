// The Kubernetes Gateway API's own rules, one place for analysis (`trellis analyze`) and translation alike: the route
// kinds a listener takes, whether its allowedRoutes admit a route, what a ReferenceGrant permits, and how listener and
// route hostnames intersect.

import { matchesLabelSelector } from './labels.js';
import type { GatewayListener, ReferenceGrantSpec } from './types/gateway-api.js';
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
