// Lookups over a set of resources: by kind, by name, and the services and workloads that hosts and selectors refer to.

import { hostMatches, hostsIntersect, resolveHost, serviceFqdn } from '../hosts.js';
import { GROUPS } from '../kinds.js';
import type { Resource } from '../resource.js';
import { podTemplateOf, type PodSpec, type ServicePort, type ServiceSpec } from '../types/kubernetes.js';
import type { DestinationRuleSpec, GatewaySpec, ServiceEntrySpec, WorkloadEntrySpec } from '../types/networking.js';
import { matchesLabels, stringRecord } from '../labels.js';
import { buildMeshModel, type MeshConfig, type MeshModel } from '../mesh-config.js';
import { meshNetworksOf, type MeshNetworksModel } from '../mesh-networks.js';

export { DEFAULT_CONTROL_PLANE_NAMESPACE } from '../mesh-config.js';

const NET = GROUPS.ISTIO_NET;

/**
 * A loaded resource with its spec typed. (The `types/` aliases such as `VirtualService` are `Resource<Spec>`, which is not
 * assignable to `Resource` because specs lack an index signature; this intersection is.)
 */
export type Typed<Spec> = Resource & { spec: Spec };

/** The reserved gateway name meaning "every sidecar in the mesh". */
export const MESH_GATEWAY = 'mesh';

export interface ServicePortInfo {
  number: number;
  name?: string;
  protocol?: string;
  appProtocol?: string;
  targetPort?: number | string;
}

/** A host in the service registry: a Kubernetes Service or a ServiceEntry host. */
export interface ServiceInfo {
  /** FQDN for a Kubernetes Service; the host as written (possibly `*.example.com`) for a ServiceEntry. */
  host: string;
  namespace: string;
  name: string;
  origin: 'Service' | 'ServiceEntry';
  resource: Resource;
  ports: ServicePortInfo[];
  /** Namespaces the host is visible to: `*`, names, or `.` for its own namespace. */
  exportTo: readonly string[];
  /** Labels of the workloads behind the host (a Service's selector, a ServiceEntry's workloadSelector). */
  selector?: Record<string, string>;
  /** Labels of a ServiceEntry's inline endpoints. */
  endpointLabels?: Array<Record<string, string>>;
}

/** Something that runs a proxy and carries labels: a Pod, a workload's pod template, or a WorkloadEntry. */
export interface Workload {
  kind: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resource: Resource;
  podSpec?: PodSpec;
}

/** Files that stand for what a cluster holds outside its objects: istioctl's `--meshConfigFile` and `--meshNetworksFile`. */
export interface IndexInputs {
  /** A mesh config read from a file: it takes the place of the `istio` ConfigMap (see buildMeshModel). */
  meshConfigFile?: Resource;
  meshNetworksFile?: Resource;
}

export class ConfigIndex {
  private readonly byGroupKind = new Map<string, Resource[]>();
  private readonly byKey = new Map<string, Resource>();
  private readonly cache = new Map<string, unknown>();

  constructor(
    readonly all: readonly Resource[],
    private readonly inputs: IndexInputs = {},
  ) {
    for (const r of all) {
      const gk = `${r.group}/${r.kind}`;
      let list = this.byGroupKind.get(gk);
      if (!list) this.byGroupKind.set(gk, (list = []));
      list.push(r);
      this.byKey.set(`${gk}/${r.metadata.namespace}/${r.metadata.name}`, r);
    }
  }

  /** Every resource of `group/kind`, optionally in one namespace. */
  list<Spec = Record<string, unknown>>(group: string, kind: string, namespace?: string): Array<Typed<Spec>> {
    const list = (this.byGroupKind.get(`${group}/${kind}`) ?? []) as Array<Typed<Spec>>;
    return namespace === undefined ? list : list.filter((r) => r.metadata.namespace === namespace);
  }

  get<Spec = Record<string, unknown>>(group: string, kind: string, namespace: string, name: string): Typed<Spec> | undefined {
    return this.byKey.get(`${group}/${kind}/${namespace}/${name}`) as Typed<Spec> | undefined;
  }

  private memo<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  // --- control plane and mesh config ---------------------------------------------------------

  /** The mesh config and its control plane, as the control plane and the console read them (config/mesh-config.ts). */
  get meshModel(): MeshModel {
    return this.memo('meshModel', () => buildMeshModel(this.all, undefined, { meshConfigFile: this.inputs.meshConfigFile }));
  }

  /** The networks the mesh spans (istioctl's `--meshNetworksFile`, else the `istio` ConfigMap's `meshNetworks`). */
  get meshNetworks(): MeshNetworksModel {
    return this.memo('meshNetworks', () => meshNetworksOf(this.all, this.controlPlaneNamespace, this.inputs.meshNetworksFile));
  }

  /** Where the control plane runs: the namespace of a loaded ServiceMeshControlPlane, else `istio-system`. */
  get controlPlaneNamespace(): string {
    return this.meshModel.controlPlaneNamespace;
  }

