// The mesh config (Istio's MeshConfig with its defaultConfig ProxyConfig), built once per config version from Istio's
// defaults, the ServiceMeshControlPlane and the `istio` ConfigMap, with one precedence. Analysis, translation, the
// local runtime and the console all read this model; nothing else parses mesh config YAML.
//
// Precedence (later wins), documented in ARCHITECTURE.md:
//   1. Istio's defaults;
//   2. the ServiceMeshControlPlane (maistra.io/v2) in the control-plane namespace: its Maistra fields mapped onto
//      MeshConfig (security.trust.domain, security.dataPlane.automtls, security.controlPlane.tls, proxy.networking
//      .trafficControl.outbound.policy, proxy.concurrency, proxy.accessLogging, tracing), then spec.techPreview
//      .meshConfig, then spec.meshConfig (OpenShift Service Mesh 2.4's pass-through);
//   3. the `mesh` key of the ConfigMap `istio` (or `istio-<control plane name>`, the name OpenShift Service Mesh
//      renders) in the control-plane namespace: what istiod itself reads.
// Each layer is applied the way istiod applies a mesh config file: top-level fields replace, `defaultConfig` and
// `defaultProviders` merge field by field (`proxyMetadata` key by key), `extensionProviders` merge by name (a later
// provider of the same name replaces the earlier one), `trustDomainAliases` add up.

import { parse as parseYaml } from 'yaml';
import type { LabelSelector } from './types/kubernetes.js';
import type { Resource } from './resource.js';
import type { ServiceMeshControlPlaneSpec } from './types/maistra.js';
import { mergeProxyConfig, readProxyConfig, type ProxyConfig, type ProxyConfigProblem } from './proxy-config.js';

/** Where Istio (and Trellis) runs unless a ServiceMeshControlPlane says otherwise. */
export const DEFAULT_CONTROL_PLANE_NAMESPACE = 'istio-system';

export type TlsVersion = 'TLS_AUTO' | 'TLSV1_0' | 'TLSV1_1' | 'TLSV1_2' | 'TLSV1_3';

/** MeshConfig.ExtensionProvider.EnvoyExternalAuthorization{Http,Grpc}Provider. */
export interface ExtAuthzProvider {
  service?: string;
  port?: number;
  timeout?: string;
  pathPrefix?: string;
  failOpen?: boolean;
  statusOnError?: string;
  includeRequestHeadersInCheck?: string[];
  /** Deprecated spelling of includeRequestHeadersInCheck. */
  includeHeadersInCheck?: string[];
  includeAdditionalHeadersInCheck?: Record<string, string>;
  includeRequestBodyInCheck?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
  headersToUpstreamOnAllow?: string[];
  headersToDownstreamOnDeny?: string[];
  headersToDownstreamOnAllow?: string[];
}

/** One entry of MeshConfig.extensionProviders: a name and exactly one provider kind. */
export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp?: ExtAuthzProvider;
  envoyExtAuthzGrpc?: ExtAuthzProvider;
  prometheus?: Record<string, never>;
  envoyFileAccessLog?: { path?: string; logFormat?: { text?: string; labels?: Record<string, string> } };
  zipkin?: { service?: string; port?: number; maxTagLength?: number };
  opentelemetry?: { service?: string; port?: number; http?: { path?: string } };
  /** Kinds Trellis does not implement (skywalking, datadog, stackdriver …) stay visible to analysis. */
  [otherKind: string]: unknown;
}

