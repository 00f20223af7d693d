// `trellis up`: a one-node "cluster" on this machine. A control plane per ServiceMeshControlPlane (or Istio's one)
// watches its part of DIR; every Deployment replica and Pod runs as local processes, behind a sidecar (a Trellis proxy
// over xDS) from its namespace's control plane when injection says so; each control plane runs its gateways.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlPlane } from '../controlplane/control-plane.js';
import { EGRESS_PORTS, meshTopologyOf, type GatewayPlanSpec } from '../config/mesh-topology.js';
import { DirectoryStore } from '../controlplane/store/directory-store.js';
import { ControlPlaneUnit, type GatewayRun } from './control-plane-unit.js';
import { loadImageMap, type ImageMap } from './image-map.js';
import { planPods, type PodPlan } from './plan.js';
import { DEFAULT_ADDRESS_BASE, gatewayAddress, GatewayAddresses } from './addresses.js';
import { GATEWAY_API_GROUP } from '../config/gateway-api.js';
import type { Resource } from '../config/resource.js';
import { ingressHostPorts, PORTS } from '../ports.js';
import { podProcess, Supervisor } from './supervisor.js';
import { GatewayApiDeployments } from './gateway-api-deployments.js';
import { PrometheusRunner } from '../telemetry/prometheus-runner.js';
import { freePort } from '../free-port.js';
import type { CertificateAuthority } from '../ca/ca.js';
import type { CfsslSignerOptions } from '../ca/cfssl-signer.js';
import { ConsoleServer } from '../console/server.js';
import { YamlMeshSource } from '../console/mesh/yaml-mesh-source.js';
import { controlPlaneConfigDump, synczProxies } from '../console/mesh/syncz.js';
import { controlPlaneGatewayStatus, mergeStatuses } from '../console/mesh/gateway-api-status.js';
import { podLogSource } from './pod-logs.js';
import { PrometheusMetricsSource } from '../console/metrics/prometheus.js';
import type { NetworkMode } from './network-mode.js';
import { bracket, NetnsNetwork, type ServiceTarget } from './netns/netns-network.js';
import type { IpFamily } from './netns/address-plan.js';
import type { MeshService, RegistrySnapshot } from '../controlplane/registry/service-registry.js';
import { AmbientNode } from './ambient/ambient-node.js';
import { WaypointDeployments } from './ambient/waypoint-deployments.js';
import { anyAmbientLabel } from '../config/ambient.js';
import { workloadUid } from '../controlplane/translate/names.js';

const BIN = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));

export interface LocalMeshOptions {
  dir: string;
  stateDir: string;
  /**
   * Host port of the ingress gateway's HTTP servers (a Gateway server on 80 or 8080; HTTPS on 443/8443 lands
   * INGRESS_HTTPS_OFFSET above it: ports.ts); 0 or undefined picks a free one.
   */
  ingressPort?: number;
  /** Where the ingress gateway's servers listen (default 127.0.0.1). */
  ingressAddress?: string;
  imageMapFile?: string;
  /** The control plane's plaintext xDS port (0 or undefined picks one; `trellis up` asks for Istio's 15010). */
  xdsPort?: number;
  /** The control plane's debug port (0 or undefined picks one; `trellis up` asks for Istio's 15014). */
  debugPort?: number;
  /** Istio's CA API over TLS (0 or undefined picks one; `trellis up` asks for Istio's 15012). */
  caPort?: number;
  /** Second octet of pod addresses (127.N.x.y; addresses.ts); the gateway is 127.N.255.1. */
  addressBase?: number;
  /** Port of the local Prometheus (0 picks one; undefined or -1: none). */
  prometheusPort?: number;
  /** Port of the console (the Kiali role; 0 picks one; undefined or -1: none). */
  consolePort?: number;
  /** Don't run Prometheus; write the scrape config and targets for one the user runs (Istio's "bring your own"). */
  externalPrometheus?: boolean;
  /** Scrape interval of the local Prometheus (default 5s). */
  scrapeInterval?: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** Sign workload certificates with an external CA (cfssl's remote API) instead of the built-in root. */
  externalCa?: CfsslSignerOptions;
  /** A plugged-in CA: a directory with Istio's `cacerts` files (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem). */
  cacertsDir?: string;
  /**
   * Pods in network namespaces with transparent capture (`netns`), or on loopback addresses behind HTTP_PROXY
   * (`loopback`, the default here; `trellis up` picks netns where it can: network-mode.ts).
   */
  network?: NetworkMode;
  /** IP families of the pod network in netns mode (Kubernetes' SingleStack IPv4 / IPv6, or DualStack). */
  ipFamily?: IpFamily;
  /**
   * Add Istio's egress gateway (`istio-egressgateway`, labels istio: egressgateway) to the primary control plane when
   * its topology has none (Istio's default profile has none; a ServiceMeshControlPlane enables one by default).
   */
  egressGateway?: boolean;
}

/** The ingress gateway as the runtime runs it: a pod of its own, so its ports are Istio's, known without asking it. */
export interface GatewayPlan {
  name: string;
  namespace: string;
  /** Its own loopback address: admin (15000) and merged stats (15020) listen here. */
  address: string;
  /** Where its Gateway servers listen: `ingressAddress`, on the host ports of ingressHostPorts(). */
  ingressAddress: string;
  ingressPort: number;
}

interface RunningPod {
  plan: PodPlan;
  processes: string[];
  /** Enrolled with the node proxy (ambient mode): its traffic goes through it. */
  ambient: boolean;
}

/** The Kubernetes node name of this machine, which ambient workloads carry and the node proxy serves. */
const NODE_NAME = hostname().split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '-') || 'local';

/** Which control plane (by namespace) a pod's sidecar belongs to; a change of it (or of `meshed`) restarts the pod. */
const meshKey = (p: PodPlan) => `${p.meshed}|${p.meshed ? (p.controlPlane ?? '') : ''}`;

