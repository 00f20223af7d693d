// The service registry: services and their endpoints from Kubernetes Services + Pods/Deployments, from ServiceEntry +
// WorkloadEntry (Istio's VM model), and from local workloads the runtime registers with real addresses.

import { EventEmitter } from 'node:events';
import { resolveHost, serviceFqdn } from '../../config/hosts.js';
import type { Resource } from '../../config/resource.js';
import { SERVICE_NAME_LABEL, type Deployment, type EndpointSlice, type EndpointSliceFields, type Pod, type Service as K8sService } from '../../config/types/kubernetes.js';
import type { ServiceEntry, WorkloadEntry } from '../../config/types/networking.js';
import { istioProtocol, portProtocol, type Protocol } from './protocol.js';
import { matchesLabels, nonEmptySelectorMatches } from '../../config/labels.js';

export interface ServicePort {
  name: string;
  port: number;
  /** Number, or a container port name resolved per workload. */
  targetPort: number | string;
  protocol: Protocol;
}

export interface MeshService {
  /** FQDN (`reviews.default.svc.cluster.local`) or a ServiceEntry host. */
  hostname: string;
  name: string;
  namespace: string;
  ports: ServicePort[];
  /** Labels that select the service's workloads; undefined for ServiceEntries with inline endpoints. */
  selector: Record<string, string> | undefined;
  /** Virtual IPs (clusterIP, ServiceEntry addresses). */
  addresses: string[];
  exportTo: string[];
  origin: 'Kubernetes' | 'ServiceEntry';
  /** ServiceEntry resolution; Kubernetes services are STATIC over their endpoints (EDS). */
  resolution: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  /** Inline ServiceEntry endpoints (STATIC/DNS). */
  staticEndpoints?: Array<{ address: string; ports: Record<string, number>; labels: Record<string, string>; locality?: string; weight?: number; healthy?: boolean }>;
  resource?: Resource<unknown>;
}

/** A running instance: a pod (manifest or local process) or a WorkloadEntry. */
export interface Workload {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** Where peers reach it (pod IP; in the local runtime, the address its sidecar listens on). */
  address: string;
  /**
   * Every address of a dual-stack pod (status.podIPs, `address` first): each is an endpoint of its services, as
   * Kubernetes' per-family EndpointSlices list them. Undefined: `address` alone.
   */
  addresses?: readonly string[];
  /** Named container ports (for named targetPorts). */
  ports: Record<string, number>;
  /** Where its sidecar forwards inbound traffic (the app itself), when it differs from `address:port`. */
  appAddress?: string;
  /** containerPort → the port the app really listens on (the local runtime moves apps off the pod's ports). */
  appPorts?: Record<number, number>;
  locality?: string;
  healthy: boolean;
  /** Whether it has a sidecar (mTLS capable, metadata exchange). */
  meshed: boolean;
  /**
   * Enrolled in ambient mode (`istio.io/dataplane-mode=ambient`): no sidecar, its node proxy (ztunnel) captures its
   * traffic and takes HBONE for it, so clients reach it over HBONE (Istio's workload `tunnel_protocol: HBONE`).
   */
  ambient?: boolean;
  /**
   * Takes HBONE on 15008 itself without being ambient: a sidecar that terminates HBONE (Istio's `ENABLE_HBONE`), a
   * waypoint. The node proxy tunnels to it; sidecars still reach a sidecar with classic mutual TLS.
   */
  hbone?: boolean;
  /** The node it runs on (Kubernetes' spec.nodeName): which node proxy serves it in ambient mode. */
  node?: string;
  /** What owns it, for telemetry (a pod's Deployment, `reviews-v1`); else derived from the pod's name. */
  workloadName?: string;
  origin: 'Pod' | 'WorkloadEntry' | 'Local';
}

export interface Endpoint {
  address: string;
  port: number;
  workload: Workload | undefined;
  labels: Record<string, string>;
  locality?: string;
  weight?: number;
  healthy: boolean;
}

const DEFAULT_DOMAIN = 'cluster.local';

/**
 * The registry at one moment: services, workloads and their indexes, never changed once built. A push context holds
 * one, so a push sees one consistent state however the runtime's workloads come and go meanwhile.
 */
export class RegistrySnapshot {
  private readonly byHost = new Map<string, MeshService>();
  private index: WorkloadIndex | undefined;
  private readonly servicesByNamespace = new Map<string, MeshService[]>();

