// Everything translation looks up, as one immutable snapshot per config version (Istio's PushContext): the resources,
// the registry as it was, the mesh config, and indexes — services by host, VirtualServices per gateway and host,
// DestinationRules with Istio's namespace precedence, Sidecars, Gateways, workload policies, Secrets, the JWKS of
// RequestAuthentications, and the Kubernetes Gateway API resolved (gateway-api/). Builders read it; nothing in it changes once built, so a push needs no locks.

import { hostMatches, resolveHost, splitNamespacedHost } from '../../config/hosts.js';
import { matchesLabels, nonEmptySelectorMatches } from '../../config/labels.js';
import { meshModelOf, type MeshConfig, type MeshModel } from '../../config/mesh-config.js';
import type { Resource } from '../../config/resource.js';
import type { DestinationRule, IstioGateway, Sidecar, Subset, VirtualService } from '../../config/types/networking.js';
import { meshTelemetry, type MeshTelemetry } from '../../telemetry/telemetry-api.js';
import type { JwksSource } from '../jwks/jwks-resolver.js';
import type { MeshService, RegistrySnapshot, Workload } from '../registry/service-registry.js';
import { PolicyIndex } from './policy-index.js';
import { GatewayApiIndex } from './gateway-api/gateway-api-index.js';

/** What the control plane is told from outside the config. */
export interface ClusterOptions {
  /** Kubernetes' cluster domain (`<svc>.<ns>.svc.<domain>`). */
  domain: string;
  /** Mesh config set on the control plane's command line: a last layer over the files' (mesh-config.ts). */
  meshOverrides?: Partial<MeshConfig>;
  /** The control plane's namespace, when several share a config: its ServiceMeshControlPlane and ConfigMap apply. */
  controlPlaneNamespace?: string;
}

export const DEFAULT_CLUSTER: ClusterOptions = { domain: 'cluster.local' };

export const MESH_GATEWAY = 'mesh';

export interface BoundVirtualService {
  vs: VirtualService;
  /** Hosts as FQDNs (short names resolved in the VirtualService's namespace); wildcards kept. */
  hosts: string[];
  /** Gateways as `namespace/name`, or `mesh`. */
  gateways: string[];
}

export interface FoundDestinationRule {
  rule: DestinationRule;
  /** Subsets of every rule for the host in the chosen namespace, merged (the first rule's wins per name). */
  subsets: Subset[];
}

const creation = (r: Resource<unknown>) => r.metadata.creationTimestamp ?? '';
const isNet = (kind: string) => (r: Resource) => r.group === 'networking.istio.io' && r.kind === kind;
// Istio orders by creation time, then name; files give no time, so file order (load order) breaks ties.
const ordered = <T extends Resource<unknown>>(list: T[]) => list.map((r, i) => ({ r, i })).sort((a, b) => creation(a.r).localeCompare(creation(b.r)) || a.i - b.i).map((x) => x.r);

export class PushContext {
  readonly services: readonly MeshService[];
  private readonly servicesByHost = new Map<string, MeshService>();
  readonly virtualServices: readonly BoundVirtualService[];
  private readonly destinationRulesByNamespace = new Map<string, DestinationRule[]>();
  private readonly sidecars: readonly Sidecar[];
  readonly gateways: readonly IstioGateway[];
  private readonly secretsByKey = new Map<string, Resource>();
  /** The mesh config and its control plane (one per config version, shared with analysis and the console). */
  readonly meshModel: MeshModel;
  /** Telemetry providers and defaults from the mesh config. */
  readonly telemetry: MeshTelemetry;
  /** PeerAuthentication, AuthorizationPolicy, RequestAuthentication and Telemetry by namespace. */
  readonly policies: PolicyIndex;
  /** Kubernetes Gateway API objects resolved: classes, Gateways and listeners, routes' parents and backends, mesh routes. */
  readonly gatewayApi: GatewayApiIndex;
  /** JWKS text by `jwksUri` (or `issuer:<issuer>` for OpenID discovery), as fetched when this context was built. */
  private readonly jwksByKey = new Map<string, string | undefined>();
  private readonly memo = new Map<string, unknown>();

