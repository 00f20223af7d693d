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

/** Virtual hosts for HTTP(S) listeners that share a route configuration: one per hostname their routes serve. */
export function listenerVirtualHosts(push: PushContext, listeners: readonly ListenerModel[], t: RouteTarget): VirtualHost[] {
  const byHost = new Map<string, RouteModel[]>();
  for (const l of listeners) {
    for (const { route, hostnames } of push.gatewayApi.routesOn(l) as ListenerRoute[]) {
      if (!HTTP_KINDS.has(route.kind)) continue;
      for (const h of hostnames) {
        const list = byHost.get(h) ?? [];
        if (!list.includes(route)) list.push(route);
        byHost.set(h, list);
      }
    }
  }
  return [...byHost].map(([host, routes]) => ({ name: virtualHostName(host, t.port), domains: [host], routes: rankedRoutes(push, routes, t), includeRequestAttemptCount: true }));
}