  /** The mesh config: Istio's defaults, the ServiceMeshControlPlane, the `istio` ConfigMap (in that precedence). */
  get meshConfig(): MeshConfig {
    return this.meshModel.config;
  }

  /** Where mesh-wide policies live (`meshConfig.rootNamespace`, by default the control plane namespace). */
  get rootNamespace(): string {
    return this.meshConfig.rootNamespace;
  }

  // --- namespaces -----------------------------------------------------------------------------

  namespaceResource(name: string): Resource | undefined {
    return this.get('', 'Namespace', '', name);
  }

  /**
   * Namespaces known to exist: declared Namespace objects, namespaces that any loaded object lives in,
   * and the control plane namespace (as when kubectl applies these files, a namespace holding objects exists).
   */
  get knownNamespaces(): ReadonlySet<string> {
    return this.memo('namespaces', () => {
      const out = new Set<string>([this.controlPlaneNamespace]);
      for (const r of this.all) {
        if (r.group === '' && r.kind === 'Namespace') out.add(r.metadata.name);
        else if (r.metadata.namespace) out.add(r.metadata.namespace);
      }
      return out;
    });
  }

  // --- service registry -------------------------------------------------------------------------

  /** Every host in the registry. */
  get services(): readonly ServiceInfo[] {
    return this.memo('services', () => {
      const out: ServiceInfo[] = [];
      for (const s of this.list<ServiceSpec>('', 'Service')) out.push(kubernetesServiceInfo(s));
      for (const se of this.list<ServiceEntrySpec>(NET, 'ServiceEntry')) out.push(...serviceEntryInfos(se));
      return out;
    });
  }

  private get byHost(): Map<string, ServiceInfo[]> {
    return this.memo('byHost', () => {
      const m = new Map<string, ServiceInfo[]>();
      for (const s of this.services) {
        let list = m.get(s.host);
        if (!list) m.set(s.host, (list = []));
        list.push(s);
      }
      return m;
    });
  }

  /**
   * The registry entries for `host` (already resolved to an FQDN where it is a short name) that `fromNamespace`
   * can see: exact names first, then wildcard ServiceEntry hosts that cover it. A wildcard `host` matches every entry it overlaps.
   */
  servicesForHost(host: string, fromNamespace: string): ServiceInfo[] {
    const visible = (s: ServiceInfo) => isVisible(s.exportTo, s.namespace, fromNamespace);
    if (host.includes('*')) return this.services.filter((s) => visible(s) && hostsIntersect(host, s.host));
    const exact = (this.byHost.get(host) ?? []).filter(visible);
    if (exact.length > 0) return exact;
    return this.services.filter((s) => s.host.startsWith('*') && visible(s) && hostMatches(s.host, host));
  }

  /** The Kubernetes Service `namespace/name`. */
  kubernetesService(namespace: string, name: string): ServiceInfo | undefined {
    return this.services.find((s) => s.origin !== 'ServiceEntry' && s.namespace === namespace && s.name === name);
  }

  /** Kubernetes Services in the workload's namespace whose (non-empty) selector picks it. */
  servicesSelecting(w: Workload): ServiceInfo[] {
    return this.services.filter((s) => s.origin !== 'ServiceEntry' && s.namespace === w.namespace && s.selector && Object.keys(s.selector).length > 0 && matchesLabels(s.selector, w.labels));
  }

  // --- workloads ---------------------------------------------------------------------------------

  /** Loaded workloads: Pods, the pod templates of Deployments, StatefulSets, DaemonSets and ReplicaSets, and WorkloadEntries. */
  get workloads(): readonly Workload[] {
    return this.memo('workloads', () => {
      const out: Workload[] = [];
      for (const r of this.list('', 'Pod')) out.push(workloadOf(r));
      for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']) for (const r of this.list('apps', kind)) out.push(workloadOf(r));
      for (const we of this.list<WorkloadEntrySpec>(NET, 'WorkloadEntry')) {
        out.push({ kind: 'WorkloadEntry', name: we.metadata.name, namespace: we.metadata.namespace, labels: { ...we.metadata.labels, ...stringRecord(we.spec.labels) }, annotations: we.metadata.annotations, resource: we });
      }
      return out;
    });
  }

  /** Loaded workloads whose labels match `selector` (`namespace` undefined: any namespace). */
  workloadsMatching(selector: Readonly<Record<string, string>> | undefined, namespace?: string): Workload[] {
    return this.workloads.filter((w) => (namespace === undefined || w.namespace === namespace) && matchesLabels(selector, w.labels));
  }

  /**
   * The workloads an Istio Gateway's selector picks, in any namespace (Istio's default). The analysis adds the gateways
   * a cluster (or `trellis up`) has without them being in the files: see assumed.ts.
   */
  gatewayWorkloads(selector: Readonly<Record<string, string>> | undefined): Workload[] {
    return this.workloadsMatching(selector).filter((w) => w.kind !== 'WorkloadEntry');
  }