  constructor(
    private readonly serviceList: readonly MeshService[],
    private readonly workloadList: readonly Workload[],
    private readonly localByName: ReadonlyMap<string, Workload>,
  ) {
    for (const s of serviceList) {
      if (!this.byHost.has(s.hostname)) this.byHost.set(s.hostname, s);
      const list = this.servicesByNamespace.get(s.namespace);
      if (list) list.push(s);
      else this.servicesByNamespace.set(s.namespace, [s]);
    }
  }

  services(): readonly MeshService[] {
    return this.serviceList;
  }

  workloads(): readonly Workload[] {
    return this.workloadList;
  }

  /** The service with this hostname (the first, when a ServiceEntry and a Service share one). */
  service(hostname: string): MeshService | undefined {
    return this.byHost.get(hostname);
  }

  private workloadIndex(): WorkloadIndex {
    return (this.index ??= new WorkloadIndex(this.workloadList));
  }

  /** The endpoints of a service port, optionally only those whose labels match a subset's. */
  endpoints(svc: MeshService, port: ServicePort, subsetLabels?: Record<string, string>): Endpoint[] {
    const out: Endpoint[] = [];
    if (svc.staticEndpoints) {
      for (const e of svc.staticEndpoints) {
        if (!matchesLabels(subsetLabels, e.labels)) continue;
        const p = e.ports[port.name] ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port);
        out.push({ address: e.address, port: p, workload: undefined, labels: e.labels, locality: e.locality, weight: e.weight, healthy: e.healthy ?? true });
      }
      return out;
    }
    if (!svc.selector) return out;
    for (const w of this.workloadIndex().candidates(svc.selector)) {
      if (w.namespace !== svc.namespace && svc.origin === 'Kubernetes') continue;
      if (!matchesLabels(svc.selector, w.labels) || !matchesLabels(subsetLabels, w.labels)) continue;
      const target = typeof port.targetPort === 'number' ? port.targetPort : w.ports[port.targetPort];
      if (target === undefined) continue;
      for (const address of w.addresses ?? [w.address]) out.push({ address, port: target, workload: w, labels: w.labels, locality: w.locality, healthy: w.healthy });
    }
    return out;
  }

  /** The workload a proxy serves: by namespace and name (pod name), else by address. */
  workloadOf(namespace: string, name: string, address?: string): Workload | undefined {
    return this.localByName.get(`${namespace}/${name}`) ?? this.workloadIndex().first(namespace, name, address);
  }

  /** Services whose selector picks this workload (its inbound side): its namespace's, and ServiceEntries anywhere. */
  servicesOf(w: Workload): MeshService[] {
    return this.serviceList.filter((s) => (s.origin === 'ServiceEntry' || s.namespace === w.namespace) && nonEmptySelectorMatches(s.selector, w.labels));
  }
}

/**
 * The live registry: the config-derived part is rebuilt on every store change, the runtime's workloads come and go;
 * each change makes a new snapshot (built on first use) and emits `change`.
 */
export class ServiceRegistry extends EventEmitter<{ change: [] }> {
  private configServices: MeshService[] = [];
  private configWorkloads: Workload[] = [];
  private readonly local = new Map<string, Workload>();
  private current: RegistrySnapshot | undefined;
  private resources: readonly Resource[] = [];
  private clusterIps: ClusterIpAllocator | undefined;
  private runtimeServices: MeshService[] = [];

  constructor(private readonly domain = DEFAULT_DOMAIN) {
    super();
  }

  /**
   * Where Services without a `clusterIP` get theirs (the API server's role): the local runtime in network-namespace mode
   * allocates them from its service CIDR. Services keep the addresses their manifests give; `None` stays headless.
   */
  setClusterIpAllocator(allocate: ClusterIpAllocator | undefined): void {
    this.clusterIps = allocate;
    this.setResources(this.resources);
  }

  /** Rebuild the config-derived part from the current resources (store change). */
  setResources(resources: readonly Resource[]): void {
    this.resources = resources;
    const services: MeshService[] = [];
    const workloads: Workload[] = [];
    const slices = endpointSlicesByService(resources);
    for (const r of resources) {
      if (r.group === '' && r.kind === 'Service') services.push(...fromKubernetesService(r as K8sService, this.domain, this.clusterIps, slices));
      else if (r.group === 'networking.istio.io' && r.kind === 'ServiceEntry') services.push(...fromServiceEntry(r as ServiceEntry));
      else if (r.group === '' && r.kind === 'Pod') {
        const w = fromPod(r as Pod);
        if (w) workloads.push(w);
      } else if (r.group === 'networking.istio.io' && r.kind === 'WorkloadEntry') workloads.push(fromWorkloadEntry(r as WorkloadEntry));
    }
    this.configServices = services;
    this.configWorkloads = workloads;
    this.changed();
  }