export class LocalMesh {
  readonly supervisor: Supervisor;
  private readonly pods = new Map<string, RunningPod>();
  private readonly imageMap: ImageMap;
  private readonly log: (line: string) => void;
  private source!: DirectoryStore;
  /** One per control plane (mesh-topology.ts), in the topology's order; the first is the primary. */
  private readonly units = new Map<string, ControlPlaneUnit>();
  /** Workloads registered with each control plane: `namespace/pod` → the registration's mesh key. */
  private readonly registered = new Map<string, Map<string, string>>();
  /** Gateway addresses, stable for the run, one pool for the control planes' gateways and Kubernetes Gateways'. */
  private readonly gatewayAddresses: GatewayAddresses;
  /** The primary ingress gateway; its ingress port is known once start() resolved (0 asks for a free one). */
  readonly gateway: GatewayPlan;
  prometheus: PrometheusRunner | undefined;
  console: ConsoleServer | undefined;
  consoleUrl: string | undefined;
  /** Gateway proxies deployed for Kubernetes Gateways (Istio's automated deployment). */
  gatewayApi: GatewayApiDeployments | undefined;
  /** Ambient mode's waypoints (netns mode): one proxy pod per `istio-waypoint` Gateway. */
  waypoints: WaypointDeployments | undefined;
  externalScrapeConfig: { config: string; targets: (t: Array<{ address: string; labels: Record<string, string> }>) => void } | undefined;
  private stopped = false;
  private reconciling: Promise<void> = Promise.resolve();
  /** The pod network in netns mode (src/runtime/netns); undefined on loopback addresses. */
  net: NetnsNetwork | undefined;
  /** Each control plane's CA root where pods' sidecars (uid 1337) can read it: `namespace` → file. */
  private readonly podCaRoots = new Map<string, string>();
  /** Ambient mode's node proxy and CNI agent, started with the first pod enrolled (netns mode only). */
  ambient: AmbientNode | undefined;
  private startingAmbient: Promise<AmbientNode> | undefined;
  /** Containers waiting for their pod's enrolment (an ambient pod's app starts once its traffic is captured). */
  private readonly pending = new Set<Promise<void>>();

  private constructor(readonly options: LocalMeshOptions) {
    this.log = options.log ?? ((l) => process.stdout.write(l + '\n'));
    this.supervisor = new Supervisor(this.log);
    this.imageMap = loadImageMap(options.imageMapFile);
    this.gatewayAddresses = new GatewayAddresses(options.addressBase ?? DEFAULT_ADDRESS_BASE);
    this.gateway = {
      name: 'istio-ingressgateway-local',
      namespace: 'istio-system',
      address: gatewayAddress(options.addressBase ?? DEFAULT_ADDRESS_BASE),
      ingressAddress: options.ingressAddress ?? '127.0.0.1',
      ingressPort: options.ingressPort ?? 0,
    };
  }

  static async start(options: LocalMeshOptions): Promise<LocalMesh> {
    const mesh = new LocalMesh(options);
    try {
      await mesh.boot();
    } catch (err) {
      await mesh.stop();
      throw err;
    }
    return mesh;
  }

  /** The pods running now, as planned. */
  podPlans(): PodPlan[] {
    return [...this.pods.values()].map((p) => p.plan);
  }

  /** The console's Envoy tab: a proxy's config as its own control plane generates it (gateways: each unit's in turn). */
  private configDump(): (namespace: string, pod: string) => Promise<Record<string, unknown> | undefined> {
    return async (namespace, pod) => {
      const owner = this.pods.get(`${namespace}/${pod}`)?.plan.controlPlane;
      const units = owner !== undefined && this.units.has(owner) ? [this.units.get(owner)!] : this.controlPlanes();
      for (const u of units) {
        const dump = await controlPlaneConfigDump(`http://127.0.0.1:${u.debugPort}`)(namespace, pod);
        if (dump) return dump;
      }
      return undefined;
    };
  }

  /** Every control plane of the run, the primary first. */
  controlPlanes(): ControlPlaneUnit[] {
    return [...this.units.values()];
  }

  private get primary(): ControlPlaneUnit {
    const first = this.units.values().next().value;
    if (!first) throw new Error('no control plane is running');
    return first;
  }

  /** The primary control plane (the first ServiceMeshControlPlane, or Istio's). */
  get controlPlane(): ControlPlane {
    return this.primary.cp;
  }

  get xdsPort(): number {
    return this.primary.xdsPort;
  }

  get debugPort(): number {
    return this.primary.debugPort;
  }

  get ca(): CertificateAuthority | undefined {
    return this.primary.ca;
  }

  get ingressUrl(): string {
    return `http://${this.gateway.ingressAddress}:${this.gateway.ingressPort}`;
  }

  /** The gateway's admin API, at Istio's port on its own address. */
  get gatewayAdmin(): string {
    return `${this.gateway.address}:${PORTS.proxyAdmin}`;
  }

  /** The gateway's merged stats (what Prometheus scrapes), at Istio's port on its own address. */
  get gatewayStats(): string {
    return `${this.gateway.address}:${PORTS.mergedStats}`;
  }