export interface MeshConfig {
  /** Where mesh-wide policies live (default: the control-plane namespace). */
  rootNamespace: string;
  trustDomain: string;
  trustDomainAliases: string[];
  /** Clients use mutual TLS to sidecars that accept it without a DestinationRule saying so. */
  enableAutoMtls: boolean;
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
  /** Istio's meshMTLS; `maxProtocolVersion` and `cipherSuites` come from a ServiceMeshControlPlane's controlPlane.tls. */
  meshMTLS: { minProtocolVersion?: TlsVersion; maxProtocolVersion?: TlsVersion; cipherSuites?: string[] };
  tlsDefaults: { minProtocolVersion?: TlsVersion; ecdhCurves?: string[]; cipherSuites?: string[] };
  defaultConfig: ProxyConfig;
  extensionProviders: ExtensionProvider[];
  defaultProviders: { metrics?: string[]; accessLogging?: string[]; tracing?: string[] };
  /** Namespaces the control plane looks at (empty: all). */
  discoverySelectors: LabelSelector[];
  /** Envoy's access log for every proxy when set (`/dev/stdout`), as in Istio's demo profile. */
  accessLogFile?: string;
  accessLogEncoding?: 'TEXT' | 'JSON';
  accessLogFormat?: string;
  enableTracing: boolean;
  /** Istio's default connect timeout for clusters (MeshConfig.connectTimeout, Istio's duration form). */
  connectTimeout: string;
  /** The ingress gateway's Service name, in the control-plane namespace (for Kubernetes Ingress, and istioctl's files-only defaults). */
  ingressService: string;
  /** Whether the ingress controller runs: OFF, DEFAULT or STRICT. */
  ingressControllerMode: 'OFF' | 'DEFAULT' | 'STRICT';
}

/** A mesh config field that cannot be used: in `resource` at `pointer` (the layer), `field` a dotted path inside it. */
export interface MeshConfigProblem extends ProxyConfigProblem {
  resource: Resource;
  pointer: string;
}

/** Where the mesh config came from, and what the control plane around it is. */
export interface MeshModel {
  config: MeshConfig;
  /** The namespace of the ServiceMeshControlPlane, else istio-system. */
  controlPlaneNamespace: string;
  /** Maistra's `security.dataPlane.mtls: true`: mesh-wide STRICT unless a root-namespace PeerAuthentication says otherwise. */
  dataPlaneMtls: boolean;
  /** The objects the layers came from, in the order applied (the ServiceMeshControlPlane, then the ConfigMap). */
  sources: ReadonlyArray<{ resource: Resource; pointer: string }>;
  /** Fields that could not be used, where they were written; the layers below them stand for those fields. */
  problems: readonly MeshConfigProblem[];
}

/** The identity of a mesh config read from a file, as istioctl names it in its messages (`MeshConfig istio-system/meshconfig`). */
export const MESH_CONFIG_FILE_KIND = { apiVersion: 'v1alpha1', kind: 'MeshConfig', name: 'meshconfig' } as const;

/** Istio's MeshConfig defaults for the fields Trellis reads. */
export function defaultMeshConfig(controlPlaneNamespace = DEFAULT_CONTROL_PLANE_NAMESPACE): MeshConfig {
  return {
    rootNamespace: controlPlaneNamespace,
    trustDomain: 'cluster.local',
    trustDomainAliases: [],
    enableAutoMtls: true,
    outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
    meshMTLS: {},
    tlsDefaults: {},
    defaultConfig: {},
    extensionProviders: [],
    defaultProviders: { metrics: ['prometheus'] },
    discoverySelectors: [],
    enableTracing: true,
    connectTimeout: '10s',
    ingressService: 'istio-ingressgateway',
    ingressControllerMode: 'STRICT',
  };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const TLS_VERSIONS: readonly string[] = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'];
/** Maistra writes TLS versions as `TLSv1_2`; MeshConfig as `TLSV1_2`. */
const tlsVersion = (v: unknown): TlsVersion | undefined => {
  const s = str(v)?.toUpperCase();
  return s && TLS_VERSIONS.includes(s) ? (s as TlsVersion) : undefined;
};
const stringMap = (v: unknown): Record<string, string> | undefined => {
  const o = obj(v);
  if (!o) return undefined;
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, x === null || x === undefined ? '' : String(x)]));
};

/** A provider entry: its kinds Trellis reads must be mappings (the validators report other values), others are kept. */
function extensionProvider(p: Obj): ExtensionProvider {
  const out: Obj = { ...p };
  for (const kind of ['envoyExtAuthzHttp', 'envoyExtAuthzGrpc', 'prometheus', 'envoyFileAccessLog', 'zipkin', 'opentelemetry']) if (out[kind] !== undefined && !obj(out[kind])) delete out[kind];
  return out as ExtensionProvider;
}