  /**
   * Services the runtime itself provides, as an Istio installation does (the egress gateway's `istio-egressgateway`
   * Service): listed after the config's, which win a hostname both have.
   */
  setRuntimeServices(services: readonly MeshService[]): void {
    this.runtimeServices = [...services];
    this.changed();
  }

  /** A local workload (the runtime's pod) appears or changes. */
  upsertWorkload(w: Omit<Workload, 'origin'> & { origin?: Workload['origin'] }): void {
    this.local.set(`${w.namespace}/${w.name}`, { origin: 'Local', ...w });
    this.changed();
  }

  removeWorkload(namespace: string, name: string): void {
    if (!this.local.delete(`${namespace}/${name}`)) return;
    this.changed();
  }

  private changed(): void {
    this.current = undefined;
    this.emit('change');
  }

  /** The registry as it is now; the same object until the next change. */
  snapshot(): RegistrySnapshot {
    return (this.current ??= new RegistrySnapshot([...this.configServices, ...this.runtimeServices], [...this.configWorkloads, ...this.local.values()], new Map(this.local)));
  }

  services(): readonly MeshService[] {
    return this.snapshot().services();
  }

  workloads(): readonly Workload[] {
    return this.snapshot().workloads();
  }
}

/**
 * Workloads indexed by label and by name/address, in registry order (endpoint lists keep that order). Rebuilt after
 * any change; without it every service's endpoints scanned every workload (services × workloads per push).
 */
class WorkloadIndex {
  private readonly byLabel = new Map<string, Workload[]>();
  private readonly byName = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly all: readonly Workload[]) {
    all.forEach((w, i) => {
      for (const [k, v] of Object.entries(w.labels)) {
        const key = `${k}=${v}`;
        const list = this.byLabel.get(key);
        if (list) list.push(w);
        else this.byLabel.set(key, [w]);
      }
      if (!this.byName.has(`${w.namespace}/${w.name}`)) this.byName.set(`${w.namespace}/${w.name}`, i);
      if (!this.byAddress.has(w.address)) this.byAddress.set(w.address, i);
    });
  }

  /** A superset of the workloads a selector picks (those carrying its rarest label), in registry order. */
  candidates(selector: Record<string, string>): readonly Workload[] {
    let best: readonly Workload[] = this.all;
    for (const [k, v] of Object.entries(selector)) {
      const list = this.byLabel.get(`${k}=${v}`) ?? [];
      if (list.length < best.length) best = list;
    }
    return best;
  }

  /** The first workload (in registry order) with this namespace and name, or else with this address. */
  first(namespace: string, name: string, address?: string): Workload | undefined {
    const i = Math.min(this.byName.get(`${namespace}/${name}`) ?? Infinity, address ? (this.byAddress.get(address) ?? Infinity) : Infinity);
    return i === Infinity ? undefined : this.all[i];
  }
}

function exportToOf(r: Pick<Resource, 'metadata'>, spec?: string[]): string[] {
  const annotation = r.metadata.annotations?.['networking.istio.io/exportTo'];
  const list = spec ?? (annotation ? annotation.split(',').map((s) => s.trim()) : undefined);
  return list && list.length ? list.map((e) => (e === '.' ? r.metadata.namespace : e)) : ['*'];
}

/** ClusterIPs (one per IP family, the primary first) for a Service without one. */
export type ClusterIpAllocator = (namespace: string, name: string) => string[];

/** EndpointSlices by `namespace/service` (their kubernetes.io/service-name label). */
function endpointSlicesByService(resources: readonly Resource[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const r of resources) {
    const service = r.group === 'discovery.k8s.io' && r.kind === 'EndpointSlice' ? r.metadata.labels?.[SERVICE_NAME_LABEL] : undefined;
    if (!service) continue;
    const key = `${r.metadata.namespace}/${service}`;
    out.set(key, [...(out.get(key) ?? []), r as EndpointSlice]);
  }
  return out;
}

/**
 * The endpoints of a Service without a selector, from its EndpointSlices (as Kubernetes and Istio read them: whoever
 * manages the slices decides the endpoints). A slice's port is matched to the Service port of the same name.
 */
function sliceEndpoints(slices: readonly EndpointSlice[], ports: readonly ServicePort[]): NonNullable<MeshService['staticEndpoints']> {
  const out: NonNullable<MeshService['staticEndpoints']> = [];
  for (const slice of slices) {
    const fields = slice.raw as EndpointSliceFields;
    if (fields.addressType === 'FQDN') continue;
    const slicePorts: Record<string, number> = {};
    for (const p of fields.ports ?? []) {
      // An unnamed slice port belongs to the Service's only port.
      const name = p.name || (ports.length === 1 ? ports[0]!.name : undefined);
      if (name !== undefined && typeof p.port === 'number') slicePorts[name] = p.port;
    }
    for (const e of fields.endpoints ?? []) {
      for (const address of e.addresses ?? []) out.push({ address, ports: slicePorts, labels: {}, healthy: e.conditions?.ready !== false });
    }
  }
  return out;
}