  private async boot(): Promise<void> {
    mkdirSync(this.options.stateDir, { recursive: true });
    if (!this.gateway.ingressPort) this.gateway.ingressPort = await freePort(this.gateway.ingressAddress);
    this.source = await DirectoryStore.open(this.options.dir, { log: (l) => this.log(`[controlplane] ${l}`) });
    if (this.options.network === 'netns') {
      this.net = NetnsNetwork.start({ family: this.options.ipFamily ?? 'ipv4', log: this.log });
      this.log(`[runtime] pod network: ${this.net.describe()}`);
    } else {
      this.log('[runtime] pod network: loopback addresses, apps reach services through HTTP_PROXY');
    }
    // Validate the whole plan before starting anything: an unknown image is an error with its file:line.
    const plan = this.planPods();
    await this.syncControlPlanes();
    const primary = this.primary;
    // The cluster DNS answers every Service of the config with the ClusterIPs the run gave it (kube-dns's role).
    await this.net?.startDns((name) => this.clusterIpsOf(name));
    const jobs = () => this.controlPlanes().map((u) => ({ job: `trellis-controlplane-${u.namespace}`, target: `127.0.0.1:${u.debugPort}`, path: '/metrics' }));
    if (this.options.prometheusPort !== undefined && this.options.prometheusPort >= 0 && primary.plane.settings.prometheus) {
      try {
        this.prometheus = await PrometheusRunner.start({
          stateDir: this.options.stateDir,
          port: this.options.prometheusPort || (await freePort()),
          scrapeInterval: this.options.scrapeInterval,
          staticJobs: jobs(),
          log: (l) => this.log(`[prometheus] ${l}`),
        });
      } catch (err) {
        // The mesh runs without it; metrics stay on every proxy's stats port.
        this.log(`[runtime] ${(err as Error).message}; continuing without Prometheus`);
      }
    }
    if (this.options.externalPrometheus) {
      this.externalScrapeConfig = PrometheusRunner.writeExternal({ stateDir: this.options.stateDir, scrapeInterval: this.options.scrapeInterval, staticJobs: jobs() });
    }
    if (this.options.consolePort !== undefined && this.options.consolePort >= 0 && primary.plane.settings.console) {
      // The console reads the same directory (and writes to it), every control plane's syncz and Gateway API status,
      // and the Prometheus above.
      const proxies = async () => (await Promise.all(this.controlPlanes().map((u) => synczProxies(`http://127.0.0.1:${u.debugPort}`)()))).flat();
      const gatewayStatus = async () => mergeStatuses(await Promise.all(this.controlPlanes().map((u) => controlPlaneGatewayStatus(`http://127.0.0.1:${u.debugPort}`)())));
      this.console = new ConsoleServer({
        mesh: new YamlMeshSource({ configDir: this.options.dir, proxies, gatewayStatus, configDump: this.configDump(), logs: podLogSource(this), caRootCertFile: primary.caRootFile }),
        ...(this.prometheus ? { metrics: new PrometheusMetricsSource(this.prometheus.url) } : {}),
        host: '127.0.0.1',
        port: this.options.consolePort,
        log: (l) => this.log(`[console] ${l}`),
      });
      this.consoleUrl = `http://127.0.0.1:${await this.console.listen()}/`;
    }
    for (const unit of this.controlPlanes()) this.startGateways(unit);
    this.gatewayApi = new GatewayApiDeployments({
      supervisor: this.supervisor,
      // A Gateway's proxy belongs to the control plane of its namespace; every control plane that watches the
      // namespace knows it as a (plaintext) workload, as it knows pods.
      proxyCommand: (d) => this.gatewayApiProxy(d),
      upsertWorkload: (w) => this.watchersOf(w.namespace).forEach((u) => u.cp.registry.upsertWorkload(w)),
      removeWorkload: (ns, name) => this.watchersOf(ns).forEach((u) => u.cp.registry.removeWorkload(ns, name)),
      addresses: this.gatewayAddresses,
      log: this.log,
    });
    await this.gatewayApi.reconcile(this.gatewayApiResources());
    if (this.net) {
      const net = this.net;
      this.waypoints = new WaypointDeployments({
        net,
        supervisor: this.supervisor,
        proxy: (namespace, serviceAccount) => {
          const unit = this.unitFor(namespace) ?? this.primary;
          return { args: this.proxyArgs(unit, true), token: unit.token(namespace, serviceAccount) };
        },
        bin: BIN,
        nodeName: NODE_NAME,
        upsertWorkload: (w) => this.watchersOf(w.namespace).forEach((u) => u.cp.registry.upsertWorkload(w)),
        removeWorkload: (ns, name) => this.watchersOf(ns).forEach((u) => u.cp.registry.removeWorkload(ns, name)),
        log: this.log,
      });
      await this.waypoints.reconcile(this.source.list());
    }
    for (const pod of plan) this.startPod(pod);
    this.syncWorkloads();
    this.enrolPending();
    this.updateTargets();
    this.source.on('change', () => {
      this.reconciling = this.reconciling.then(() => this.reconcile()).catch((err) => this.log(`[runtime] ${(err as Error).message}`));
    });
    this.writeState();
  }

  /**
   * One unit per control plane of the config, as the operator deploys one per ServiceMeshControlPlane: new control
   * planes start, removed ones stop with their gateways. The primary takes the ports `trellis up` was given.
   */
  private async syncControlPlanes(): Promise<void> {
    const topology = meshTopologyOf(this.source.list());
    const wanted = new Set(topology.controlPlanes.map((p) => p.namespace));
    for (const [ns, unit] of this.units) {
      if (wanted.has(ns)) continue;
      this.log(`[runtime] control plane ${ns}/${unit.name} removed: stopping it and its gateways`);
      await Promise.all(unit.gateways.map((g) => this.supervisor.stop(gatewayProcess(g), 3000)));
      for (const g of unit.gateways) this.net?.removePod(gatewayKey(g));
      this.units.delete(ns);
      this.registered.delete(ns);
      await unit.stop();
    }
    for (const plane of topology.controlPlanes) {
      if (this.units.has(plane.namespace)) continue;
      const primary = this.units.size === 0;
      const unit = await ControlPlaneUnit.start({
        plane,
        source: this.source,
        // The primary keeps the state directory's own `ca/` (as before several control planes); others get theirs.
        stateDir: primary ? this.options.stateDir : join(this.options.stateDir, `controlplane-${plane.namespace}`),
        ports: primary ? { xds: this.options.xdsPort ?? 0, debug: this.options.debugPort ?? 0, ca: this.options.caPort ?? 0 } : { xds: 0, debug: 0, ca: 0 },
        controlPlanes: () => this.controlPlanes().map((u) => u.ref()),
        components: () => this.components(plane.namespace),
        ...(primary ? { cacertsDir: this.options.cacertsDir, externalCa: this.options.externalCa } : {}),
        // Pods in namespaces reach the control plane and its CA at the host's addresses on their bridge.
        ...(this.net ? { alsoListen: this.net.hostAddresses, clusterIps: (ns: string, name: string) => this.net!.clusterIps(ns, name) } : {}),
        log: (l) => this.log(`[controlplane${primary ? '' : ` ${plane.namespace}`}] ${l}`),
      });
      if (this.net) {
        // The sidecars (uid 1337) cannot enter the state directory: they read the root from the run's public folder.
        const podRoot = join(this.net.publicDir(), `root-cert-${plane.namespace}.pem`);
        copyFileSync(unit.caRootFile, podRoot);
        this.podCaRoots.set(plane.namespace, podRoot);
      }
      this.units.set(plane.namespace, unit);
      this.registered.set(plane.namespace, new Map());
      unit.setGateways(this.gatewayRuns(unit, primary));
      if (this.prometheus) this.log(`[runtime] control plane ${plane.namespace}/${plane.name} started (its metrics are on its debug port ${unit.debugPort})`);
    }
  }

