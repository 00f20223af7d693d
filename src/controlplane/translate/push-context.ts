// Everything translation looks up, indexed once per config version (Istio's PushContext): services by host,
// VirtualServices per gateway and host, DestinationRules with Istio's namespace precedence, Sidecars, Gateways.

import type { JwksSource } from '../jwks/jwks-resolver.js';
import { hostMatches, resolveHost, splitNamespacedHost } from '../../config/hosts.js';
import type { Resource } from '../../config/resource.js';
import type { DestinationRule, IstioGateway, Sidecar, VirtualService } from '../../config/types/networking.js';
import type { MeshService, ServiceRegistry, Workload } from '../registry/service-registry.js';
import { meshTelemetry, type MeshTelemetry } from '../../telemetry/telemetry-api.js';
import YAML from 'yaml';
import { meshMinTls } from './security.js';

export interface MeshOptions {
  /** Istio's root namespace: mesh-wide DestinationRules, Sidecars and policies (default `istio-system`). */
  rootNamespace: string;
  domain: string;
  /** ALLOW_ANY (default) sends unknown destinations through; REGISTRY_ONLY blocks them. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

export const DEFAULT_MESH: MeshOptions = { rootNamespace: 'istio-system', domain: 'cluster.local', outboundTrafficPolicy: 'ALLOW_ANY' };

export const MESH_GATEWAY = 'mesh';

export interface BoundVirtualService {
  vs: VirtualService;
  /** Hosts as FQDNs (short names resolved in the VirtualService's namespace); wildcards kept. */
  hosts: string[];
  /** Gateways as `namespace/name`, or `mesh`. */
  gateways: string[];
}

const creation = (r: Resource<unknown>) => r.metadata.creationTimestamp ?? '';

export class PushContext {
  readonly services: MeshService[];
  private readonly servicesByHost = new Map<string, MeshService>();
  readonly virtualServices: BoundVirtualService[];
  private readonly destinationRules: DestinationRule[];
  private readonly sidecars: Sidecar[];
  readonly gateways: IstioGateway[];
  readonly version: number;
  /** Extension providers and defaults from the mesh config (the `istio` ConfigMap in the root namespace). */
  readonly telemetry: MeshTelemetry;
  /** `meshMTLS.minProtocolVersion` from the mesh config (TLSV1_2 when unset). */
  readonly minTls: string | undefined;

  constructor(
    readonly resources: readonly Resource[],
    readonly registry: ServiceRegistry,
    readonly mesh: MeshOptions = DEFAULT_MESH,
    version = 0,
    /** Fetched JWKS of RequestAuthentication rules (none: every `jwksUri` counts as unreachable). */
    readonly jwks?: JwksSource,
  ) {
    this.version = version;
    this.telemetry = meshTelemetry(resources, mesh.rootNamespace);
    this.minTls = meshMinTls(resources, mesh.rootNamespace, (t) => YAML.parse(t));
    this.services = registry.services();
    for (const s of this.services) if (!this.servicesByHost.has(s.hostname)) this.servicesByHost.set(s.hostname, s);
    const of = <T>(kind: string) => resources.filter((r) => r.group === 'networking.istio.io' && r.kind === kind) as unknown as T[];
    // Istio orders by creation time, then name; files give no time, so file order (load order) breaks ties.
    const ordered = <T extends Resource<unknown>>(list: T[]) => list.map((r, i) => ({ r, i })).sort((a, b) => creation(a.r).localeCompare(creation(b.r)) || a.i - b.i).map((x) => x.r);
    this.virtualServices = ordered(of<VirtualService>('VirtualService')).map((vs) => ({
      vs,
      hosts: (vs.spec.hosts ?? []).map((h) => resolveHost(h, vs.metadata.namespace, mesh.domain)),
      gateways: (vs.spec.gateways?.length ? vs.spec.gateways : [MESH_GATEWAY]).map((g) => (g === MESH_GATEWAY ? g : g.includes('/') ? g : `${vs.metadata.namespace}/${g}`)),
    }));
    this.destinationRules = ordered(of<DestinationRule>('DestinationRule'));
    this.sidecars = ordered(of<Sidecar>('Sidecar'));
    this.gateways = ordered(of<IstioGateway>('Gateway'));
  }

  service(host: string): MeshService | undefined {
    return this.servicesByHost.get(host);
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
        const nsOk = ns === '*' || ns === s.namespace || (ns === '.' && s.namespace === namespace) || (ns === '~' && false);
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
  destinationRuleFor(host: string, namespace: string, proxyLabels: Record<string, string> = {}): { rule: DestinationRule; subsets: NonNullable<DestinationRule['spec']['subsets']> } | undefined {
    const svc = this.service(host);
    const order = [namespace, svc?.namespace, this.mesh.rootNamespace].filter((n, i, a): n is string => !!n && a.indexOf(n) === i);
    for (const ns of order) {
      const candidates = this.destinationRules.filter((dr) => {
        if (dr.metadata.namespace !== ns) return false;
        if (!PushContext.exportedTo(dr.spec.exportTo?.map((e) => (e === '.' ? dr.metadata.namespace : e)), dr.metadata.namespace, namespace)) return false;
        const sel = dr.spec.workloadSelector?.matchLabels;
        if (sel && !(dr.metadata.namespace === namespace && Object.entries(sel).every(([k, v]) => proxyLabels[k] === v))) return false;
        return true;
      });
      const hostOf = (dr: DestinationRule) => resolveHost(dr.spec.host ?? '', dr.metadata.namespace, this.mesh.domain);
      const exact = candidates.filter((dr) => hostOf(dr) === host);
      const chosen = exact.length ? exact : candidates.filter((dr) => hostOf(dr).startsWith('*') && hostMatches(hostOf(dr), host)).sort((a, b) => hostOf(b).length - hostOf(a).length).slice(0, 1);
      if (chosen.length) {
        const subsets = new Map<string, NonNullable<DestinationRule['spec']['subsets']>[number]>();
        for (const dr of chosen) for (const s of dr.spec.subsets ?? []) if (s.name && !subsets.has(s.name)) subsets.set(s.name, s);
        return { rule: chosen[0]!, subsets: [...subsets.values()] };
      }
    }
    return undefined;
  }

  /** The Sidecar that applies to a workload: one selecting it, else its namespace's default, else the root namespace's. */
  sidecarFor(namespace: string, labels: Record<string, string>): Sidecar | undefined {
    const selects = (sc: Sidecar) => {
      const sel = sc.spec.workloadSelector?.labels;
      return sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
    };
    const unselected = (sc: Sidecar) => !sc.spec.workloadSelector?.labels || Object.keys(sc.spec.workloadSelector.labels).length === 0;
    return (
      this.sidecars.find((sc) => sc.metadata.namespace === namespace && selects(sc)) ??
      this.sidecars.find((sc) => sc.metadata.namespace === namespace && unselected(sc)) ??
      this.sidecars.find((sc) => sc.metadata.namespace === this.mesh.rootNamespace && unselected(sc))
    );
  }

  /** Istio Gateways whose selector matches a gateway proxy's labels. */
  gatewaysFor(labels: Record<string, string>): IstioGateway[] {
    return this.gateways.filter((g) => {
      const sel = g.spec.selector ?? {};
      return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
    });
  }

  workloadFor(namespace: string, podName: string, ip: string): Workload | undefined {
    return this.registry.workloadOf(namespace, podName, ip);
  }
}