  constructor(
    readonly resources: readonly Resource[],
    /** The registry as it was when this push began. */
    readonly registry: RegistrySnapshot,
    readonly cluster: ClusterOptions = DEFAULT_CLUSTER,
    readonly version = 0,
    /** Fetched JWKS of RequestAuthentication rules (none: every `jwksUri` counts as unreachable). */
    jwks?: JwksSource,
  ) {
    this.meshModel = meshModelOf(resources, cluster.meshOverrides, cluster.controlPlaneNamespace);
    this.telemetry = meshTelemetry(this.mesh);
    this.policies = new PolicyIndex(resources, this.mesh.rootNamespace, this.meshModel.dataPlaneMtls ? 'STRICT' : 'PERMISSIVE');
    this.services = registry.services();
    for (const s of this.services) if (!this.servicesByHost.has(s.hostname)) this.servicesByHost.set(s.hostname, s);
    const of = <T>(kind: string) => resources.filter(isNet(kind)) as unknown as T[];
    this.virtualServices = ordered(of<VirtualService>('VirtualService')).map((vs) => ({
      vs,
      hosts: (vs.spec.hosts ?? []).map((h) => resolveHost(h, vs.metadata.namespace, cluster.domain)),
      gateways: (vs.spec.gateways?.length ? vs.spec.gateways : [MESH_GATEWAY]).map((g) => (g === MESH_GATEWAY ? g : g.includes('/') ? g : `${vs.metadata.namespace}/${g}`)),
    }));
    for (const dr of ordered(of<DestinationRule>('DestinationRule'))) {
      const list = this.destinationRulesByNamespace.get(dr.metadata.namespace);
      if (list) list.push(dr);
      else this.destinationRulesByNamespace.set(dr.metadata.namespace, [dr]);
    }
    this.sidecars = ordered(of<Sidecar>('Sidecar'));
    this.gateways = ordered(of<IstioGateway>('Gateway'));
    for (const r of resources) if (r.group === '' && r.kind === 'Secret') this.secretsByKey.set(`${r.metadata.namespace}/${r.metadata.name}`, r);
    this.gatewayApi = new GatewayApiIndex({
      resources,
      domain: cluster.domain,
      service: (host) => this.service(host),
      secret: (ns, name) => this.secret(ns, name),
      workloads: () => registry.workloads(),
    });
    // The keys as they are now: a key set fetched later makes a new push context (the resolver's change event).
    for (const ra of this.policies.allRequestAuthentications()) {
      for (const rule of ra.spec.jwtRules ?? []) {
        if (rule.jwks !== undefined) continue;
        const key = jwksKey(rule.jwksUri, rule.issuer);
        if (key && !this.jwksByKey.has(key)) this.jwksByKey.set(key, jwks?.jwks(rule.jwksUri, rule.jwksUri ? undefined : rule.issuer));
      }
    }
  }

  /** The mesh config (Istio's MeshConfig, with OpenShift Service Mesh's ServiceMeshControlPlane merged in). */
  get mesh(): MeshConfig {
    return this.meshModel.config;
  }

  /** Memoised per push context: results that depend only on this snapshot and `key`. */
  remember<T>(key: string, make: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = make();
    this.memo.set(key, v);
    return v;
  }

  service(host: string): MeshService | undefined {
    return this.servicesByHost.get(host);
  }

  secret(namespace: string, name: string): Resource | undefined {
    return this.secretsByKey.get(`${namespace}/${name}`);
  }

  /** The JWKS for a rule's `jwksUri` (or its issuer's discovery), as fetched when this push began; undefined until then. */
  jwks(jwksUri: string | undefined, issuer: string | undefined): string | undefined {
    const key = jwksKey(jwksUri, issuer);
    return key ? this.jwksByKey.get(key) : undefined;
  }

