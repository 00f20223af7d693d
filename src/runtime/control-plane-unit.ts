// One control plane of a `trellis up` run, as OpenShift Service Mesh's operator deploys one per
// ServiceMeshControlPlane: istiod's role (xDS over a scoped view of the config), its certificate authority (its own
// root and trust domain, or cert-manager's CA API), its debug endpoints, and the gateways it runs with the Services
// that front them. The run starts one unit per control plane (mesh-topology.ts) and points each pod at its unit.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../controlplane/control-plane.js';
import { DebugServer } from '../controlplane/debug/debug-server.js';
import type { ControlPlaneRef, MeshRuntime } from '../controlplane/debug/objects.js';
import type { ComponentReadiness } from '../controlplane/status/maistra-status.js';
import type { ConfigStore } from '../controlplane/store/config-store.js';
import { ScopedStore } from '../controlplane/store/scoped-store.js';
import type { ControlPlaneInfo, GatewayPlanSpec } from '../config/mesh-topology.js';
import type { Resource } from '../config/resource.js';
import { CertificateAuthority } from '../ca/ca.js';
import { CaServer } from '../ca/ca-api.js';
import { CfsslSigner, type CfsslSignerOptions } from '../ca/cfssl-signer.js';
import { WorkloadTokens } from '../ca/token.js';
import type { ClusterIpAllocator } from '../controlplane/registry/service-registry.js';

/** The node proxy's service account, in the control plane's namespace (Istio's `istio-system/ztunnel`). */
export const ZTUNNEL_SERVICE_ACCOUNT = 'ztunnel';

/** The ConfigMap istio-csr (cert-manager's CA API for Istio) writes with the mesh's root, which workloads trust. */
export const CA_ROOT_CONFIGMAP = 'istio-ca-root-cert';

export interface ControlPlaneUnitOptions {
  plane: ControlPlaneInfo;
  /** The whole config of the run (the unit sees its part of it). */
  source: ConfigStore;
  /** Where this control plane keeps its CA root and token key. */
  stateDir: string;
  /** 0 asks for a free port. */
  ports: { xds: number; debug: number; ca: number };
  /** The run's view of all control planes and whether this one's components serve (for status). */
  controlPlanes(): ControlPlaneRef[];
  components(): ComponentReadiness[];
  /** A plugged-in CA (`cacerts`) or an external signer: the run's CA options, applied to its first control plane. */
  cacertsDir?: string;
  externalCa?: CfsslSignerOptions;
  /** More addresses xDS and the CA listen on (in netns mode, the host's addresses on the pods' bridge). */
  alsoListen?: readonly string[];
  /** Where Services without a clusterIP get theirs (netns mode: the run's service CIDR). */
  clusterIps?: ClusterIpAllocator;
  log: (line: string) => void;
}

/** A gateway this control plane runs: where it listens and how the mesh reaches it. */
export interface GatewayRun {
  spec: GatewayPlanSpec;
  /** The pod name (`<gateway>-local`) and its control plane's namespace. */
  pod: string;
  namespace: string;
  /** Its own loopback address: admin and merged stats, and its servers unless `listen` says otherwise. */
  address: string;
  /** Where its Gateway servers bind, and the host port each server port lands on. */
  listen: string;
  portMap: Record<string, number>;
  labels: Record<string, string>;
  serviceAccount: string;
}

export class ControlPlaneUnit {
  readonly store: ScopedStore;
  readonly cp: ControlPlane;
  readonly debug: DebugServer;
  xdsPort = 0;
  debugPort = 0;
  caAddress = '';
  caRootFile = '';
  private caPort = 0;
  readonly trustDomain: string;
  ca: CertificateAuthority | undefined;
  private caServer: CaServer | undefined;
  private externalCa: CfsslSigner | undefined;
  private tokens!: WorkloadTokens;
  gateways: GatewayRun[] = [];