  // --- references --------------------------------------------------------------------------------

  /** Resolve a VirtualService's gateway reference: `ns/name`, or a short name in `fromNamespace`. */
  istioGatewayRef(ref: string, fromNamespace: string): { namespace: string; name: string; resource?: Typed<GatewaySpec> } {
    const slash = ref.indexOf('/');
    const namespace = slash >= 0 ? ref.slice(0, slash) : fromNamespace;
    const name = slash >= 0 ? ref.slice(slash + 1) : ref;
    return { namespace, name, resource: this.get<GatewaySpec>(NET, 'Gateway', namespace, name) };
  }

  secret(namespace: string, name: string): Resource | undefined {
    return this.get('', 'Secret', namespace, name);
  }

  /** DestinationRules visible from `fromNamespace` whose host (resolved in the rule's namespace) covers `host`. */
  destinationRulesFor(host: string, fromNamespace: string): Array<Typed<DestinationRuleSpec>> {
    return this.list<DestinationRuleSpec>(NET, 'DestinationRule').filter((dr) => {
      if (typeof dr.spec.host !== 'string') return false;
      if (!isVisible(exportToOf(dr.spec.exportTo), dr.metadata.namespace, fromNamespace)) return false;
      return hostMatches(resolveHost(dr.spec.host, dr.metadata.namespace), host);
    });
  }
}

/** Whether something exported to `exportTo` by a resource in `ownNamespace` is visible in `fromNamespace`. */
export function isVisible(exportTo: readonly string[], ownNamespace: string, fromNamespace: string): boolean {
  for (const e of exportTo) {
    if (e === '*' || e === fromNamespace) return true;
    if (e === '.' && ownNamespace === fromNamespace) return true;
  }
  return false;
}

/** `exportTo` with Istio's default (`*`: every namespace). */
export function exportToOf(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) return ['*'];
  return v.map(String);
}

function kubernetesServiceInfo(s: Typed<ServiceSpec>): ServiceInfo {
  const anno = s.metadata.annotations['networking.istio.io/exportTo'];
  const exportTo = anno ? anno.split(',').map((x) => x.trim()).filter((x) => x !== '') : ['*'];
  return {
    host: serviceFqdn(s.metadata.name, s.metadata.namespace),
    namespace: s.metadata.namespace,
    name: s.metadata.name,
    origin: 'Service',
    resource: s,
    ports: (Array.isArray(s.spec.ports) ? s.spec.ports : []).filter((p): p is ServicePort => !!p && typeof p === 'object').map((p) => ({
      number: Number(p.port),
      name: p.name,
      protocol: p.protocol,
      appProtocol: p.appProtocol,
      targetPort: p.targetPort,
    })),
    exportTo: exportTo.length ? exportTo : ['*'],
    selector: s.spec.selector ? stringRecord(s.spec.selector) : undefined,
  };
}

function serviceEntryInfos(se: Typed<ServiceEntrySpec>): ServiceInfo[] {
  const hosts = Array.isArray(se.spec.hosts) ? se.spec.hosts.filter((h): h is string => typeof h === 'string') : [];
  const ports = (Array.isArray(se.spec.ports) ? se.spec.ports : []).map((p) => ({ number: Number(p?.number), name: p?.name, protocol: p?.protocol, targetPort: p?.targetPort }));
  const endpoints = Array.isArray(se.spec.endpoints) ? se.spec.endpoints : [];
  return hosts.map((h) => ({
    // Short ServiceEntry hosts are resolved in the entry's namespace, as for other Istio config.
    host: resolveHost(h, se.metadata.namespace),
    namespace: se.metadata.namespace,
    name: se.metadata.name,
    origin: 'ServiceEntry' as const,
    resource: se,
    ports,
    exportTo: exportToOf(se.spec.exportTo),
    selector: selectorOfServiceEntry(se.spec.workloadSelector),
    endpointLabels: endpoints.length ? endpoints.map((e) => stringRecord(e?.labels)) : undefined,
  }));
}

function workloadOf(r: Resource): Workload {
  const template = podTemplateOf(r);
  return {
    kind: r.kind,
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    labels: stringRecord(template?.metadata?.labels),
    annotations: stringRecord(template?.metadata?.annotations),
    resource: r,
    podSpec: template?.spec,
  };
}

/** A ServiceEntry's `workloadSelector.labels` (Istio's field; `matchLabels` is read too), or undefined when it has none. */
function selectorOfServiceEntry(ws: unknown): Record<string, string> | undefined {
  if (!ws || typeof ws !== 'object' || Array.isArray(ws)) return undefined;
  const { labels, matchLabels } = ws as { labels?: unknown; matchLabels?: unknown };
  const out = { ...stringRecord(matchLabels), ...stringRecord(labels) };
  return Object.keys(out).length ? out : undefined;
}
