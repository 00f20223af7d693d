// The Gateway API as one push context sees it, resolved once per config version: Trellis's GatewayClasses, their
// Gateways and listeners, every route's parents and backends, which routes each listener serves, the mesh (GAMMA)
// routes of each Service, and where each Gateway's deployed proxy is. Translation and status both read it.

import { serviceFqdn } from '../../../config/hosts.js';
import { GATEWAY_API_GROUP, namespaceLabels } from '../../../config/gateway-api.js';
import { GROUPS } from '../../../config/kinds.js';
import type { Resource } from '../../../config/resource.js';
import { GATEWAY_NAME_LABEL, type BackendRef, type HTTPRouteFilter, type K8sGateway, type ReferenceGrantSpec } from '../../../config/types/gateway-api.js';
import type { ServiceEntry } from '../../../config/types/networking.js';
import type { MeshService, Workload } from '../../registry/service-registry.js';
import { attachParent, ROUTE_KINDS, type ListenerAttachment, type ParentResult, type RouteKind } from './attachment.js';
import { firstProblem, resolveBackend, type BackendLookup, type ResolvedBackend } from './backends.js';
import { C, condition, R, type Condition } from './conditions.js';
import { gatewayClasses, type GatewayClassInfo } from './gateway-classes.js';
import { resolveGateway, type GatewayModel, type ListenerModel } from './gateways.js';

export interface RouteModel {
  resource: Resource<unknown>;
  kind: RouteKind;
  /** Position in the specification's tie-break order (oldest first, then namespace/name). */
  order: number;
  parents: ParentResult[];
  /** True, or False with the first unusable backend's reason. */
  resolvedRefs: Condition;
  /** Every backendRef of the route (rules, per-backend filters and mirrors), resolved. */
  backends: ReadonlyMap<BackendRef, ResolvedBackend>;
}

/** A route on a listener, with the hostnames it serves there. */
export interface ListenerRoute {
  route: RouteModel;
  hostnames: string[];
}

/** What the index needs from the push context being built. */
export interface GatewayApiSources {
  resources: readonly Resource[];
  domain: string;
  service(host: string): MeshService | undefined;
  secret(namespace: string, name: string): Resource | undefined;
  workloads(): readonly Workload[];
}

const UNSUPPORTED_FILTERS = new Set<HTTPRouteFilter['type']>(['ExtensionRef', 'ExternalAuth']);

/** A feature of the route Trellis cannot serve (the route is then not Accepted, reason UnsupportedValue). */
function unsupportedFeature(route: Resource<unknown>): string | undefined {
  const rules = (route.spec as { rules?: Array<{ filters?: HTTPRouteFilter[]; backendRefs?: Array<{ filters?: HTTPRouteFilter[] }> }> }).rules ?? [];
  for (const rule of rules) {
    for (const f of [...(rule.filters ?? []), ...(rule.backendRefs ?? []).flatMap((b) => b.filters ?? [])]) {
      if (UNSUPPORTED_FILTERS.has(f.type)) return `filter ${f.type} is not supported`;
    }
  }
  return undefined;
}

/** Every backendRef a route names: its rules' backends and the mirrors of rule- and backend-level filters. */
function backendRefsOf(route: Resource<unknown>): BackendRef[] {
  const rules = (route.spec as { rules?: Array<{ filters?: HTTPRouteFilter[]; backendRefs?: BackendRef[] }> }).rules ?? [];
  const out: BackendRef[] = [];
  for (const rule of rules) {
    for (const b of rule.backendRefs ?? []) {
      out.push(b);
      for (const f of b.filters ?? []) if (f.requestMirror?.backendRef) out.push(f.requestMirror.backendRef);
    }
    for (const f of rule.filters ?? []) if (f.requestMirror?.backendRef) out.push(f.requestMirror.backendRef);
  }
  return out;
}

const creation = (r: Resource<unknown>) => r.metadata.creationTimestamp ?? '';
const nsName = (r: Resource<unknown>) => `${r.metadata.namespace}/${r.metadata.name}`;
const key = (namespace: string, name: string) => `${namespace}/${name}`;

export class GatewayApiIndex {
  readonly classes: ReadonlyMap<string, GatewayClassInfo>;
  /** Gateways of Trellis's classes. */
  readonly gateways: readonly GatewayModel[];
  /** HTTPRoutes, GRPCRoutes, TLSRoutes and TCPRoutes, in the specification's precedence order. */
  readonly routes: readonly RouteModel[];
  private readonly gatewaysByKey = new Map<string, GatewayModel>();
  private readonly onListener = new Map<ListenerModel, ListenerRoute[]>();
  private readonly attached = new Map<ListenerModel, number>();
  /** Mesh routes by service host, then the port they name (0: every port). */
  private readonly meshByHost = new Map<string, Array<{ route: RouteModel; port: number }>>();
  private readonly deployed = new Map<string, Workload[]>();