  /** Is `exportTo` (names, `*`, `.` already resolved, `~`) visible from `namespace`? */
  static exportedTo(exportTo: readonly string[] | undefined, owner: string, namespace: string): boolean {
    if (!exportTo || exportTo.length === 0) return true;
    return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && owner === namespace));
  }

  /** Services a sidecar in `namespace` can reach: exported to it and allowed by its Sidecar's egress hosts. */
  visibleServices(namespace: string, sidecar: Sidecar | undefined): MeshService[] {
    const egress = sidecar?.spec.egress?.flatMap((e) => e.hosts ?? []);
    return this.services.filter((s) => {
      if (!PushContext.exportedTo(s.exportTo, s.namespace, namespace)) return false;
      if (!egress || egress.length === 0) return true;
      return egress.some((entry) => {
        const { namespace: ns = '*', host } = splitNamespacedHost(entry);
        const nsOk = ns === '*' || ns === s.namespace || (ns === '.' && s.namespace === namespace);
        return nsOk && (host === '*' || hostMatches(host, s.hostname));
      });
    });
  }

  /**
   * The VirtualService for a host as seen through a gateway (`mesh` for sidecars) from `namespace`: an exact host
   * beats a wildcard; among equals the oldest wins (later duplicates are IST0109 in analysis).
   */
  virtualServiceFor(host: string, gateway: string, namespace: string): BoundVirtualService | undefined {
    let wildcard: BoundVirtualService | undefined;
    for (const b of this.virtualServices) {
      if (!b.gateways.includes(gateway)) continue;
      if (gateway === MESH_GATEWAY && !PushContext.exportedTo(b.vs.spec.exportTo, b.vs.metadata.namespace, namespace)) continue;
      if (b.hosts.includes(host)) return b;
      if (!wildcard && b.hosts.some((h) => h.startsWith('*') && hostMatches(h, host))) wildcard = b;
    }
    return wildcard;
  }

  /** VirtualServices bound to a gateway (`namespace/name`), in precedence order. */
  virtualServicesForGateway(gateway: string): BoundVirtualService[] {
    return this.virtualServices.filter((b) => b.gateways.includes(gateway));
  }

  /**
   * Istio's DestinationRule lookup for `host` from a proxy in `namespace`: the proxy's namespace first, then the
   * service's namespace, then the root namespace; exact hosts before wildcards; subsets of rules for the same host
   * in the chosen namespace are merged (the first rule's policy wins).
   */
  destinationRuleFor(host: string, namespace: string, proxyLabels: Record<string, string> = {}): FoundDestinationRule | undefined {
    const svc = this.service(host);
    const order = [namespace, svc?.namespace, this.mesh.rootNamespace].filter((n, i, a): n is string => !!n && a.indexOf(n) === i);
    const hostOf = (dr: DestinationRule) => resolveHost(dr.spec.host ?? '', dr.metadata.namespace, this.cluster.domain);
    for (const ns of order) {
      const candidates = (this.destinationRulesByNamespace.get(ns) ?? []).filter((dr) => {
        if (!PushContext.exportedTo(dr.spec.exportTo?.map((e) => (e === '.' ? dr.metadata.namespace : e)), dr.metadata.namespace, namespace)) return false;
        const sel = dr.spec.workloadSelector?.matchLabels;
        return !sel || (dr.metadata.namespace === namespace && matchesLabels(sel, proxyLabels));
      });
      const exact = candidates.filter((dr) => hostOf(dr) === host);
      const chosen = exact.length ? exact : candidates.filter((dr) => hostOf(dr).startsWith('*') && hostMatches(hostOf(dr), host)).sort((a, b) => hostOf(b).length - hostOf(a).length).slice(0, 1);
      if (chosen.length) {
        const subsets = new Map<string, Subset>();
        for (const dr of chosen) for (const s of dr.spec.subsets ?? []) if (s.name && !subsets.has(s.name)) subsets.set(s.name, s);
        return { rule: chosen[0]!, subsets: [...subsets.values()] };
      }
    }
    return undefined;
  }

  /** The Sidecar that applies to a workload: one selecting it, else its namespace's default, else the root namespace's. */
  sidecarFor(namespace: string, labels: Record<string, string>): Sidecar | undefined {
    const selects = (sc: Sidecar) => nonEmptySelectorMatches(sc.spec.workloadSelector?.labels, labels);
    const unselected = (sc: Sidecar) => Object.keys(sc.spec.workloadSelector?.labels ?? {}).length === 0;
    return (
      this.sidecars.find((sc) => sc.metadata.namespace === namespace && selects(sc)) ??
      this.sidecars.find((sc) => sc.metadata.namespace === namespace && unselected(sc)) ??
      this.sidecars.find((sc) => sc.metadata.namespace === this.mesh.rootNamespace && unselected(sc))
    );
  }

  /** Istio Gateways whose selector matches a gateway proxy's labels. */
  gatewaysFor(labels: Record<string, string>): IstioGateway[] {
    return this.gateways.filter((g) => nonEmptySelectorMatches(g.spec.selector, labels));
  }

  workloadFor(namespace: string, podName: string, ip: string): Workload | undefined {
    return this.registry.workloadOf(namespace, podName, ip);
  }
}

/** The JWKS cache key of a JWT rule: its `jwksUri`, else its issuer (OpenID discovery). */
function jwksKey(jwksUri: string | undefined, issuer: string | undefined): string | undefined {
  return jwksUri ? `uri:${jwksUri}` : issuer ? `issuer:${issuer}` : undefined;
}