  /** The gateways a control plane runs, each on a loopback address of its own; the primary's ingress on the host port. */
  private gatewayRuns(unit: ControlPlaneUnit, primary: boolean): GatewayRun[] {
    const specs: GatewayPlanSpec[] = [...unit.plane.settings.gateways];
    if (primary && this.options.egressGateway && !specs.some((g) => g.kind === 'egress')) specs.push({ name: 'istio-egressgateway', kind: 'egress', istioLabel: 'egressgateway', ports: EGRESS_PORTS });
    return specs.map((spec, i) => {
      const hostIngress = primary && i === specs.findIndex((g) => g.kind === 'ingress');
      const k = this.gatewayAddresses.numberOf(`${unit.namespace}/${spec.name}`, hostIngress);
      const pod = hostIngress ? this.gateway.name : primary ? `${spec.name}-local` : `${spec.name}-${unit.namespace}-local`;
      // In netns mode a gateway the mesh reaches is a pod on the bridge (pods cannot reach the host's 127.x); the
      // ingress on the host's port stays on the host.
      const address = this.net && !hostIngress ? this.gatewayPod(unit.namespace, pod, k) : gatewayAddress(this.options.addressBase ?? DEFAULT_ADDRESS_BASE, k);
      if (hostIngress) Object.assign(this.gateway, { namespace: unit.namespace, address });
      return {
        spec,
        pod,
        namespace: unit.namespace,
        address,
        // The host's ingress address and port for the primary ingress (a port-forwarded Istio gateway); the others
        // listen on their own address at their Service's target ports, as a gateway pod does.
        listen: hostIngress ? this.gateway.ingressAddress : address,
        portMap: hostIngress ? ingressHostPorts(this.gateway.ingressPort) : Object.fromEntries(spec.ports.flatMap((p) => [[String(p.port), p.targetPort], [String(p.targetPort), p.targetPort]])),
        labels: { istio: spec.istioLabel, app: spec.name },
        serviceAccount: `${spec.name}-service-account`,
      };
    });
  }

  /** A gateway's own network namespace (no capture rules: it is the proxy), its pod address. */
  private gatewayPod(namespace: string, pod: string, k: number): string {
    const key = `${namespace}/${pod}`;
    const existing = this.net!.namespaceOf(key);
    if (existing) return this.gatewayPodAddresses.get(key)!;
    const pn = this.net!.addPod({ key, number: GATEWAY_PODS_FROM - k, name: pod, namespace, annotations: {}, rules: 'none', dnsCapture: false });
    this.gatewayPodAddresses.set(key, pn.addresses[0]!);
    return pn.addresses[0]!;
  }

  /** Gateways' addresses on the pod network (netns mode), by `namespace/pod`. */
  private readonly gatewayPodAddresses = new Map<string, string>();

  /** The readiness of a control plane's components, for its ServiceMeshControlPlane's status. */
  private components(namespace: string): Array<{ name: string; ready: boolean }> {
    const unit = this.units.get(namespace);
    if (!unit) return [];
    const running = new Set(this.supervisor.status().filter((s) => s.running).map((s) => s.name));
    const synced = new Set(unit.cp.ads.proxies().filter((p) => p.types.length >= 2 && p.types.every((t) => t.state === 'SYNCED')).map((p) => p.identity.podName));
    return [
      { name: 'istiod', ready: true },
      ...unit.gateways.map((g) => ({ name: g.spec.name, ready: running.has(gatewayProcess(g)) && synced.has(g.pod) })),
      ...(unit === this.primary && this.prometheus ? [{ name: 'prometheus', ready: true }] : []),
      ...(unit === this.primary && this.console ? [{ name: 'console', ready: true }] : []),
    ];
  }

  /** The control planes that see a namespace (and so know its workloads as endpoints). */
  private watchersOf(namespace: string): ControlPlaneUnit[] {
    return this.controlPlanes().filter((u) => u.store.watches(namespace));
  }

  /** The control plane a namespace's gateways belong to: its owner's, else the first that watches it. */
  private unitFor(namespace: string): ControlPlaneUnit | undefined {
    const owner = meshTopologyOf(this.source.list()).ownerOf(namespace);
    return (owner && this.units.get(owner.namespace)) || this.watchersOf(namespace)[0];
  }

  /**
   * What the Gateway API deployments follow: every object but the Gateways of namespaces whose control plane has no
   * Gateway API (an OpenShift Service Mesh control plane without `techPreview.gatewayAPI.enabled`) or none at all.
   */
  private gatewayApiResources(): Resource[] {
    return this.source.list().filter((r) => !(r.group === GATEWAY_API_GROUP && r.kind === 'Gateway') || this.unitFor(r.metadata.namespace)?.plane.settings.gatewayAPI === true);
  }

  /** `trellis proxy` for a Kubernetes Gateway's deployment, against the control plane of its namespace. */
  private gatewayApiProxy(d: { pod: string; namespace: string; ip: string; labels: Record<string, string>; serviceAccount: string; workloadName: string }): { command: string; args: string[]; env: Record<string, string> } {
    const unit = this.unitFor(d.namespace) ?? this.primary;
    const labels = Object.entries(d.labels).map(([k, v]) => `${k}=${v}`).join(',');
    const args = [
      BIN, 'proxy', ...unit.proxyArgs(), '--role', 'gateway', '--pod', d.pod, '--namespace', d.namespace, '--ip', d.ip, '--labels', labels, '--service-account', d.serviceAccount,
      '--admin-address', d.ip, '--admin-port', String(PORTS.proxyAdmin), '--stats-address', d.ip, '--stats-port', String(PORTS.mergedStats), '--drain-time-s', '1',
      '--metadata', JSON.stringify({ WORKLOAD_NAME: d.workloadName }),
    ];
    // It serves from the host (as the ingress does); in netns mode it dies with the runtime like every pod process.
    const run = this.net ? this.net.hostCommand(process.execPath, args) : { command: process.execPath, args };
    return { ...run, env: { TRELLIS_CA_TOKEN: unit.token(d.namespace, d.serviceAccount) } };
  }