/**
 * One layer of mesh config as written (a ConfigMap's `mesh` document, or an SMCP's meshConfig), read into the typed
 * fields. Values of the wrong type are left out (the validators report them); unknown fields are ignored.
 */
function readLayer(doc: Obj, problems: ProxyConfigProblem[]): Partial<MeshConfig> {
  const out: Partial<MeshConfig> = {};
  if (str(doc.rootNamespace)) out.rootNamespace = str(doc.rootNamespace);
  if (str(doc.trustDomain)) out.trustDomain = str(doc.trustDomain);
  if (strings(doc.trustDomainAliases)) out.trustDomainAliases = strings(doc.trustDomainAliases);
  if (typeof doc.enableAutoMtls === 'boolean') out.enableAutoMtls = doc.enableAutoMtls;
  const mode = str(obj(doc.outboundTrafficPolicy)?.mode);
  if (mode === 'ALLOW_ANY' || mode === 'REGISTRY_ONLY') out.outboundTrafficPolicy = { mode };
  const meshMtls = obj(doc.meshMTLS);
  if (meshMtls) {
    out.meshMTLS = {
      ...(tlsVersion(meshMtls.minProtocolVersion) ? { minProtocolVersion: tlsVersion(meshMtls.minProtocolVersion) } : {}),
      ...(strings(meshMtls.cipherSuites) ? { cipherSuites: strings(meshMtls.cipherSuites) } : {}),
    };
  }
  const tlsDefaults = obj(doc.tlsDefaults);
  if (tlsDefaults) {
    out.tlsDefaults = {
      ...(tlsVersion(tlsDefaults.minProtocolVersion) ? { minProtocolVersion: tlsVersion(tlsDefaults.minProtocolVersion) } : {}),
      ...(strings(tlsDefaults.ecdhCurves) ? { ecdhCurves: strings(tlsDefaults.ecdhCurves) } : {}),
      ...(strings(tlsDefaults.cipherSuites) ? { cipherSuites: strings(tlsDefaults.cipherSuites) } : {}),
    };
  }
  if (doc.defaultConfig !== undefined) {
    const dc = readProxyConfig(doc.defaultConfig);
    out.defaultConfig = dc.config;
    problems.push(...dc.problems.map((p) => ({ field: `defaultConfig${p.field ? '.' + p.field : ''}`, message: p.message })));
  }
  if (Array.isArray(doc.extensionProviders)) {
    out.extensionProviders = doc.extensionProviders.map(obj).filter((p): p is Obj => !!p && typeof p.name === 'string' && p.name !== '').map(extensionProvider);
  }
  const dp = obj(doc.defaultProviders);
  if (dp) {
    out.defaultProviders = {};
    for (const k of ['metrics', 'accessLogging', 'tracing'] as const) if (strings(dp[k])) out.defaultProviders[k] = strings(dp[k]);
  }
  if (Array.isArray(doc.discoverySelectors)) out.discoverySelectors = doc.discoverySelectors.map(obj).filter((s): s is Obj => !!s) as LabelSelector[];
  if (typeof doc.accessLogFile === 'string') out.accessLogFile = doc.accessLogFile;
  if (doc.accessLogEncoding === 'TEXT' || doc.accessLogEncoding === 'JSON') out.accessLogEncoding = doc.accessLogEncoding;
  if (typeof doc.accessLogFormat === 'string') out.accessLogFormat = doc.accessLogFormat;
  if (typeof doc.enableTracing === 'boolean') out.enableTracing = doc.enableTracing;
  if (str(doc.connectTimeout)) out.connectTimeout = str(doc.connectTimeout);
  if (str(doc.ingressService)) out.ingressService = str(doc.ingressService);
  const ingressMode = str(doc.ingressControllerMode);
  if (ingressMode === 'OFF' || ingressMode === 'DEFAULT' || ingressMode === 'STRICT') out.ingressControllerMode = ingressMode;
  return out;
}