function fromKubernetesService(r: K8sService, domain: string, allocate?: ClusterIpAllocator, slices?: ReadonlyMap<string, readonly EndpointSlice[]>): MeshService[] {
  const spec = r.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const ports: ServicePort[] = (spec.ports ?? [])
    .filter((p) => (p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number')
    .map((p) => ({ name: p.name ?? String(p.port), port: p.port!, targetPort: p.targetPort ?? p.port!, protocol: portProtocol(p.name, p.appProtocol) }));
  // Without a selector, Kubernetes leaves the endpoints to whoever writes the Service's EndpointSlices.
  const ownSlices = spec.selector ? undefined : slices?.get(`${r.metadata.namespace}/${r.metadata.name}`);
  return [
    {
      hostname: serviceFqdn(r.metadata.name, r.metadata.namespace, domain),
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      ports,
      selector: spec.selector,
      addresses: spec.clusterIP === 'None' ? [] : allocate && !spec.clusterIP ? allocate(r.metadata.namespace, r.metadata.name) : spec.clusterIP ? [spec.clusterIP] : [],
      exportTo: exportToOf(r),
      origin: 'Kubernetes',
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
      ...(ownSlices ? { staticEndpoints: sliceEndpoints(ownSlices, ports) } : {}),
      resource: r,
    },
  ];
}

function fromServiceEntry(r: ServiceEntry): MeshService[] {
  const spec = r.spec ?? {};
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({ name: p.name ?? String(p.number), port: p.number ?? 0, targetPort: p.targetPort ?? p.number ?? 0, protocol: istioProtocol(p.protocol) }));
  const selector = spec.workloadSelector?.labels;
  const staticEndpoints = selector
    ? undefined
    : (spec.endpoints ?? []).map((e) => ({ address: e.address ?? '', ports: e.ports ?? {}, labels: e.labels ?? {}, locality: e.locality, weight: e.weight }));
  return (spec.hosts ?? []).map((host) => ({
    hostname: resolveHost(host, r.metadata.namespace),
    name: host,
    namespace: r.metadata.namespace,
    ports,
    selector,
    addresses: spec.addresses ?? [],
    exportTo: exportToOf(r, spec.exportTo),
    origin: 'ServiceEntry' as const,
    resolution: (spec.resolution ?? 'NONE') as MeshService['resolution'],
    location: (spec.location ?? 'MESH_EXTERNAL') as MeshService['location'],
    // DNS resolution without endpoints resolves the host itself.
    staticEndpoints: staticEndpoints && staticEndpoints.length === 0 && (spec.resolution === 'DNS' || spec.resolution === 'DNS_ROUND_ROBIN') ? [{ address: host, ports: {}, labels: {} }] : staticEndpoints,
    resource: r,
  }));
}

function containerPorts(containers: Array<{ ports?: Array<{ name?: string; containerPort?: number }> }> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of containers ?? []) for (const p of c.ports ?? []) if (p.name && p.containerPort) out[p.name] = p.containerPort;
  return out;
}

function fromPod(r: Pod): Workload | undefined {
  const ip = (r.raw.status as { podIP?: string } | undefined)?.podIP;
  if (!ip) return undefined; // a manifest without a status has no address until something runs it
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    labels: r.metadata.labels ?? {},
    serviceAccount: r.spec.serviceAccountName ?? 'default',
    address: ip,
    ports: containerPorts(r.spec.containers),
    healthy: true,
    meshed: r.metadata.annotations?.['sidecar.istio.io/inject'] !== 'false',
    origin: 'Pod',
  };
}

function fromWorkloadEntry(r: WorkloadEntry): Workload {
  const s = r.spec ?? {};
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    labels: s.labels ?? {},
    serviceAccount: s.serviceAccount ?? 'default',
    address: s.address ?? '',
    ports: s.ports ?? {},
    locality: s.locality,
    healthy: true,
    meshed: true,
    origin: 'WorkloadEntry',
  };
}

/** A Deployment's pod template labels and service account: what a pod of it will look like (for planning). */
export function deploymentTemplate(d: Deployment): { labels: Record<string, string>; serviceAccount: string } {
  return { labels: d.spec.template?.metadata?.labels ?? {}, serviceAccount: d.spec.template?.spec?.serviceAccountName ?? 'default' };
}
