// Gateway API routes → ranked Envoy routes and virtual hosts: the routes of every HTTPRoute and GRPCRoute that serve one
// hostname, sorted by the specification's precedence across routes; one virtual host per hostname a listener's routes
// serve, so a request for a host that a more specific listener claims never reaches another listener's routes.

import type { Route, VirtualHost } from '../../../xds/envoy/index.js';
import { virtualHostName } from '../names.js';
import type { PushContext } from '../push-context.js';
import type { ListenerRoute, RouteModel } from './gateway-api-index.js';
import type { ListenerModel } from './gateways.js';
import { compareRanks, routeEntries, type RouteEntry, type RuleContext } from './http-routes.js';

export interface RouteTarget {
  /** The listener's port (a service port for mesh routes) and scheme, which redirects keep. */
  port: number;
  scheme: 'http' | 'https';
  flavour: 'envoy' | 'grpc';
}

const HTTP_KINDS = new Set(['HTTPRoute', 'GRPCRoute']);

/** A route's Envoy routes for a target, built once per push context. */
function entriesOf(push: PushContext, route: RouteModel, t: RouteTarget): RouteEntry[] {
  const r = route.resource;
  return push.remember(`gateway-api|${r.kind}|${r.metadata.namespace}/${r.metadata.name}|${t.port}|${t.scheme}|${t.flavour}`, () => {
    const ctx: RuleContext = { ...t, backend: (ref) => route.backends.get(ref) ?? { ok: false, reason: 'BackendNotFound', message: 'unresolved backend' } };
    return routeEntries(r as Parameters<typeof routeEntries>[0], ctx);
  });
}

/** The Envoy routes of several HTTPRoutes/GRPCRoutes, in the specification's precedence order. */
export function rankedRoutes(push: PushContext, routes: readonly RouteModel[], t: RouteTarget): Route[] {
  const entries = routes.filter((r) => HTTP_KINDS.has(r.kind)).flatMap((route) => entriesOf(push, route, t).map((e) => ({ e, order: route.order })));
  entries.sort((a, b) => compareRanks(a.e.rank, b.e.rank) || a.order - b.order || a.e.rule - b.e.rule || a.e.match - b.e.match);
  return entries.map((x) => x.e.route);
}

/** How specific a listener hostname is: exact beats any wildcard, a longer wildcard suffix beats a shorter, none is last. */
function specificity(hostname: string | undefined): number {
  if (!hostname) return 0;
  return hostname.startsWith('*.') ? hostname.length : 100_000 + hostname.length;
}

/** Does a listener hostname (none: any) cover host `h` (itself possibly a wildcard)? */
function covers(hostname: string | undefined, h: string): boolean {
  if (!hostname || hostname === h) return true;
  return hostname.startsWith('*.') && h.endsWith(hostname.slice(1)) && h.length > hostname.length - 1;
}

/** The listener of `siblings` that owns requests for `h`: the most specific one whose hostname covers it. */
function owner(siblings: readonly ListenerModel[], h: string): ListenerModel | undefined {
  let best: ListenerModel | undefined;
  for (const l of siblings) if (covers(l.hostname, h) && (!best || specificity(l.hostname) > specificity(best.hostname))) best = l;
  return best;
}

/** Does a route's host pattern (`*`, `*.example.com`, exact) take requests for `h` (itself possibly a wildcard)? */
function patternCovers(pattern: string, h: string): boolean {
  return pattern === '*' || pattern === h || (pattern.startsWith('*.') && h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1);
}

/**
 * Virtual hosts for the listeners `serving` one route configuration. `siblings` are all listeners on the port (HTTPS
 * ones are told apart by SNI, HTTP ones share one configuration). Each hostname gets a virtual host with every rule
 * that serves it — the routes for that name and those of wildcards covering it, ranked together as the specification
 * orders matches — but only from the listener that owns it: the most specific sibling whose hostname covers it
 * (listener isolation). Every sibling's own hostname gets a virtual host, empty when its listener is another chain's
 * or has no routes, so its requests never fall through to a broader listener's routes.
 */
export function listenerVirtualHosts(push: PushContext, serving: readonly ListenerModel[], siblings: readonly ListenerModel[], t: RouteTarget): VirtualHost[] {
  const entries: Array<{ listener: ListenerModel; pattern: string; route: RouteModel }> = [];
  for (const l of serving) {
    for (const { route, hostnames } of push.gatewayApi.routesOn(l) as ListenerRoute[]) {
      if (HTTP_KINDS.has(route.kind)) for (const pattern of hostnames) entries.push({ listener: l, pattern, route });
    }
  }
  const hosts = new Set([...entries.map((e) => e.pattern), ...siblings.flatMap((l) => (l.hostname ? [l.hostname] : []))]);
  const out: VirtualHost[] = [];
  for (const h of hosts) {
    const own = owner(siblings, h);
    const routes = [...new Set(entries.filter((e) => e.listener === own && patternCovers(e.pattern, h)).map((e) => e.route))];
    out.push({ name: virtualHostName(h, t.port), domains: [h], routes: rankedRoutes(push, routes, t), includeRequestAttemptCount: true });
  }
  return out;
}