/** Applies one layer over the config so far, the way istiod applies a mesh config file over its defaults. */
function applyLayer(base: MeshConfig, layer: Partial<MeshConfig>): MeshConfig {
  const providers = [...base.extensionProviders];
  for (const p of layer.extensionProviders ?? []) {
    const i = providers.findIndex((q) => q.name === p.name);
    if (i >= 0) providers[i] = p;
    else providers.push(p);
  }
  return {
    ...base,
    ...layer,
    defaultConfig: mergeProxyConfig(base.defaultConfig, layer.defaultConfig),
    defaultProviders: { ...base.defaultProviders, ...layer.defaultProviders },
    extensionProviders: providers,
    trustDomainAliases: [...new Set([...base.trustDomainAliases, ...(layer.trustDomainAliases ?? [])])],
  };
}

/** The Maistra fields of a ServiceMeshControlPlane that are mesh config, as OpenShift Service Mesh renders them. */
function smcpLayer(spec: ServiceMeshControlPlaneSpec): Partial<MeshConfig> {
  const out: Partial<MeshConfig> = {};
  const security = obj(spec.security);
  const trust = str(obj(security?.trust)?.domain);
  if (trust) out.trustDomain = trust;
  const aliases = strings(obj(security?.trust)?.additionalDomains);
  if (aliases) out.trustDomainAliases = aliases;
  const automtls = obj(security?.dataPlane)?.automtls;
  if (typeof automtls === 'boolean') out.enableAutoMtls = automtls;
  // controlPlane.tls sets the mesh's TLS settings: Maistra applies them to meshMTLS and tlsDefaults alike.
  const tls = obj(obj(security?.controlPlane)?.tls);
  const min = tlsVersion(tls?.minProtocolVersion);
  const max = tlsVersion(tls?.maxProtocolVersion);
  if (min || max || strings(tls?.cipherSuites)) out.meshMTLS = { ...(min ? { minProtocolVersion: min } : {}), ...(max ? { maxProtocolVersion: max } : {}), ...(strings(tls?.cipherSuites) ? { cipherSuites: strings(tls?.cipherSuites) } : {}) };
  if (tls) {
    out.tlsDefaults = {
      ...(min ? { minProtocolVersion: min } : {}),
      ...(strings(tls.cipherSuites) ? { cipherSuites: strings(tls.cipherSuites) } : {}),
      ...(strings(tls.ecdhCurves) ? { ecdhCurves: strings(tls.ecdhCurves) } : {}),
    };
  }
  const proxy = obj(spec.proxy);
  const policy = str(obj(obj(obj(proxy?.networking)?.trafficControl)?.outbound)?.policy);
  if (policy === 'ALLOW_ANY' || policy === 'REGISTRY_ONLY') out.outboundTrafficPolicy = { mode: policy };
  const defaultConfig: ProxyConfig = {};
  if (typeof proxy?.concurrency === 'number' && Number.isInteger(proxy.concurrency) && proxy.concurrency >= 0) defaultConfig.concurrency = proxy.concurrency;
  const tracing = obj(spec.tracing);
  // Maistra's sampling is in hundredths of a percent (10000 = 100%); ProxyConfig's in percent.
  if (typeof tracing?.sampling === 'number') defaultConfig.tracing = { sampling: tracing.sampling / 100 };
  if (tracing?.type === 'None') out.enableTracing = false;
  if (Object.keys(defaultConfig).length) out.defaultConfig = defaultConfig;
  const file = obj(obj(proxy?.accessLogging)?.file);
  if (typeof file?.name === 'string') out.accessLogFile = file.name;
  if (typeof file?.format === 'string') out.accessLogFormat = file.format;
  if (file?.encoding === 'TEXT' || file?.encoding === 'JSON') out.accessLogEncoding = file.encoding;
  return out;
}

const isSmcp = (r: Resource) => r.group === 'maistra.io' && r.kind === 'ServiceMeshControlPlane';

/**
 * The mesh config of the control plane in `scope.controlPlaneNamespace` (its ServiceMeshControlPlane and ConfigMap),
 * or, when none is named, of the first ServiceMeshControlPlane (else Istio's `istio-system`). `overrides` are a last
 * layer, for what a control plane is told on its command line. `scope.meshConfigFile` is a mesh config document read
 * from a file (`trellis analyze --meshConfigFile`, as `istioctl analyze` has it; see `meshConfigFileResource`): it
 * stands for the in-cluster mesh config, so it takes the place of the `istio` ConfigMap (which is then not read) above
 * the ServiceMeshControlPlane and below `overrides`.
 */