  constructor(src: GatewayApiSources) {
    const ofKind = (kind: string) => src.resources.filter((r) => r.group === GATEWAY_API_GROUP && r.kind === kind);
    this.classes = gatewayClasses(src.resources);
    const grantsByNs = new Map<string, Array<{ spec: ReferenceGrantSpec }>>();
    for (const g of ofKind('ReferenceGrant')) grantsByNs.set(g.metadata.namespace, [...(grantsByNs.get(g.metadata.namespace) ?? []), g as Resource<ReferenceGrantSpec>]);
    const grants = (ns: string) => grantsByNs.get(ns) ?? [];
    const nsLabels = new Map(src.resources.filter((r) => r.group === '' && r.kind === 'Namespace').map((r) => [r.metadata.name, r.metadata.labels]));
    const allGateways = new Set(ofKind('Gateway').map(nsName));
    const gateways: GatewayModel[] = [];
    for (const gw of ofKind('Gateway') as K8sGateway[]) {
      const cls = this.classes.get(gw.spec.gatewayClassName ?? '');
      if (!cls) continue;
      const model = resolveGateway(gw, cls, { secret: src.secret, grants });
      gateways.push(model);
      this.gatewaysByKey.set(nsName(gw), model);
    }
    this.gateways = gateways;
    for (const w of src.workloads()) {
      const name = w.labels[GATEWAY_NAME_LABEL];
      if (name) this.deployed.set(key(w.namespace, name), [...(this.deployed.get(key(w.namespace, name)) ?? []), w]);
    }
    const serviceEntries = new Map(src.resources.filter((r) => r.group === GROUPS.ISTIO_NET && r.kind === 'ServiceEntry').map((r) => [nsName(r), r as ServiceEntry]));
    const backendLookup: BackendLookup = { domain: src.domain, service: src.service, grants, serviceEntry: (ns, name) => serviceEntries.get(key(ns, name)) };
    const parentLookup = {
      gateway: (ns: string, name: string) => this.gatewaysByKey.get(key(ns, name)),
      gatewayExists: (ns: string, name: string) => allGateways.has(key(ns, name)),
      namespaceLabels: (ns: string) => namespaceLabels(ns, nsLabels.get(ns)),
      service: (ns: string, name: string) => src.service(serviceFqdn(name, ns, src.domain)),
    };
    const sorted = src.resources
      .filter((r) => r.group === GATEWAY_API_GROUP && (ROUTE_KINDS as readonly string[]).includes(r.kind))
      .sort((a, b) => creation(a).localeCompare(creation(b)) || nsName(a).localeCompare(nsName(b)));
    this.routes = sorted.map((resource, order) => {
      const backends = new Map(backendRefsOf(resource).map((ref) => [ref, resolveBackend(ref, resource, backendLookup)] as const));
      const problem = firstProblem(backends.values());
      const resolvedRefs = problem ? condition(C.ResolvedRefs, false, problem.reason, problem.message) : condition(C.ResolvedRefs, true, R.ResolvedRefs);
      const unsupported = unsupportedFeature(resource);
      const refs = (resource.spec as { parentRefs?: ParentResult['ref'][] }).parentRefs ?? [];
      const parents = refs.map((ref) => attachParent(resource, ref, parentLookup, unsupported)).filter((p): p is ParentResult => !!p);
      const model: RouteModel = { resource, kind: resource.kind as RouteKind, order, parents, resolvedRefs, backends };
      for (const p of parents) {
        for (const a of p.attachments) {
          this.attached.set(a.listener, (this.attached.get(a.listener) ?? 0) + 1);
          this.attach(a, model);
        }
        if (p.service && p.accepted.status === 'True') this.meshByHost.set(p.service.hostname, [...(this.meshByHost.get(p.service.hostname) ?? []), { route: model, port: p.servicePort ?? 0 }]);
      }
      return model;
    });
  }

  private attach(a: ListenerAttachment, route: RouteModel): void {
    const list = this.onListener.get(a.listener) ?? [];
    // A route that names one listener twice (sectionName and port) serves it once.
    const same = list.find((x) => x.route === route);
    if (same) same.hostnames = [...new Set([...same.hostnames, ...a.hostnames])];
    else list.push({ route, hostnames: a.hostnames });
    this.onListener.set(a.listener, list);
  }

  gateway(namespace: string, name: string): GatewayModel | undefined {
    return this.gatewaysByKey.get(key(namespace, name));
  }

  /** The Gateways a gateway proxy serves: Istio selects a deployed gateway by its gateway-name label in the Gateway's namespace. */
  gatewaysForProxy(namespace: string, labels: Readonly<Record<string, string>>): GatewayModel[] {
    const name = labels[GATEWAY_NAME_LABEL];
    const gw = name ? this.gatewaysByKey.get(key(namespace, name)) : undefined;
    return gw ? [gw] : [];
  }

  /** The routes a listener serves, in precedence order, with the hostnames each serves there. */
  routesOn(listener: ListenerModel): readonly ListenerRoute[] {
    return this.onListener.get(listener) ?? [];
  }

  /**
   * `attachedRoutes` of a listener: routes Accepted on it — selected by a parentRef, admitted by its allowedRoutes and
   * sharing a hostname with it (the conformance suite counts only Accepted routes).
   */
  attachedRoutes(listener: ListenerModel): number {
    return this.attached.get(listener) ?? 0;
  }

  /**
   * Mesh (GAMMA) routes for traffic to a service port from `clientNamespace`: routes in the client's own namespace
   * (consumer routes) win over those in the service's (producer routes), which apply to every client.
   */
  meshRoutes(host: string, port: number, clientNamespace: string, serviceNamespace: string): RouteModel[] {
    const all = (this.meshByHost.get(host) ?? []).filter((m) => m.port === 0 || m.port === port).map((m) => m.route);
    const consumer = all.filter((r) => r.resource.metadata.namespace === clientNamespace && clientNamespace !== serviceNamespace);
    return consumer.length ? consumer : all.filter((r) => r.resource.metadata.namespace === serviceNamespace);
  }

  /** The addresses of a Gateway's deployed proxies (the runtime registers them as workloads with the gateway-name label). */
  addresses(gw: GatewayModel): string[] {
    return [...new Set((this.deployed.get(key(gw.namespace, gw.name)) ?? []).map((w) => w.address))];
  }
}