  private constructor(readonly plane: ControlPlaneInfo, private readonly o: ControlPlaneUnitOptions) {
    this.store = new ScopedStore(o.source, plane.namespace);
    this.cp = new ControlPlane({ store: this.store, cluster: { controlPlaneNamespace: plane.namespace }, log: o.log });
    // The trust domain is the mesh config's as the run starts (a later change needs a restart: certificates in use
    // would no longer match the identities translation expects).
    this.trustDomain = plane.model.config.trustDomain;
    const runtime: MeshRuntime = { allResources: () => o.source.list(), controlPlanes: o.controlPlanes, components: o.components };
    this.debug = new DebugServer(this.cp, runtime);
  }

  get namespace(): string {
    return this.plane.namespace;
  }

  get name(): string {
    return this.plane.name;
  }

  static async start(o: ControlPlaneUnitOptions): Promise<ControlPlaneUnit> {
    const unit = new ControlPlaneUnit(o.plane, o);
    try {
      await unit.boot();
    } catch (err) {
      await unit.stop();
      throw err;
    }
    return unit;
  }

  private async boot(): Promise<void> {
    const o = this.o;
    if (o.clusterIps) this.cp.registry.setClusterIpAllocator(o.clusterIps);
    this.xdsPort = await this.cp.listen('127.0.0.1', o.ports.xds);
    for (const a of o.alsoListen ?? []) await this.cp.listen(a, this.xdsPort);
    const caDir = join(o.stateDir, 'ca');
    mkdirSync(caDir, { recursive: true });
    this.tokens = WorkloadTokens.open(join(caDir, 'token-key'), this.trustDomain);
    const ca = this.plane.settings.ca;
    if (ca.type === 'Istiod') {
      // Its own root (kept in the state directory): workloads of another control plane's mesh are strangers.
      this.ca = await CertificateAuthority.open({ stateDir: caDir, trustDomain: this.trustDomain, ...(o.cacertsDir ? { pluggedIn: o.cacertsDir } : {}) });
      // An external CA (cfssl: the cert-manager / istio-csr model) signs the workloads; the CA API keeps its serving
      // certificate from the mesh CA (it is not rotated, so it must not depend on the external CA's lifetimes).
      if (o.externalCa) this.externalCa = await CfsslSigner.open({ log: o.log, trustDomain: this.trustDomain, ...o.externalCa });
      this.caServer = new CaServer({
        signer: this.externalCa ?? this.ca,
        authenticator: this.tokens,
        tls: await this.ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1', ...(o.alsoListen ?? [])]),
        // Istio's node authorizer: the node proxy (ztunnel, in the control plane's namespace) gets the certificates of
        // the ambient workloads on its node.
        nodeAuthorizer: {
          trustedNodeAccounts: [`${this.namespace}/${ZTUNNEL_SERVICE_ACCOUNT}`],
          runsOn: (node, id) => this.cp.registry.workloads().some((w) => w.ambient && w.node === node && w.namespace === id.namespace && w.serviceAccount === id.serviceAccount),
        },
        log: o.log,
      });
      this.caPort = await this.caServer.listen('127.0.0.1', o.ports.ca);
      this.caAddress = `127.0.0.1:${this.caPort}`;
      for (const a of o.alsoListen ?? []) await this.caServer.listen(a, this.caPort);
      this.caRootFile = join(caDir, 'root-cert.pem');
      writeFileSync(this.caRootFile, this.ca.trustBundle());
    } else {
      // cert-manager (istio-csr) or a custom CA serves Istio's CA API itself: this control plane's own CA stays off.
      // Workloads trust the root istio-csr publishes in the istio-ca-root-cert ConfigMap, and prove who they are with
      // the run's workload tokens (their key is this control plane's token-key file, which the CA is given).
      const root = caRootFromConfigMap(o.source.list(), this.namespace);
      if (!root) throw new Error(`control plane ${this.namespace}/${this.name}: certificateAuthority ${ca.type} at ${ca.address} needs the ConfigMap ${CA_ROOT_CONFIGMAP} (key root-cert.pem) in ${this.namespace} with the CA's root`);
      this.caAddress = ca.address;
      this.caRootFile = join(caDir, 'root-cert.pem');
      writeFileSync(this.caRootFile, root);
    }
    this.debugPort = await this.debug.listen('127.0.0.1', o.ports.debug);
  }