export function buildMeshModel(resources: readonly Resource[], overrides?: Partial<MeshConfig>, scope: { controlPlaneNamespace?: string; meshConfigFile?: Resource } = {}): MeshModel {
  const { controlPlaneNamespace: named, meshConfigFile } = scope;
  const smcp = named === undefined ? resources.find(isSmcp) : resources.find((r) => isSmcp(r) && r.metadata.namespace === named);
  const controlPlaneNamespace = named ?? smcp?.metadata.namespace ?? DEFAULT_CONTROL_PLANE_NAMESPACE;
  let config = defaultMeshConfig(controlPlaneNamespace);
  const sources: MeshModel['sources'][number][] = [];
  const problems: MeshConfigProblem[] = [];
  const layer = (doc: Obj, resource: Resource, pointer: string) => {
    const found: ProxyConfigProblem[] = [];
    config = applyLayer(config, readLayer(doc, found));
    problems.push(...found.map((p) => ({ resource, pointer, ...p })));
  };
  let dataPlaneMtls = false;
  if (smcp) {
    const spec = smcp.spec as ServiceMeshControlPlaneSpec;
    config = applyLayer(config, smcpLayer(spec));
    const techPreview = obj(obj(spec.techPreview)?.meshConfig);
    if (techPreview) layer(techPreview, smcp, '/spec/techPreview/meshConfig');
    const meshConfig = obj(spec.meshConfig);
    if (meshConfig) layer(meshConfig, smcp, '/spec/meshConfig');
    dataPlaneMtls = obj(obj(spec.security)?.dataPlane)?.mtls === true;
    sources.push({ resource: smcp, pointer: '/spec' });
  }
  const names = ['istio', ...(smcp ? [`istio-${smcp.metadata.name}`] : [])];
  const configMap = meshConfigFile ? undefined : names
    .map((n) => resources.find((r) => r.group === '' && r.kind === 'ConfigMap' && r.metadata.namespace === controlPlaneNamespace && r.metadata.name === n))
    .find((r) => r !== undefined && typeof obj(r.raw.data)?.mesh === 'string');
  if (configMap) {
    let doc: unknown;
    try {
      doc = parseYaml(obj(configMap.raw.data)!.mesh as string);
    } catch (err) {
      doc = err as Error;
    }
    if (doc instanceof Error || (doc !== null && doc !== undefined && !obj(doc))) {
      // The analyzers report this one with its position; the mesh keeps the layers below.
      problems.push({ resource: configMap, pointer: '/data/mesh', field: '', message: `the mesh config is not a YAML mapping${doc instanceof Error ? ': ' + doc.message.split('\n')[0] : ''}` });
    } else {
      layer(obj(doc) ?? {}, configMap, '/data/mesh');
      sources.push({ resource: configMap, pointer: '/data/mesh' });
    }
  }
  if (meshConfigFile) {
    layer(meshConfigFile.raw, meshConfigFile, '');
    sources.push({ resource: meshConfigFile, pointer: '' });
  }
  if (overrides) config = applyLayer(config, overrides);
  return { config, controlPlaneNamespace, dataPlaneMtls, sources, problems };
}

const models = new WeakMap<readonly Resource[], Map<string, MeshModel>>();

/** `buildMeshModel`, once per resource list and control plane: a config version is one list, read by every part. */
export function meshModelOf(resources: readonly Resource[], overrides?: Partial<MeshConfig>, controlPlaneNamespace?: string): MeshModel {
  if (overrides && Object.keys(overrides).length) return buildMeshModel(resources, overrides, { controlPlaneNamespace });
  let byPlane = models.get(resources);
  if (!byPlane) models.set(resources, (byPlane = new Map()));
  const key = controlPlaneNamespace ?? '';
  let m = byPlane.get(key);
  if (!m) byPlane.set(key, (m = buildMeshModel(resources, undefined, { controlPlaneNamespace })));
  return m;
}
