// The two things the console reads: the mesh (the control plane's API, or manifests) and the metrics (Prometheus).

import type { Level } from '../config/diagnostics.js';
import type { ObjectStatus } from '../controlplane/translate/gateway-api/status.js';
import type { ConsoleApiName } from '../errors/catalogue.js';

export type { ObjectStatus } from '../controlplane/translate/gateway-api/status.js';

// ---------------------------------------------------------------------------------------------------------------
// Inventory: what the manifests say (Kubernetes objects and Istio config), with the analyzers' findings.
// ---------------------------------------------------------------------------------------------------------------

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  /** From `istio-injection` / `istio.io/rev`; undefined when the namespace says nothing. */
  injection?: 'enabled' | 'disabled';
  /** The control plane (`namespace/name`) whose mesh the namespace is in; undefined outside every mesh. */
  controlPlane?: string;
  /** That control plane's namespace (where the node proxy of ambient mode runs). */
  controlPlaneNamespace?: string;
  /** Labelled `istio.io/dataplane-mode=ambient`: its pods join ambient mode (Kiali's ambient badge). */
  ambient?: boolean;
}

export interface ServicePortInfo {
  name?: string;
  port: number;
  /** Where the pods listen, when it is not `port`. */
  targetPort?: number | string;
  protocol: string;
  appProtocol?: string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  ports: ServicePortInfo[];
  type: string;
  /** Workloads (names, same namespace) whose pod labels the selector matches. */
  workloads: string[];
  /** `app` labels of those workloads. */
  apps: string[];
  /** Findings about the Service object itself (port naming…). */
  validations: Validation[];
  source?: SourceRef;
}

export interface WorkloadInfo {
  namespace: string;
  name: string;
  /** Deployment, StatefulSet, DaemonSet, ReplicaSet or Pod. */
  kind: string;
  /** Pod labels (the template's for controllers): what telemetry and selectors see. */
  labels: Record<string, string>;
  /** Pod annotations (the template's for controllers): where `sidecar.istio.io/inject` lives. */
  annotations: Record<string, string>;
  app?: string;
  version?: string;
  serviceAccount: string;
  replicas: number;
  sidecar: boolean;
  /** Why the workload has (or has not) a sidecar, in words. */
  sidecarReason: string;
  /** Its data plane: a sidecar, ambient mode (the node proxy, ztunnel), or none (outside the mesh's data plane). */
  dataplaneMode: 'sidecar' | 'ambient' | 'none';
  /** Why it is (or is not) in ambient mode, in words. */
  ambientReason: string;
  /** Services (names, same namespace) that select it. */
  services: string[];
  /** Gateways are drawn apart in the graph, as Kiali does. */
  isGateway: boolean;
  /** Findings about the workload's object (injection, annotations…). */
  validations: Validation[];
  source?: SourceRef;
}

export interface AppInfo {
  namespace: string;
  name: string;
  workloads: string[];
  services: string[];
  versions: string[];
}

/** Where an object is written: file and the line of its first key. */
export interface SourceRef {
  file: string;
  line: number;
}

/** One analyzer or schema finding, as the console shows it. */
export interface Validation {
  code: string;
  name: string;
  level: Level;
  message: string;
  /** JSON Pointer of the field, when known. */
  field?: string;
  /** 1-based line and column in the object's file (for objects loaded from files). */
  line?: number;
  column?: number;
}

export interface ConfigRef {
  /** Kind as written (`VirtualService`); with `group` it is unambiguous (Istio's vs the Gateway API's Gateway). */
  kind: string;
  group: string;
  namespace: string;
  name: string;
}

export interface ConfigObject extends ConfigRef {
  apiVersion: string;
  source?: SourceRef;
  validations: Validation[];
  /** The worst level among the validations, or `Valid`. */
  status: Level | 'Valid';
  /** Hosts this object applies to (VirtualService/DestinationRule/ServiceEntry hosts), fully qualified. */
  hosts: string[];
  /** Pod label selector, for objects that select workloads (PeerAuthentication, AuthorizationPolicy, Sidecar…). */
  workloadSelector?: Record<string, string>;
  /** The object as written (spec and everything else). */
  object: Record<string, unknown>;
  /** Gateway API objects: the status a control plane computes for them (see `GatewayApiStatusReport`). */
  gatewayApiStatus?: ObjectStatus['status'];
}

