// `trellis up`: a one-node "cluster" on this machine. The control plane watches DIR; every Deployment replica and Pod
// runs as local processes behind its own sidecar (a Trellis proxy over xDS); an ingress gateway serves Istio Gateways.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from '../controlplane/control-plane.js';
import { meshModelOf } from '../config/mesh-config.js';
import { DebugServer } from '../controlplane/debug/debug-server.js';
import { DirectoryStore } from '../controlplane/store/directory-store.js';
import { loadImageMap, type ImageMap } from './image-map.js';
import { planPods, type PodPlan } from './plan.js';
import { DEFAULT_ADDRESS_BASE, gatewayAddress } from './addresses.js';
import { ingressHostPorts, PORTS } from '../ports.js';
import { Supervisor } from './supervisor.js';
import { PrometheusRunner } from '../telemetry/prometheus-runner.js';
import { freePort } from '../free-port.js';
import { CertificateAuthority } from '../ca/ca.js';
import { CaServer } from '../ca/ca-api.js';
import { WorkloadTokens } from '../ca/token.js';
import { CfsslSigner, type CfsslSignerOptions } from '../ca/cfssl-signer.js';
import { ConsoleServer } from '../console/server.js';
import { YamlMeshSource } from '../console/mesh/yaml-mesh-source.js';
import { synczProxies } from '../console/mesh/syncz.js';
import { PrometheusMetricsSource } from '../console/metrics/prometheus.js';
import type { NetworkMode } from './network-mode.js';
import { bracket, NetnsNetwork, type ServiceTarget } from './netns/netns-network.js';
import { EGRESS_GATEWAY, egressGatewayPorts, egressGatewayService } from './egress-gateway.js';
import type { RegistrySnapshot } from '../controlplane/registry/service-registry.js';
import type { IpFamily } from './netns/address-plan.js';

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
  /** Run Istio's egress gateway (`istio-egressgateway.istio-system`, labels istio: egressgateway) as a pod; netns mode. */
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
}

export class LocalMesh {
  readonly supervisor: Supervisor;
  private readonly pods = new Map<string, RunningPod>();
  private readonly imageMap: ImageMap;
  private readonly log: (line: string) => void;
  private cp!: ControlPlane;
  private debug!: DebugServer;
  xdsPort = 0;
  debugPort = 0;
  /** The ingress gateway; its ingress port is known once start() resolved (0 asks for a free one). */
  readonly gateway: GatewayPlan;
  prometheus: PrometheusRunner | undefined;
  ca: CertificateAuthority | undefined;
  console: ConsoleServer | undefined;
  consoleUrl: string | undefined;
  private tokens: WorkloadTokens | undefined;
  private caServer: CaServer | undefined;
  private externalCa: CfsslSigner | undefined;
  private caAddress = '';
  private caRootFile = '';
  private trustDomain = 'cluster.local';
  externalScrapeConfig: { config: string; targets: (t: Array<{ address: string; labels: Record<string, string> }>) => void } | undefined;
  private stopped = false;
  private reconciling: Promise<void> = Promise.resolve();
  /** The pod network in netns mode (src/runtime/netns); undefined on loopback addresses. */
  net: NetnsNetwork | undefined;
  private caPort = 0;