  /** Pods follow the manifests: new ones start, removed or changed ones stop (a changed template is a new pod name). */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    let plan: PodPlan[];
    try {
      plan = this.planPods();
    } catch (err) {
      this.log(`[runtime] ${(err as Error).message}; running pods are left as they are`);
      return;
    }
    try {
      const before = new Set(this.units.keys());
      await this.syncControlPlanes();
      for (const unit of this.controlPlanes()) if (!before.has(unit.namespace)) this.startGateways(unit);
    } catch (err) {
      this.log(`[runtime] ${(err as Error).message}; control planes are left as they are`);
    }
    const wanted = new Map(plan.map((p) => [`${p.namespace}/${p.name}`, p]));
    for (const [key, running] of this.pods) {
      const next = wanted.get(key);
      // Joining or leaving a mesh is a restart, as injection happens when a pod is created.
      if (!next || next.podIP !== running.plan.podIP || meshKey(next) !== meshKey(running.plan) || (next.meshed && !this.units.has(next.controlPlane ?? ''))) await this.stopPod(key);
      // Joining or leaving ambient mode is not: the node proxy takes the running pod, or lets it go.
      else if (this.ambientWanted(next) !== running.ambient) {
        running.plan = next;
        if (running.ambient) {
          running.ambient = false;
          await this.ambient?.unenroll(this.ambientPod(next));
        } else running.ambient = true;
      } else running.plan = next;
    }
    for (const [key, p] of wanted) if (!this.pods.has(key)) this.startPod(p);
    this.syncWorkloads();
    this.enrolPending();
    await this.gatewayApi?.reconcile(this.gatewayApiResources());
    await this.waypoints?.reconcile(this.source.list());
    this.updateTargets();
    this.writeState();
  }

  private planPods(): PodPlan[] {
    const net = this.net;
    return planPods(this.source.list(), { imageMap: this.imageMap, addressBase: this.options.addressBase, ...(net ? { addressing: (n: number) => net.addressing(n) } : {}) });
  }

  /** A Service's ClusterIPs by its DNS name (`<service>.<namespace>.svc.<domain>`), for the cluster DNS; none: NXDOMAIN. */
  private clusterIpsOf(name: string): string[] | undefined {
    for (const unit of this.controlPlanes()) {
      const svc = unit.cp.registry.snapshot().service(name);
      if (svc?.origin === 'Kubernetes') return svc.addresses;
    }
    return undefined;
  }

  /**
   * Every control plane knows the workloads of the namespaces it watches (their Services' endpoints), meshed only
   * where they are its own sidecars: a member pod of another mesh, or one outside any, is a plaintext endpoint.
   */
  private syncWorkloads(): void {
    // With ambient mode in the mesh, captured sidecars also take HBONE on 15008 (Istio's sidecars beside ambient pods).
    const ambientMesh = anyAmbientLabel([...this.source.list().filter((r) => r.group === '' && r.kind === 'Namespace').map((r) => r.metadata.labels), ...[...this.pods.values()].map((p) => p.plan.labels)]);
    for (const unit of this.controlPlanes()) {
      const registered = this.registered.get(unit.namespace)!;
      const wanted = new Map<string, PodPlan>();
      for (const { plan } of this.pods.values()) if (unit.store.watches(plan.namespace)) wanted.set(`${plan.namespace}/${plan.name}`, plan);
      for (const key of [...registered.keys()]) {
        if (wanted.has(key)) continue;
        const [namespace, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
        unit.cp.registry.removeWorkload(namespace, name);
        registered.delete(key);
      }
      for (const [key, pod] of wanted) {
        const meshed = pod.meshed && pod.controlPlane === unit.namespace;
        const ambient = !!this.pods.get(key)?.ambient;
        const hbone = meshed && pod.captured && ambientMesh;
        const mk = `${meshed}|${ambient}|${hbone}|${pod.podIP}`;
        if (registered.get(key) === mk) continue;
        registered.set(key, mk);
        unit.cp.registry.upsertWorkload({
          name: pod.name,
          namespace: pod.namespace,
          labels: pod.labels,
          serviceAccount: pod.serviceAccount,
          address: pod.podIP,
          ...(pod.podIPs.length > 1 ? { addresses: pod.podIPs } : {}),
          ports: Object.fromEntries(pod.ports.filter((p) => p.name).map((p) => [p.name!, p.containerPort])),
          appAddress: pod.appAddress,
          healthy: true,
          meshed,
          ...(ambient ? { ambient } : {}),
          ...(hbone ? { hbone } : {}),
          ...(pod.captured ? { node: NODE_NAME } : {}),
          workloadName: pod.owner ?? pod.name,
        });
      }
    }
  }

  /** Prometheus scrapes every sidecar's merged stats port, every gateway's and waypoint's and the node proxy's, as Kubernetes pod discovery would. */
  private updateTargets(): void {
    if (this.net) this.net.updateServices(serviceTargets(this.controlPlanes().map((u) => u.cp.registry.snapshot())));
    const sink = this.prometheus ? (t: Parameters<PrometheusRunner['setTargets']>[0]) => this.prometheus!.setTargets(t) : this.externalScrapeConfig?.targets;
    if (!sink) return;
    const targets = [...this.pods.values()]
      .filter((p) => p.plan.meshed)
      .map((p) => ({ address: `${bracket(p.plan.podIP)}:${PORTS.mergedStats}`, labels: { namespace: p.plan.namespace, pod: p.plan.name, ...(p.plan.labels.app ? { app: p.plan.labels.app } : {}) } }));
    for (const unit of this.controlPlanes()) for (const g of unit.gateways) targets.push({ address: `${bracket(g.address)}:${PORTS.mergedStats}`, labels: { namespace: g.namespace, pod: g.pod, app: g.spec.name } });
    for (const d of this.gatewayApi?.deployments() ?? []) targets.push({ address: `${bracket(d.address)}:${PORTS.mergedStats}`, labels: { namespace: d.namespace, pod: d.pod, app: `${d.gateway}-${d.className}` } });
    if (this.ambient) targets.push({ address: `${bracket(this.ambient.address)}:${PORTS.mergedStats}`, labels: { namespace: this.ambient.namespace, pod: this.ambient.pod, app: 'ztunnel' } });
    for (const d of this.waypoints?.deployments() ?? []) targets.push({ address: `${bracket(d.address)}:${PORTS.mergedStats}`, labels: { namespace: d.namespace, pod: d.pod, app: d.gateway } });
    sink(targets);
  }

  private startGateways(unit: ControlPlaneUnit): void {
    for (const g of unit.gateways) {
      // In netns mode: a gateway the mesh reaches runs in its own namespace; the host's ingress runs on the host; both
      // die with the runtime.
      const inPod = !!this.net?.namespaceOf(gatewayKey(g));
      const run = (args: string[]) => (inPod ? this.net!.command(gatewayKey(g), process.execPath, args, 'sidecar') : this.net ? this.net.hostCommand(process.execPath, args) : { command: process.execPath, args });
      this.supervisor.start({
        name: gatewayProcess(g),
        ...run([
          // --ip is where its Gateway servers bind; its own ports (admin, stats) are on its own address.
          BIN, 'proxy', ...this.proxyArgs(unit, inPod), '--role', 'gateway', '--pod', g.pod, '--namespace', g.namespace, '--ip', g.listen,
          '--labels', Object.entries(g.labels).map(([k, v]) => `${k}=${v}`).join(','), '--service-account', g.serviceAccount,
          '--admin-address', g.address, '--admin-port', String(PORTS.proxyAdmin), '--drain-time-s', '1',
          '--stats-address', g.address, '--stats-port', String(PORTS.mergedStats),
          '--metadata', JSON.stringify({ WORKLOAD_NAME: g.spec.name, GATEWAY_PORTS: g.portMap }),
        ]),
        env: { TRELLIS_CA_TOKEN: unit.token(g.namespace, g.serviceAccount) },
      });
    }
  }

  private startPod(pod: PodPlan): void {
    const key = `${pod.namespace}/${pod.name}`;
    const processes: string[] = [];
    const unit = pod.meshed ? this.units.get(pod.controlPlane ?? '') : undefined;
    // In netns mode the pod gets its namespace (addresses, files, capture rules) before any of its processes start.
    const net = pod.captured ? this.net : undefined;
    net?.addPod({ key, number: pod.number, name: pod.name, namespace: pod.namespace, annotations: pod.annotations, rules: unit ? 'capture' : 'dnat', dnsCapture: !!unit && pod.proxyMetadata.DNS_CAPTURE === 'true' });
    const inPod = (command: string, args: string[], as: 'app' | 'sidecar') => (net ? net.command(key, command, args, as) : { command, args });
    if (unit) {
      const name = podProcess(pod.namespace, pod.name, 'istio-proxy');
      // Captured pods: Istio's INTERCEPTION_MODE REDIRECT (virtualOutbound/virtualInbound) and every pod address.
      const capture = net ? { INTERCEPTION_MODE: 'REDIRECT', INSTANCE_IPS: pod.podIPs.join(',') } : {};
      this.supervisor.start({
        name,
        ...inPod(process.execPath, [
          BIN, 'proxy', ...this.proxyArgs(unit, !!net), '--role', 'sidecar', '--pod', pod.name, '--namespace', pod.namespace, '--ip', pod.podIP,
          '--labels', Object.entries(pod.labels).map(([k, v]) => `${k}=${v}`).join(','), '--service-account', pod.serviceAccount,
          '--admin-address', pod.podIP, '--admin-port', String(PORTS.proxyAdmin), '--drain-time-s', '1', '--log-level', 'warning',
          '--stats-port', String(PORTS.mergedStats), '--metadata', JSON.stringify({ ...proxyMetadataFor(pod, !!net), WORKLOAD_NAME: pod.owner ?? pod.name, ...capture }),
          ...appMetrics(pod),
          ...(pod.concurrency !== undefined ? ['--concurrency', String(pod.concurrency)] : []),
          ...(pod.xdsMode ? ['--xds-mode', pod.xdsMode] : []),
        ], 'sidecar'),
        // The token proves the pod's namespace and service account to the CA; an env var keeps it out of `ps`.
        env: { TRELLIS_CA_TOKEN: unit.token(pod.namespace, pod.serviceAccount) },
      });
      processes.push(name);
    }
    const containers = pod.containers.map((c) => ({ name: podProcess(pod.namespace, pod.name, c.name), ...inPod(c.command, c.args, 'app'), env: c.env }));
    processes.push(...containers.map((c) => c.name));
    const ambient = this.ambientWanted(pod);
    this.pods.set(key, { plan: pod, processes, ambient });
    // An ambient pod's app starts once the node proxy serves it, as Istio's CNI plugin holds the pod until then.
    if (!ambient) for (const c of containers) this.supervisor.start(c);
    else {
      const started = this.enrol(pod)
        .catch((err: Error) => this.log(`[runtime] ${pod.name}.${pod.namespace}: ${err.message}; its containers start without ambient capture`))
        .then(() => {
          if (this.pods.get(key)?.processes === processes) for (const c of containers) this.supervisor.start(c);
        })
        .finally(() => this.pending.delete(started));
      this.pending.add(started);
    }
  }

  /**
   * Whether a pod is served by the node proxy: enrolled (ambient.ts's rule), in a namespace of its own, and in the
   * primary control plane's mesh, whose node proxy this is.
   */
  private ambientWanted(pod: PodPlan): boolean {
    if (!pod.ambient || !this.net) return false;
    if (pod.controlPlane !== this.primary.namespace) {
      this.log(`[runtime] ${pod.name}.${pod.namespace}: ambient mode is served by the primary control plane's node proxy (${this.primary.namespace}); it stays out of it`);
      return false;
    }
    return true;
  }

  private ambientPod(pod: PodPlan): { key: string; uid: string; name: string; namespace: string; serviceAccount: string } {
    return { key: `${pod.namespace}/${pod.name}`, uid: workloadUid({ origin: 'Local', namespace: pod.namespace, name: pod.name }), name: pod.name, namespace: pod.namespace, serviceAccount: pod.serviceAccount };
  }

  /** The node proxy, started on first use. */
  private ambientNode(): Promise<AmbientNode> {
    if (this.ambient) return Promise.resolve(this.ambient);
    const unit = this.primary;
    this.startingAmbient ??= AmbientNode.start({ net: this.net!, supervisor: this.supervisor, unit, proxyArgs: this.proxyArgs(unit, true), nodeName: NODE_NAME, bin: BIN, log: this.log }).then((node) => {
      this.ambient = node;
      this.updateTargets();
      return node;
    });
    return this.startingAmbient;
  }

  private async enrol(pod: PodPlan): Promise<void> {
    const node = await this.ambientNode();
    await node.enroll(this.ambientPod(pod));
  }

  /** Running pods that joined ambient mode and are not enrolled yet (a namespace label added live). */
  private enrolPending(): void {
    for (const running of this.pods.values()) {
      if (!running.ambient) continue;
      const p = this.enrol(running.plan).catch((err: Error) => this.log(`[runtime] ${running.plan.name}.${running.plan.namespace}: ${err.message}`)).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  private async stopPod(key: string): Promise<void> {
    const running = this.pods.get(key);
    if (!running) return;
    this.pods.delete(key);
    for (const unit of this.controlPlanes()) {
      if (!this.registered.get(unit.namespace)?.delete(key)) continue;
      unit.cp.registry.removeWorkload(running.plan.namespace, running.plan.name);
    }
    await Promise.all(running.processes.map((p) => this.supervisor.stop(p, 3000)));
    if (running.ambient) await this.ambient?.unenroll(this.ambientPod(running.plan), true);
    this.net?.removePod(key);
  }

  /** Where a proxy of `unit` finds its xDS and CA: on the host, or (`inPod`) from inside a pod's namespace. */
  private proxyArgs(unit: ControlPlaneUnit, inPod: boolean): string[] {
    const net = this.net;
    return inPod && net ? unit.proxyArgs({ target: (port) => net.hostTarget(port), caRootFile: this.podCaRoots.get(unit.namespace)! }) : unit.proxyArgs();
  }

  /** The egress gateway's pod address, when the primary control plane runs one. */
  get egressGatewayAddress(): string | undefined {
    return this.primary.gateways.find((g) => g.spec.kind === 'egress')?.address;
  }

  /** Wait until every sidecar and gateway ACKed its config and every app, sidecar and gateway accepts connections. */
  async waitReady(timeoutMs = this.options.readyTimeoutMs ?? 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Apps in namespaces are probed from inside their pod (their loopback is not the host's), each probe once.
    const inside = this.net ? [...this.pods.entries()].map(([key, p]) => this.net!.portsOpen(key, p.plan.ports.map((x) => x.containerPort), timeoutMs)) : [];
    let podsUp = 0;
    for (const probe of inside) void probe.then((up) => (podsUp += up ? 1 : 0));
    for (;;) {
      const gatewayApi = this.gatewayApi?.deployments() ?? [];
      const synced = this.controlPlanes().every((unit) => {
        const sidecars = [...this.pods.values()].filter((p) => p.plan.meshed && p.plan.controlPlane === unit.namespace).length;
        const expected = sidecars + unit.gateways.length + gatewayApi.filter((d) => this.unitFor(d.namespace) === unit).length;
        const proxies = unit.cp.ads.proxies();
        return proxies.length >= expected && proxies.every((p) => p.types.length >= 2 && p.types.every((t) => t.state === 'SYNCED'));
      });
      const apps = this.net ? inside.map((_, i) => i < podsUp) : await Promise.all([...this.pods.values()].flatMap((p) => p.plan.ports.map((port) => canConnect(p.plan.appAddress, port.containerPort))));
      const sidecars = await Promise.all([...this.pods.values()].filter((p) => p.plan.meshed).flatMap((p) => this.sidecarPorts(p.plan).map((port) => canConnect(p.plan.podIP, port))));
      const waypoints = this.waypoints?.deployments() ?? [];
      const gateways = await Promise.all([...this.controlPlanes().flatMap((u) => u.gateways.map((g) => g.address)), ...gatewayApi.map((d) => d.address), ...waypoints.map((d) => d.address)].map((a) => canConnect(a, PORTS.proxyAdmin)));
      // Ambient pods: enrolled with the node proxy, which has their certificates and listens in them.
      const ambient = this.pending.size === 0 && (!this.ambient || (await this.ambient.settled()));
      if (synced && apps.every(Boolean) && sidecars.every(Boolean) && gateways.every(Boolean) && ambient) return;
      if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs / 1000}s (proxies synced: ${synced}, apps up: ${apps.filter(Boolean).length}/${apps.length}, sidecars up: ${sidecars.filter(Boolean).length}/${sidecars.length}, gateways up: ${gateways.filter(Boolean).length}/${gateways.length}, ambient pods enrolled: ${ambient})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * The ports a pod's sidecar accepts on: every container port when its traffic is captured (Istio's virtualInbound
   * passes through the rest), else those a Service sends to (loopback mode has a listener per served port only).
   */
  private sidecarPorts(pod: PodPlan): number[] {
    const declared = pod.ports.map((p) => p.containerPort);
    if (pod.captured) return declared;
    const reg = this.units.get(pod.controlPlane ?? '')?.cp.registry.snapshot();
    if (!reg) return [];
    const served = new Set<number>();
    for (const svc of reg.services()) for (const port of svc.ports) for (const e of reg.endpoints(svc, port)) if (e.address === pod.podIP) served.add(e.port);
    return declared.filter((p) => served.has(p));
  }

  /** The `ready` summary: control planes, ingress, services, pods and their admin ports. */
  summary(): string {
    const lines = [`ready: ${this.pods.size} pods, ingress ${this.ingressUrl}`];
    lines.push(`  network     ${this.net ? this.net.describe() : 'loopback addresses (127.x), apps reach services through HTTP_PROXY'}`);
    const paths = new Set<string>();
    for (const b of this.controlPlane.pushContext.virtualServices) {
      if (b.gateways.every((g) => g === 'mesh')) continue;
      for (const rule of b.vs.spec.http ?? []) for (const m of rule.match ?? []) if (m.uri?.exact) paths.add(m.uri.exact);
    }
    if (paths.size) lines.push(`  ingress     ${[...paths].slice(0, 3).map((p) => this.ingressUrl + p).join('  ')}`);
    const several = this.units.size > 1;
    for (const unit of this.controlPlanes()) {
      const members = [...unit.plane.members].filter((m) => m !== unit.namespace).sort();
      const ca = unit.status();
      lines.push(`  controlplane ${unit.namespace}/${unit.name} (${unit.plane.mode}${unit.plane.smcp ? '' : ', Istio'})  xDS 127.0.0.1:${unit.xdsPort}  debug http://127.0.0.1:${unit.debugPort}/debug/syncz${unit.plane.smcp ? `  members: ${members.join(', ') || '(none)'}` : ''}`);
      if (ca.rootSubject) lines.push(`  ca          ${ca.rootSubject}, root valid until ${ca.rootNotAfter!.slice(0, 10)}${ca.source === 'external' ? ' (external CA)' : ''} (mutual TLS between sidecars), CA API ${unit.caAddress}${several ? ` (${unit.namespace})` : ''}`);
      else lines.push(`  ca          ${ca.source} at ${unit.caAddress}${several ? ` (${unit.namespace})` : ''}`);
      for (const g of unit.gateways) lines.push(`  gateway     ${g.pod}.${g.namespace}  ${g.address}  admin http://${bracket(g.address)}:${PORTS.proxyAdmin}  serving ${g.listen === g.address ? `${g.address}:${Object.values(g.portMap).sort((a, b) => a - b)[0]}` : this.ingressUrl}`);
    }
    for (const svc of this.controlPlane.registry.services()) {
      if (svc.origin !== 'Kubernetes') continue;
      lines.push(`  service     ${svc.name}.${svc.namespace}  ${svc.ports.map((p) => `${p.name}:${p.port}`).join(' ')}`);
    }
    for (const p of [...this.pods.values()].sort((a, b) => a.plan.name.localeCompare(b.plan.name))) {
      const mesh = several && p.plan.meshed ? `  mesh ${p.plan.controlPlane}` : '';
      const mode = p.plan.meshed ? `  admin http://${bracket(p.plan.podIP)}:${PORTS.proxyAdmin}${mesh}` : p.ambient ? '  (ambient: through the node proxy)' : `  (no sidecar: ${p.plan.injection})`;
      lines.push(`  pod         ${p.plan.name}.${p.plan.namespace}  ${p.plan.podIPs.join(' ')}${mode}`);
    }
    if (this.ambient) lines.push(`  ztunnel     ${this.ambient.pod}.${this.ambient.namespace}  ${this.ambient.address}  admin http://${bracket(this.ambient.address)}:${PORTS.proxyAdmin}/config_dump  (node proxy of ambient mode)`);
    for (const d of this.gatewayApi?.deployments() ?? []) lines.push(`  gateway     ${d.pod}.${d.namespace}  ${d.address}  admin http://${d.address}:${PORTS.proxyAdmin}  Gateway ${d.key} on ${d.ports.map((p) => `http://${d.address}:${p}`).join(' ')}`);
    if (this.prometheus) lines.push(`  prometheus  ${this.prometheus.url}`);
    if (this.consoleUrl) lines.push(`  console     ${this.consoleUrl}`);
    if (this.externalScrapeConfig) lines.push(`  prometheus  add ${this.externalScrapeConfig.config} to your Prometheus (its file SD follows the pods)`);
    lines.push(`  config      ${this.options.dir} (watched: add, edit or remove YAML to change the mesh)`);
    return lines.join('\n');
  }

  private writeState(): void {
    const state = {
      dir: this.options.dir,
      xdsPort: this.xdsPort,
      debugPort: this.debugPort,
      ingress: this.ingressUrl,
      gateway: { name: this.gateway.name, namespace: this.gateway.namespace, address: this.gateway.address },
      controlPlanes: this.controlPlanes().map((u) => ({ ...u.ref(), ca: u.caAddress, gateways: u.gateways.map((g) => ({ name: g.pod, address: g.address })) })),
      gatewayApi: (this.gatewayApi?.deployments() ?? []).map((d) => ({ gateway: d.key, pod: d.pod, address: d.address, ports: d.ports })),
      console: this.consoleUrl,
      prometheus: this.prometheus?.url,
      pods: [...this.pods.values()].map((p) => ({ name: p.plan.name, namespace: p.plan.namespace, podIP: p.plan.podIP, controlPlane: p.plan.meshed ? p.plan.controlPlane : undefined, ...(p.ambient ? { dataplaneMode: 'ambient' } : {}) })),
      ...(this.ambient ? { ztunnel: { pod: this.ambient.pod, namespace: this.ambient.namespace, address: this.ambient.address } } : {}),
    };
    writeFileSync(join(this.options.stateDir, 'mesh.json'), JSON.stringify(state, null, 2));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.reconciling;
    await this.startingAmbient?.catch(() => undefined);
    await this.supervisor.stopAll(3000);
    await this.ambient?.stop();
    await this.net?.stop();
    await this.prometheus?.stop();
    await this.console?.close();
    for (const unit of this.controlPlanes()) await unit.stop();
    await this.source?.close();
  }
}

/** The supervisor's name for a gateway's proxy process. */
const gatewayProcess = (g: GatewayRun) => podProcess(g.namespace, g.pod, 'istio-proxy');
/** A gateway's key in the pod network (its namespace in netns mode). */
const gatewayKey = (g: GatewayRun) => `${g.namespace}/${g.pod}`;
/** Gateways' pod numbers count down from here, past any planned pod and below the outside hosts' range. */
const GATEWAY_PODS_FROM = 4080;

/** The sidecar's ISTIO_META_ metadata; DNS capture only where the pod has its own namespace to capture in. */
function proxyMetadataFor(pod: PodPlan, captured: boolean): Record<string, string> {
  const { DNS_CAPTURE, ...rest } = pod.proxyMetadata;
  return captured && DNS_CAPTURE !== undefined ? { ...rest, DNS_CAPTURE } : rest;
}

/** Every ClusterIP:port and its endpoints, for the DNAT rules of pods without a sidecar (each Service once). */
function serviceTargets(snapshots: readonly RegistrySnapshot[]): ServiceTarget[] {
  const out: ServiceTarget[] = [];
  const seen = new Set<string>();
  for (const reg of snapshots) {
    for (const svc of reg.services() as readonly MeshService[]) {
      if (svc.origin !== 'Kubernetes' || seen.has(svc.hostname)) continue;
      seen.add(svc.hostname);
      for (const port of svc.ports) {
        const endpoints = reg.endpoints(svc, port).map((e) => ({ address: e.address, port: e.port }));
        for (const address of svc.addresses) out.push({ address, port: port.port, endpoints });
      }
    }
  }
  return out;
}

/** Istio's metrics merging: the app's own metrics when its pod's prometheus.io annotations name them. */
function appMetrics(pod: PodPlan): string[] {
  const a = pod.annotations;
  if (a['prometheus.io/scrape'] !== 'true' || !a['prometheus.io/port']) return [];
  return ['--app-metrics', `http://${bracket(pod.appAddress)}:${a['prometheus.io/port']}${a['prometheus.io/path'] ?? '/metrics'}`];
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}