  /**
   * What a proxy of this control plane is started with: where its xDS and CA are, and its trust domain. A proxy in a
   * pod's network namespace (`inPod`) dials them at the host's bridge address and reads the root where it can.
   */
  proxyArgs(inPod?: { target: (port: number) => string; caRootFile: string }): string[] {
    if (!inPod) return ['--xds', `127.0.0.1:${this.xdsPort}`, '--ca-address', this.caAddress, '--ca-root', this.caRootFile, '--trust-domain', this.trustDomain];
    // cert-manager's CA API (an address of its own) is dialled as configured.
    const ca = this.caPort ? inPod.target(this.caPort) : this.caAddress;
    return ['--xds', inPod.target(this.xdsPort), '--ca-address', ca, '--ca-root', inPod.caRootFile, '--trust-domain', this.trustDomain];
  }

  /** The token a workload presents to this control plane's CA; a node proxy's also names its node. */
  token(namespace: string, serviceAccount: string, node?: string): string {
    return this.tokens.issue(namespace, serviceAccount, undefined, node);
  }

  /**
   * The gateways to run, and the Services that front those the mesh can reach (added to this control plane's view).
   * A gateway whose servers are on the host's ingress port (the primary ingress) is reached from outside only.
   */
  setGateways(gateways: GatewayRun[]): void {
    this.gateways = gateways;
    const inMesh = gateways.filter((g) => g.listen === g.address);
    this.store.setExtra(inMesh.map((g) => gatewayService(g)), 'gateways of the control plane');
    for (const g of inMesh) {
      // Gateways take plaintext from the mesh unless a DestinationRule asks for ISTIO_MUTUAL, as Istio's gateways
      // (which carry no tlsMode label) do under auto mTLS.
      this.cp.registry.upsertWorkload({ name: g.pod, namespace: g.namespace, labels: g.labels, serviceAccount: g.serviceAccount, address: g.address, ports: Object.fromEntries(g.spec.ports.map((p) => [p.name, p.targetPort])), healthy: true, meshed: false });
    }
  }

  ref(): ControlPlaneRef {
    return { namespace: this.namespace, name: this.name, mode: this.plane.mode, debug: `http://127.0.0.1:${this.debugPort}`, xds: `127.0.0.1:${this.xdsPort}` };
  }

  status(): { rootSubject?: string; rootNotAfter?: string; source: string } {
    const s = (this.externalCa ?? this.ca)?.status();
    return s ? { rootSubject: s.rootSubject, rootNotAfter: s.rootNotAfter, source: s.source } : { source: this.plane.settings.ca.type };
  }

  async stop(): Promise<void> {
    await this.caServer?.close();
    await this.debug.close();
    await this.cp.close();
  }
}

/** The Service in front of a gateway, as the operator creates it: `istio: <label>` selects the gateway's pod. */
function gatewayService(g: GatewayRun): Resource {
  const spec = { selector: { istio: g.spec.istioLabel }, ports: g.spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: 'TCP' })) };
  const metadata = { name: g.spec.name, namespace: g.namespace, labels: { app: g.spec.name, istio: g.spec.istioLabel }, annotations: {} };
  return { apiVersion: 'v1', group: '', version: 'v1', kind: 'Service', metadata, spec, raw: { apiVersion: 'v1', kind: 'Service', metadata, spec } };
}

/** The root istio-csr publishes for workloads. */
function caRootFromConfigMap(resources: readonly Resource[], namespace: string): string | undefined {
  const cm = resources.find((r) => r.group === '' && r.kind === 'ConfigMap' && r.metadata.namespace === namespace && r.metadata.name === CA_ROOT_CONFIGMAP);
  const pem = (cm?.raw.data as Record<string, unknown> | undefined)?.['root-cert.pem'];
  return typeof pem === 'string' && pem.includes('BEGIN CERTIFICATE') ? pem : undefined;
}