/**
 * Gateway API status (GatewayClass, Gateway and route conditions), and where it comes from: `control-plane` — what
 * the running control planes compute and serve at `/debug/status`; `files` — the same computation over the manifests,
 * with no gateway proxy running (so no Gateway is Programmed); `unavailable` — the control plane did not answer.
 */
export interface GatewayApiStatusReport {
  source: 'control-plane' | 'files' | 'unavailable';
  message?: string;
  items: ObjectStatus[];
}

export interface MeshInventory {
  /** Changes whenever what the source reads changes; clients can cache on it. */
  revision: string;
  namespaces: NamespaceInfo[];
  services: ServiceInfo[];
  workloads: WorkloadInfo[];
  apps: AppInfo[];
  /** Istio, Gateway API and Maistra objects (not plain Kubernetes ones). */
  config: ConfigObject[];
  /** Findings not tied to an object (a file that does not parse, an analyzer failure). */
  otherValidations: Array<Validation & { file?: string }>;
}

/** The YAML text of one object, as written, with the line numbers of its file. */
export interface ConfigText {
  ref: ConfigRef;
  file: string;
  /** The document's own text (from its first line to its last). */
  yaml: string;
  /** Line number, in the file, of the first line of `yaml`. */
  firstLine: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Control-plane views: proxies and their sync state, the CA, mesh settings.
// ---------------------------------------------------------------------------------------------------------------

/** istioctl proxy-status's states, per xDS type. */
export type SyncState = 'SYNCED' | 'NOT SENT' | 'STALE' | 'NACK' | 'IGNORED';

export interface ProxyCertificate {
  /** SPIFFE identity, `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`. */
  identity: string;
  notBefore?: string;
  notAfter?: string;
  serialNumber?: string;
}

export interface ProxyStatus {
  /** Node id (`sidecar~10.1.2.3~reviews-v1-abc.default~default.svc.cluster.local`). */
  id: string;
  namespace: string;
  pod: string;
  /** The workload the pod belongs to, when it can be told. */
  workload?: string;
  role: string;
  istioVersion?: string;
  connectedAt?: string;
  /** Keys: CDS, LDS, EDS, RDS, SDS (and ECDS, NDS… when present). */
  sync: Record<string, SyncState>;
  /** The NACK message, when the proxy rejected the last push. */
  nackMessage?: string;
  certificate?: ProxyCertificate;
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  serialNumber?: string;
}

export interface MeshSettings {
  trustDomain: string;
  /** Istio's meshMTLS.minProtocolVersion (TLSV1_2 when not set, as in Istio). */
  minProtocolVersion: string;
  /** Mesh-wide PeerAuthentication mode (in the root namespace), when there is one. */
  meshWideMtlsMode?: string;
  rootNamespace: string;
  /** Whether mTLS is picked automatically between sidecars (Istio's enableAutoMtls, on by default). */
  autoMtls: boolean;
}

/** One control plane of the mesh (OpenShift Service Mesh's ServiceMeshControlPlane, or Istio's one). */
export interface ControlPlaneSummary {
  name: string;
  namespace: string;
  mode: 'MultiTenant' | 'ClusterWide';
  /** A ServiceMeshControlPlane declares it; false for a plain Istio control plane. */
  declared: boolean;
  version?: string;
  /** Member namespaces and what became of each (Configured, Pending, Conflict with who has it). */
  members: Array<{ namespace: string; state: string; claimedBy?: string }>;
  /** Its ServiceMeshControlPlane's conditions as Trellis reports them. */
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
  /** The settings it applies (its own mesh config). */
  mesh: MeshSettings;
  /** The gateways it runs. */
  gateways: string[];
}

export interface ControlPlaneInfo {
  version: string;
  /** Which Istio/Kiali release the behaviour follows. */
  compatibleWith: string;
  /** Where this information comes from (`config directory /x`, `istiod at …`). */
  source: string;
  connectedProxies: number;
  syncedProxies: number;
  caRoot?: CertificateInfo;
  /** The first control plane's settings (every control plane's are in `planes`). */
  mesh: MeshSettings;
  /** Every control plane of the mesh, the first one first. */
  planes: ControlPlaneSummary[];
}

// ---------------------------------------------------------------------------------------------------------------
// Writes.
// ---------------------------------------------------------------------------------------------------------------

/** One object a write touched: created (a new file), changed in place, or removed (`deleted`). */
export type AppliedRef = ConfigRef & { file: string; created: boolean; deleted?: boolean };

export type WriteResult =
  | { ok: true; applied: AppliedRef[]; validations: Validation[] }
  | {
      ok: false;
      /** A console API error (`INVALID_YAML`, `VALIDATION_FAILED`, `NOT_FOUND`, `UNSUPPORTED`, …), sent as is. */
      code: ConsoleApiName;
      message: string;
      /** Lines and columns here refer to the submitted text. */
      validations: Validation[];
    };

export interface ApplyOptions {
  /** Namespace for objects that name none. */
  namespace?: string;
  /** When set, the text must hold exactly this object (an edit of an existing one, not a create). */
  replace?: ConfigRef;
  /** Validate as a write would, and write nothing (the editor's findings as the user types). */
  dryRun?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Pods: their containers' output (Kiali's Logs tab) and their proxy's config (its Envoy tab).
// ---------------------------------------------------------------------------------------------------------------

export interface PodInfo {
  namespace: string;
  name: string;
  /** The workload (Deployment…) it belongs to. */
  workload?: string;
  /** Container names, the sidecar (`istio-proxy`) included when there is one. */
  containers: string[];
}

export interface LogLine {
  /** When the line was read (ms since the epoch). */
  time: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * The mesh as the console reads it. The control plane implements it over its stores; `YamlMeshSource`
 * implements it over a directory of manifests, for `trellis up` before the control plane serves it and for tests.
 */
export interface MeshSource {
  inventory(): Promise<MeshInventory>;
  configText(ref: ConfigRef): Promise<ConfigText | undefined>;
  proxies(): Promise<ProxyStatus[]>;
  controlPlane(): Promise<ControlPlaneInfo>;
  /** Validate and store one or more objects (YAML, possibly several documents). */
  apply(yamlText: string, options?: ApplyOptions): Promise<WriteResult>;
  /** Set (string) or remove (null) annotations on a workload's pods (the template, for controllers). */
  annotateWorkload(namespace: string, name: string, changes: Record<string, string | null>): Promise<WriteResult>;
  /** Remove objects (each document from its file; a file left with none is removed). */
  delete(refs: ConfigRef[]): Promise<WriteResult>;
  /** Running pods and their containers; empty when the source runs none (plain manifests). */
  pods(): Promise<PodInfo[]>;
  /** The last `tailLines` lines a container wrote, or undefined when there is no such container. */
  podLogs(namespace: string, pod: string, container: string, tailLines: number): Promise<LogLine[] | undefined>;
  /** The pod's proxy configuration in the shape of Envoy's /config_dump, or undefined when it has no proxy connected. */
  proxyConfigDump(namespace: string, pod: string): Promise<Record<string, unknown> | undefined>;
  /** Gateway API status: from the control plane when `live` and one is known, else computed from the manifests. */
  gatewayApiStatus(live: boolean): Promise<GatewayApiStatusReport>;
}

// ---------------------------------------------------------------------------------------------------------------
// Metrics: Prometheus's HTTP API, as Kiali reads it.
// ---------------------------------------------------------------------------------------------------------------

/** One series of an instant vector: labels and the value at the query time. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** One series of a range query: labels and [unix seconds, value] pairs. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, number]>;
}

export interface MetricsSource {
  /** PromQL instant query (`/api/v1/query`) at `time` (unix seconds; now when omitted). */
  query(promql: string, time?: number): Promise<Sample[]>;
  /** PromQL range query (`/api/v1/query_range`), steps in seconds. */
  queryRange(promql: string, start: number, end: number, step: number): Promise<RangeSeries[]>;
}