  private constructor(readonly options: LocalMeshOptions) {
    this.log = options.log ?? ((l) => process.stdout.write(l + '\n'));
    this.supervisor = new Supervisor(this.log);
    this.imageMap = loadImageMap(options.imageMapFile);
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

  get controlPlane(): ControlPlane {
    return this.cp;
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
    const store = await DirectoryStore.open(this.options.dir, { log: (l) => this.log(`[controlplane] ${l}`) });
    this.cp = new ControlPlane({ store, log: (l) => this.log(`[controlplane] ${l}`) });
    if (this.options.network === 'netns') {
      this.net = NetnsNetwork.start({ family: this.options.ipFamily ?? 'ipv4', domain: this.cp.cluster.domain, log: this.log });
      this.log(`[runtime] pod network: ${this.net.describe()}`);
      this.cp.registry.setClusterIpAllocator((ns, name) => this.net!.clusterIps(ns, name));
    } else {
      this.log('[runtime] pod network: loopback addresses, apps reach services through HTTP_PROXY');
    }
    this.xdsPort = await this.cp.listen('127.0.0.1', this.options.xdsPort ?? 0);
    // Pods in namespaces reach the control plane, the CA and the DNS at the host's addresses on their bridge.
    for (const a of this.net?.hostAddresses ?? []) await this.cp.listen(a, this.xdsPort);
    // The mesh CA (its root survives restarts in the state directory) and Istio's CA API for the sidecars' agents. The
    // trust domain is the mesh config's as the run starts (a later change to it needs a restart: certificates in use
    // would no longer match the identities translation expects).
    const caDir = join(this.options.stateDir, 'ca');
    this.trustDomain = meshModelOf(store.list()).config.trustDomain;
    this.ca = await CertificateAuthority.open({ stateDir: caDir, trustDomain: this.trustDomain, ...(this.options.cacertsDir ? { pluggedIn: this.options.cacertsDir } : {}) });
    this.tokens = WorkloadTokens.open(join(caDir, 'token-key'), this.trustDomain);
    // An external CA (cfssl: the cert-manager / istio-csr model) signs the workloads; the CA API keeps its serving
    // certificate from the mesh CA (it is not rotated, so it must not depend on the external CA's lifetimes).
    if (this.options.externalCa) this.externalCa = await CfsslSigner.open({ log: (l) => this.log(`[controlplane] ${l}`), trustDomain: this.trustDomain, ...this.options.externalCa });
    this.caServer = new CaServer({ signer: this.externalCa ?? this.ca, authenticator: this.tokens, tls: await this.ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1', ...(this.net?.hostAddresses ?? [])]), log: (l) => this.log(`[controlplane] ${l}`) });
    this.caPort = await this.caServer.listen('127.0.0.1', this.options.caPort ?? 0);
    this.caAddress = `127.0.0.1:${this.caPort}`;
    for (const a of this.net?.hostAddresses ?? []) await this.caServer.listen(a, this.caPort);
    this.caRootFile = join(caDir, 'root-cert.pem');
    writeFileSync(this.caRootFile, this.ca.trustBundle());
    if (this.net) {
      // The sidecars (uid 1337) cannot enter the state directory: they read the root from the run's public folder.
      const podRoot = join(this.net.publicDir(), 'root-cert.pem');
      copyFileSync(this.caRootFile, podRoot);
      this.podCaRootFile = podRoot;
      await this.net.startDns((name) => this.cp.registry.snapshot().service(name)?.addresses);
    }
    this.debug = new DebugServer(this.cp);
    this.debugPort = await this.debug.listen('127.0.0.1', this.options.debugPort ?? 0);
    // Validate the whole plan before starting anything: an unknown image is an error with its file:line.
    const plan = this.planPods();
    if (this.options.prometheusPort !== undefined && this.options.prometheusPort >= 0) {
      try {
        this.prometheus = await PrometheusRunner.start({
          stateDir: this.options.stateDir,
          port: this.options.prometheusPort || (await freePort()),
          scrapeInterval: this.options.scrapeInterval,
          staticJobs: [{ job: 'trellis-controlplane', target: `127.0.0.1:${this.debugPort}`, path: '/metrics' }],
          log: (l) => this.log(`[prometheus] ${l}`),
        });
      } catch (err) {
        // The mesh runs without it; metrics stay on every proxy's stats port.
        this.log(`[runtime] ${(err as Error).message}; continuing without Prometheus`);
      }
    }
    if (this.options.externalPrometheus) {
      this.externalScrapeConfig = PrometheusRunner.writeExternal({ stateDir: this.options.stateDir, scrapeInterval: this.options.scrapeInterval, staticJobs: [{ job: 'trellis-controlplane', target: `127.0.0.1:${this.debugPort}`, path: '/metrics' }] });
    }
    if (this.options.consolePort !== undefined && this.options.consolePort >= 0) {
      // The console reads the same directory (and writes to it), the control plane's syncz and the Prometheus above.
      this.console = new ConsoleServer({
        mesh: new YamlMeshSource({ configDir: this.options.dir, proxies: synczProxies(`http://127.0.0.1:${this.debugPort}`), caRootCertFile: this.caRootFile }),
        ...(this.prometheus ? { metrics: new PrometheusMetricsSource(this.prometheus.url) } : {}),
        host: '127.0.0.1',
        port: this.options.consolePort,
        log: (l) => this.log(`[console] ${l}`),
      });
      this.consoleUrl = `http://127.0.0.1:${await this.console.listen()}/`;
    }
    this.startGateway();
    if (this.options.egressGateway) this.startEgressGateway();
    for (const pod of plan) this.startPod(pod);
    this.updateTargets();
    store.on('change', () => {
      this.reconciling = this.reconciling.then(() => this.reconcile()).catch((err) => this.log(`[runtime] ${(err as Error).message}`));
    });
    this.writeState();
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
    const wanted = new Map(plan.map((p) => [`${p.namespace}/${p.name}`, p]));
    for (const [key, running] of this.pods) {
      const next = wanted.get(key);
      if (!next || next.podIP !== running.plan.podIP) await this.stopPod(key);
    }
    for (const [key, p] of wanted) if (!this.pods.has(key)) this.startPod(p);
    this.updateTargets();
    this.writeState();
  }

  private planPods(): PodPlan[] {
    const net = this.net;
    return planPods(this.cp.store.list(), { imageMap: this.imageMap, addressBase: this.options.addressBase, ...(net ? { addressing: (n: number) => net.addressing(n) } : {}) });
  }

  /** Prometheus scrapes every sidecar's merged stats port and the gateway's, as Kubernetes pod discovery would. */
  private updateTargets(): void {
    if (this.net) this.net.updateServices(serviceTargets(this.cp.registry.snapshot()));
    const sink = this.prometheus ? (t: Parameters<PrometheusRunner['setTargets']>[0]) => this.prometheus!.setTargets(t) : this.externalScrapeConfig?.targets;
    if (!sink) return;
    const targets = [...this.pods.values()]
      .filter((p) => p.plan.meshed)
      .map((p) => ({ address: `${bracket(p.plan.podIP)}:${PORTS.mergedStats}`, labels: { namespace: p.plan.namespace, pod: p.plan.name, ...(p.plan.labels.app ? { app: p.plan.labels.app } : {}) } }));
    targets.push({ address: this.gatewayStats, labels: { namespace: this.gateway.namespace, pod: this.gateway.name, app: 'istio-ingressgateway' } });
    if (this.egress) targets.push({ address: `${bracket(this.egress.podIP)}:${PORTS.mergedStats}`, labels: { namespace: EGRESS_GATEWAY.namespace, pod: EGRESS_GATEWAY.pod, app: EGRESS_GATEWAY.labels.app } });
    sink(targets);
  }

  private podCaRootFile = '';

  /** The CA's address and root for a proxy: on the host, or (`inPod`) from inside a pod's namespace. */
  private caArgs(inPod = false): string[] {
    if (inPod && this.net) return ['--ca-address', this.net.hostTarget(this.caPort), '--ca-root', this.podCaRootFile, '--trust-domain', this.trustDomain];
    return ['--ca-address', this.caAddress, '--ca-root', this.caRootFile, '--trust-domain', this.trustDomain];
  }

  /** A process on the host; in netns mode it dies with the runtime, as the pods do. */
  private onHost(command: string, args: string[]): { command: string; args: string[] } {
    return this.net ? this.net.hostCommand(command, args) : { command, args };
  }

  private startGateway(): void {
    const gw = this.gateway;
    this.supervisor.start({
      name: `${gw.name}/istio-proxy`,
      ...this.onHost(process.execPath, [
        // --ip is where its Gateway servers bind (the host's ingress address); its own ports are on its own address.
        BIN, 'proxy', '--xds', `127.0.0.1:${this.xdsPort}`, '--role', 'gateway', '--pod', gw.name, '--namespace', gw.namespace, '--ip', gw.ingressAddress,
        '--labels', 'istio=ingressgateway,app=istio-ingressgateway', '--service-account', 'istio-ingressgateway-service-account',
        '--admin-address', gw.address, '--admin-port', String(PORTS.proxyAdmin), '--drain-time-s', '1',
        '--stats-address', gw.address, '--stats-port', String(PORTS.mergedStats),
        '--metadata', JSON.stringify({ WORKLOAD_NAME: 'istio-ingressgateway', GATEWAY_PORTS: ingressHostPorts(gw.ingressPort) }),
        ...this.caArgs(),
      ]),
      env: { TRELLIS_CA_TOKEN: this.tokens!.issue(gw.namespace, 'istio-ingressgateway-service-account') },
    });
  }

  /** The egress gateway's pod (egress-gateway.ts): its own namespace, no capture (it is a proxy), its Service registered. */
  private egress: { podIP: string } | undefined;

  private startEgressGateway(): void {
    if (!this.net) throw new Error('the egress gateway runs in netns mode (--network netns)');
    const net = this.net;
    const g = EGRESS_GATEWAY;
    const key = `${g.namespace}/${g.pod}`;
    const pn = net.addPod({ key, number: g.podNumber, name: g.pod, namespace: g.namespace, annotations: {}, rules: 'none', dnsCapture: false });
    const podIP = pn.addresses[0]!;
    this.egress = { podIP };
    this.cp.registry.setRuntimeServices([egressGatewayService(this.cp.cluster.domain, net.clusterIps(g.namespace, g.name))]);
    // Not meshed for auto mTLS: sidecars reach a gateway's plain servers in plaintext, as Istio's egress task does.
    this.cp.registry.upsertWorkload({ name: g.pod, namespace: g.namespace, labels: { ...g.labels }, serviceAccount: g.serviceAccount, address: podIP, ...(pn.addresses.length > 1 ? { addresses: pn.addresses } : {}), ports: {}, healthy: true, meshed: false });
    this.supervisor.start({
      name: `${g.pod}/istio-proxy`,
      ...net.command(key, process.execPath, [
        BIN, 'proxy', '--xds', net.hostTarget(this.xdsPort), '--role', 'gateway', '--pod', g.pod, '--namespace', g.namespace, '--ip', podIP,
        '--labels', Object.entries(g.labels).map(([k, v]) => `${k}=${v}`).join(','), '--service-account', g.serviceAccount,
        '--admin-address', podIP, '--admin-port', String(PORTS.proxyAdmin), '--drain-time-s', '1',
        '--stats-port', String(PORTS.mergedStats),
        '--metadata', JSON.stringify({ WORKLOAD_NAME: g.name, GATEWAY_PORTS: egressGatewayPorts(), INSTANCE_IPS: pn.addresses.join(',') }),
        ...this.caArgs(true),
      ], 'sidecar'),
      env: { TRELLIS_CA_TOKEN: this.tokens!.issue(g.namespace, g.serviceAccount) },
    });
  }

  /** Where the egress gateway's admin and stats answer (its pod address), when it runs. */
  get egressGatewayAddress(): string | undefined {
    return this.egress?.podIP;
  }

  private startPod(pod: PodPlan): void {
    const key = `${pod.namespace}/${pod.name}`;
    const processes: string[] = [];
    // In netns mode the pod gets its namespace (addresses, files, capture rules) before any of its processes start.
    const net = pod.captured ? this.net : undefined;
    net?.addPod({ key, number: pod.number, name: pod.name, namespace: pod.namespace, annotations: pod.annotations, rules: pod.meshed ? 'capture' : 'dnat', dnsCapture: pod.meshed && pod.proxyMetadata.DNS_CAPTURE === 'true' });
    const inPod = (command: string, args: string[], as: 'app' | 'sidecar') => (net ? net.command(key, command, args, as) : { command, args });
    this.cp.registry.upsertWorkload({
      name: pod.name,
      namespace: pod.namespace,
      labels: pod.labels,
      serviceAccount: pod.serviceAccount,
      address: pod.podIP,
      ...(pod.podIPs.length > 1 ? { addresses: pod.podIPs } : {}),
      ports: Object.fromEntries(pod.ports.filter((p) => p.name).map((p) => [p.name!, p.containerPort])),
      appAddress: pod.appAddress,
      healthy: true,
      meshed: pod.meshed,
    });
    if (pod.meshed) {
      const name = `${pod.name}/istio-proxy`;
      // Captured pods: Istio's INTERCEPTION_MODE REDIRECT (virtualOutbound/virtualInbound) and every pod address.
      const capture = net ? { INTERCEPTION_MODE: 'REDIRECT', INSTANCE_IPS: pod.podIPs.join(',') } : {};
      this.supervisor.start({
        name,
        ...inPod(process.execPath, [
          BIN, 'proxy', '--xds', net ? net.hostTarget(this.xdsPort) : `127.0.0.1:${this.xdsPort}`, '--role', 'sidecar', '--pod', pod.name, '--namespace', pod.namespace, '--ip', pod.podIP,
          '--labels', Object.entries(pod.labels).map(([k, v]) => `${k}=${v}`).join(','), '--service-account', pod.serviceAccount,
          '--admin-address', pod.podIP, '--admin-port', String(PORTS.proxyAdmin), '--drain-time-s', '1', '--log-level', 'warning',
          '--stats-port', String(PORTS.mergedStats), '--metadata', JSON.stringify({ ...proxyMetadataFor(pod, !!net), WORKLOAD_NAME: pod.owner ?? pod.name, ...capture }),
          ...appMetrics(pod),
          ...(pod.concurrency !== undefined ? ['--concurrency', String(pod.concurrency)] : []),
          ...(pod.xdsMode ? ['--xds-mode', pod.xdsMode] : []),
          ...this.caArgs(pod.captured),
        ], 'sidecar'),
        // The token proves the pod's namespace and service account to the CA; an env var keeps it out of `ps`.
        env: { TRELLIS_CA_TOKEN: this.tokens!.issue(pod.namespace, pod.serviceAccount) },
      });
      processes.push(name);
    }
    for (const c of pod.containers) {
      const name = `${pod.name}/${c.name}`;
      this.supervisor.start({ name, ...inPod(c.command, c.args, 'app'), env: c.env });
      processes.push(name);
    }
    this.pods.set(key, { plan: pod, processes });
  }

  private async stopPod(key: string): Promise<void> {
    const running = this.pods.get(key);
    if (!running) return;
    this.pods.delete(key);
    this.cp.registry.removeWorkload(running.plan.namespace, running.plan.name);
    await Promise.all(running.processes.map((p) => this.supervisor.stop(p, 3000)));
    this.net?.removePod(key);
  }

  /** Wait until every sidecar and the gateway ACKed their config and every app and the ingress accept connections. */
  async waitReady(timeoutMs = this.options.readyTimeoutMs ?? 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const meshed = [...this.pods.values()].filter((p) => p.plan.meshed).length;
    // Apps in namespaces are probed from inside their pod (their loopback is not the host's), each probe once.
    const inside = this.net ? [...this.pods.entries()].map(([key, p]) => this.net!.portsOpen(key, p.plan.ports.map((x) => x.containerPort), timeoutMs)) : [];
    let podsUp = 0;
    for (const probe of inside) void probe.then((up) => (podsUp += up ? 1 : 0));
    for (;;) {
      const proxies = this.cp.ads.proxies();
      const synced = proxies.length >= meshed + 1 + (this.egress ? 1 : 0) && proxies.every((p) => p.types.length >= 2 && p.types.every((t) => t.state === 'SYNCED'));
      const apps = this.net ? inside.map((_, i) => i < podsUp) : await Promise.all([...this.pods.values()].flatMap((p) => p.plan.ports.map((port) => canConnect(p.plan.appAddress, port.containerPort))));
      const sidecars = await Promise.all([...this.pods.values()].filter((p) => p.plan.meshed).flatMap((p) => p.plan.ports.map((port) => canConnect(p.plan.podIP, port.containerPort))));
      const gateway = await canConnect(this.gateway.address, PORTS.proxyAdmin);
      if (synced && apps.every(Boolean) && sidecars.every(Boolean) && gateway) return;
      if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs / 1000}s (proxies synced: ${synced}, apps up: ${apps.filter(Boolean).length}/${apps.length}, sidecars up: ${sidecars.filter(Boolean).length}/${sidecars.length}, gateway up: ${gateway})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The `ready` summary: ingress, services, admin ports, control plane. */
  summary(): string {
    const lines = [`ready: ${this.pods.size} pods, ingress ${this.ingressUrl}`];
    lines.push(`  network     ${this.net ? this.net.describe() : 'loopback addresses (127.x), apps reach services through HTTP_PROXY'}`);
    const paths = new Set<string>();
    for (const b of this.cp.pushContext.virtualServices) {
      if (b.gateways.every((g) => g === 'mesh')) continue;
      for (const rule of b.vs.spec.http ?? []) for (const m of rule.match ?? []) if (m.uri?.exact) paths.add(m.uri.exact);
    }
    if (paths.size) lines.push(`  ingress     ${[...paths].slice(0, 3).map((p) => this.ingressUrl + p).join('  ')}`);
    for (const svc of this.cp.registry.services()) {
      if (svc.origin !== 'Kubernetes') continue;
      lines.push(`  service     ${svc.name}.${svc.namespace}  ${svc.ports.map((p) => `${p.name}:${p.port}`).join(' ')}`);
    }
    for (const p of [...this.pods.values()].sort((a, b) => a.plan.name.localeCompare(b.plan.name))) {
      lines.push(`  pod         ${p.plan.name}.${p.plan.namespace}  ${p.plan.podIPs.join(' ')}${p.plan.meshed ? `  admin http://${bracket(p.plan.podIP)}:${PORTS.proxyAdmin}` : '  (no sidecar)'}`);
    }
    lines.push(`  gateway     ${this.gateway.name}.${this.gateway.namespace}  ${this.gateway.address}  admin http://${this.gatewayAdmin}  serving ${this.ingressUrl}`);
    lines.push(`  controlplane xDS 127.0.0.1:${this.xdsPort}  debug http://127.0.0.1:${this.debugPort}/debug/syncz`);
    if (this.prometheus) lines.push(`  prometheus  ${this.prometheus.url}`);
    if (this.consoleUrl) lines.push(`  console     ${this.consoleUrl}`);
    const ca = (this.externalCa ?? this.ca)?.status();
    if (ca) lines.push(`  ca          ${ca.rootSubject}, root valid until ${ca.rootNotAfter.slice(0, 10)}${ca.source === 'external' ? ' (external CA)' : ''} (mutual TLS between sidecars), CA API ${this.caAddress}`);
    if (this.externalScrapeConfig) lines.push(`  prometheus  add ${this.externalScrapeConfig.config} to your Prometheus (its file SD follows the pods)`);
    lines.push(`  config      ${this.options.dir} (watched: add, edit or remove YAML to change the mesh)`);
    return lines.join('\n');
  }

  private writeState(): void {
    const state = { dir: this.options.dir, xdsPort: this.xdsPort, debugPort: this.debugPort, ingress: this.ingressUrl, gateway: { name: this.gateway.name, namespace: this.gateway.namespace, address: this.gateway.address }, console: this.consoleUrl, prometheus: this.prometheus?.url, pods: [...this.pods.values()].map((p) => ({ name: p.plan.name, namespace: p.plan.namespace, podIP: p.plan.podIP })) };
    writeFileSync(join(this.options.stateDir, 'mesh.json'), JSON.stringify(state, null, 2));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.reconciling;
    await this.supervisor.stopAll(3000);
    await this.net?.stop();
    await this.prometheus?.stop();
    await this.caServer?.close();
    await this.console?.close();
    await this.debug?.close();
    await this.cp?.close();
  }
}

/** The sidecar's ISTIO_META_ metadata; DNS capture only where the pod has its own namespace to capture in. */
function proxyMetadataFor(pod: PodPlan, captured: boolean): Record<string, string> {
  const { DNS_CAPTURE, ...rest } = pod.proxyMetadata;
  return captured && DNS_CAPTURE !== undefined ? { ...rest, DNS_CAPTURE } : rest;
}

/** Istio's metrics merging: the app's own metrics when its pod's prometheus.io annotations name them. */
function appMetrics(pod: PodPlan): string[] {
  const a = pod.annotations;
  if (a['prometheus.io/scrape'] !== 'true' || !a['prometheus.io/port']) return [];
  return ['--app-metrics', `http://${bracket(pod.appAddress)}:${a['prometheus.io/port']}${a['prometheus.io/path'] ?? '/metrics'}`];
}

/** Every ClusterIP:port and its endpoints, for the DNAT rules of pods without a sidecar. */
function serviceTargets(reg: RegistrySnapshot): ServiceTarget[] {
  const out: ServiceTarget[] = [];
  for (const svc of reg.services()) {
    if (svc.origin !== 'Kubernetes') continue;
    for (const port of svc.ports) {
      const endpoints = reg.endpoints(svc, port).map((e) => ({ address: e.address, port: e.port }));
      for (const address of svc.addresses) out.push({ address, port: port.port, endpoints });
    }
  }
  return out;
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
