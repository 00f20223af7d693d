// Builds the console's inventory (namespaces, services, workloads, apps, Istio config) from loaded manifests (pure).

import { ambientEnrolment, DATAPLANE_MODE_LABEL } from '../../config/ambient.js';
import { meshTopologyOf, type MeshTopology } from '../../config/mesh-topology.js';
import type { Diagnostic, Level } from '../../config/diagnostics.js';
import { resolveHost, DEFAULT_DOMAIN } from '../../config/hosts.js';
import { nonEmptySelectorMatches } from '../../config/labels.js';
import { resourceKey, type Resource } from '../../config/resource.js';
import type { AppInfo, ConfigObject, MeshInventory, NamespaceInfo, ServiceInfo, SourceRef, Validation, WorkloadInfo } from '../sources.js';

export const INJECT = 'sidecar.istio.io/inject';
const CONTROLLERS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
const CONFIG_GROUPS = ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io', 'gateway.networking.k8s.io', 'maistra.io'];

export interface InventoryOptions {
  /**
   * Whether a workload gets a sidecar when neither it nor its namespace says: `trellis up` injects every workload
   * unless told not to (true); Istio injects only where a namespace asks for it (false).
   */
  injectByDefault?: boolean;
  domain?: string;
  /** Labels that mark a gateway's pods (`istio: ingressgateway`, as Istio's gateway charts set). */
  gatewayLabel?: string;
}

export function isConfigResource(r: Pick<Resource, 'group'>): boolean {
  return CONFIG_GROUPS.includes(r.group);
}

function sourceRef(r: Resource): SourceRef | undefined {
  return r.source ? { file: r.source.file, line: r.source.position.line } : undefined;
}

function toValidation(d: Diagnostic): Validation {
  const v: Validation = { code: d.code, name: d.name, level: d.level, message: d.message };
  if (d.field !== undefined) v.field = d.field;
  if (d.line !== undefined) v.line = d.line;
  if (d.column !== undefined) v.column = d.column;
  return v;
}

const LEVELS: Level[] = ['Error', 'Warning', 'Info'];
export function worstLevel(vs: readonly Validation[]): Level | 'Valid' {
  for (const l of LEVELS) if (vs.some((v) => v.level === l)) return l;
  return 'Valid';
}

/** Diagnostics grouped by the object they are about (`group/Kind/ns/name`). */
function diagnosticsByObject(diagnostics: readonly Diagnostic[]): { byKey: Map<string, Validation[]>; loose: Array<Validation & { file?: string }> } {
  const byKey = new Map<string, Validation[]>();
  const loose: Array<Validation & { file?: string }> = [];
  for (const d of diagnostics) {
    if (!d.resource) {
      loose.push({ ...toValidation(d), ...(d.file ? { file: d.file } : {}) });
      continue;
    }
    const apiVersion = d.resource.apiVersion ?? '';
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
    const key = resourceKey({ group, kind: d.resource.kind, metadata: { namespace: d.resource.namespace, name: d.resource.name } as Resource['metadata'] });
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(toValidation(d));
  }
  return { byKey, loose };
}

function podTemplate(r: Resource): { labels: Record<string, string>; annotations: Record<string, string>; spec: Record<string, unknown> } {
  if (r.kind === 'Pod') return { labels: r.metadata.labels, annotations: r.metadata.annotations, spec: r.spec };
  const t = (r.spec.template ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
  const str = (m: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
  return { labels: str(t.metadata?.labels), annotations: str(t.metadata?.annotations), spec: t.spec ?? {} };
}

/** Whether a workload has a sidecar: its control plane's injection rule (mesh-topology.ts), as `trellis up` decides it. */
function sidecarDecision(topology: MeshTopology, namespace: string, labels: Record<string, string>, annotations: Record<string, string>, injectByDefault: boolean): { sidecar: boolean; reason: string } {
  // Outside `trellis up` nothing is injected by default: with no label anywhere, Istio's rules leave workloads out.
  if (topology.meshEverything && !injectByDefault) return { sidecar: false, reason: 'no injection label on the namespace' };
  const d = topology.injection(namespace, labels, annotations);
  return { sidecar: d.inject, reason: d.reason };
}

/** FQDNs an object routes or applies to, for "the config that applies to this service". */
function configHosts(r: Resource, domain: string): string[] {
  const ns = r.metadata.namespace;
  const spec = r.spec as Record<string, unknown>;
  const strs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  switch (r.kind) {
    case 'VirtualService':
    case 'ServiceEntry':
      return strs(spec.hosts).map((h) => resolveHost(h, ns, domain));
    case 'DestinationRule':
      return typeof spec.host === 'string' ? [resolveHost(spec.host, ns, domain)] : [];
    case 'HTTPRoute':
    case 'GRPCRoute': {
      // The services it sends traffic to, and those whose own traffic it routes (a mesh route's Service parents).
      const rules = Array.isArray(spec.rules) ? (spec.rules as Array<{ backendRefs?: Array<{ name?: string; namespace?: string; kind?: string }> }>) : [];
      const out = new Set<string>();
      for (const rule of rules) for (const b of rule.backendRefs ?? []) if (b.name && (!b.kind || b.kind === 'Service')) out.add(`${b.name}.${b.namespace ?? ns}.svc.${domain}`);
      for (const p of serviceParents(r.spec, ns)) out.add(`${p.name}.${p.namespace}.svc.${domain}`);
      return [...out];
    }
    default:
      return [];
  }
}

/** The Services a Gateway API route names as parents (GAMMA: it routes their traffic), with their namespaces. */
export function serviceParents(spec: unknown, routeNamespace: string): Array<{ namespace: string; name: string }> {
  const refs = (spec as { parentRefs?: unknown } | undefined)?.parentRefs;
  if (!Array.isArray(refs)) return [];
  return (refs as Array<{ group?: string; kind?: string; name?: string; namespace?: string }>)
    .filter((p) => (p.group === '' || p.group === 'core') && p.kind === 'Service' && typeof p.name === 'string')
    .map((p) => ({ namespace: p.namespace ?? routeNamespace, name: p.name! }));
}

function workloadSelector(r: Resource): Record<string, string> | undefined {
  const spec = r.spec as Record<string, unknown>;
  const asMap = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)])) : undefined);
  if (r.group === 'networking.istio.io' && r.kind === 'Gateway') return asMap(spec.selector);
  if (r.kind === 'Sidecar' || r.kind === 'DestinationRule' || r.kind === 'EnvoyFilter') return asMap((spec.workloadSelector as Record<string, unknown> | undefined)?.labels);
  return asMap((spec.selector as Record<string, unknown> | undefined)?.matchLabels);
}

export function buildInventory(resources: readonly Resource[], diagnostics: readonly Diagnostic[], revision: string, options: InventoryOptions = {}): MeshInventory {
  const domain = options.domain ?? DEFAULT_DOMAIN;
  const gatewayLabel = options.gatewayLabel ?? 'istio';
  const { byKey, loose } = diagnosticsByObject(diagnostics);
  const validationsOf = (r: Resource) => byKey.get(resourceKey(r)) ?? [];

  // Later definitions of an object replace earlier ones, as the analysis does.
  const latest = new Map<string, Resource>();
  for (const r of resources) latest.set(resourceKey(r), r);
  const all = [...latest.values()];

  const namespaces = new Map<string, NamespaceInfo>();
  const ensureNs = (name: string) => {
    if (name && !namespaces.has(name)) namespaces.set(name, { name, labels: {} });
  };
  for (const r of all) {
    if (r.group === '' && r.kind === 'Namespace') {
      const labels = r.metadata.labels;
      const info: NamespaceInfo = { name: r.metadata.name, labels };
      if (labels['istio-injection'] === 'enabled' || labels['istio.io/rev']) info.injection = 'enabled';
      else if (labels['istio-injection'] === 'disabled') info.injection = 'disabled';
      if (labels[DATAPLANE_MODE_LABEL] === 'ambient') info.ambient = true;
      namespaces.set(r.metadata.name, info);
    }
  }
  for (const r of all) ensureNs(r.metadata.namespace);
  // Which control plane's mesh each namespace is in (OpenShift Service Mesh's member-of).
  const topology = meshTopologyOf(resources);
  for (const info of namespaces.values()) {
    const owner = topology.ownerOf(info.name);
    if (owner) {
      info.controlPlane = `${owner.namespace}/${owner.name}`;
      info.controlPlaneNamespace = owner.namespace;
    }
  }

  const workloads: WorkloadInfo[] = [];
  for (const r of all) {
    const isController = r.group === 'apps' && CONTROLLERS.has(r.kind);
    const isBarePod = r.group === '' && r.kind === 'Pod' && !(r.metadata.ownerReferences && r.metadata.ownerReferences.length);
    if (!isController && !isBarePod) continue;
    const t = podTemplate(r);
    const decision = sidecarDecision(topology, r.metadata.namespace, t.labels, t.annotations, options.injectByDefault ?? true);
    const ambient = ambientEnrolment(namespaces.get(r.metadata.namespace)?.labels ?? {}, t.labels, decision.sidecar);
    const w: WorkloadInfo = {
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      kind: r.kind,
      labels: t.labels,
      annotations: t.annotations,
      serviceAccount: String(t.spec.serviceAccountName ?? t.spec.serviceAccount ?? 'default'),
      replicas: r.kind === 'Pod' ? 1 : Number((r.spec as { replicas?: number }).replicas ?? 1),
      sidecar: decision.sidecar,
      sidecarReason: decision.reason,
      dataplaneMode: decision.sidecar ? 'sidecar' : ambient.ambient ? 'ambient' : 'none',
      ambientReason: ambient.reason,
      services: [],
      validations: [],
      isGateway: (t.labels[gatewayLabel] ?? '').endsWith('gateway') || /^istio-(ingress|egress)gateway$/.test(r.metadata.name),
    };
    if (t.labels.app) w.app = t.labels.app;
    if (t.labels.version) w.version = t.labels.version;
    const src = sourceRef(r);
    if (src) w.source = src;
    workloads.push(w);
  }

  const services: ServiceInfo[] = [];
  for (const r of all) {
    if (r.group !== '' || r.kind !== 'Service') continue;
    const spec = r.spec as { selector?: Record<string, string>; ports?: Array<{ name?: string; port?: number; targetPort?: number | string; protocol?: string; appProtocol?: string }>; type?: string };
    const selector = spec.selector ?? {};
    const selected = workloads.filter((w) => w.namespace === r.metadata.namespace && nonEmptySelectorMatches(selector, w.labels));
    const s: ServiceInfo = {
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      labels: r.metadata.labels,
      selector,
      ports: (spec.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: Number(p.port ?? 0), ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}), protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
      type: spec.type ?? 'ClusterIP',
      workloads: selected.map((w) => w.name),
      apps: [...new Set(selected.map((w) => w.app).filter((a): a is string => !!a))],
      validations: [],
    };
    const src = sourceRef(r);
    if (src) s.source = src;
    for (const w of selected) w.services.push(s.name);
    services.push(s);
  }

  // An app is the workloads sharing an `app` label in a namespace, and the services in front of them (Kiali's view).
  const apps = new Map<string, AppInfo>();
  for (const w of workloads) {
    if (!w.app) continue;
    const key = `${w.namespace}/${w.app}`;
    let a = apps.get(key);
    if (!a) apps.set(key, (a = { namespace: w.namespace, name: w.app, workloads: [], services: [], versions: [] }));
    a.workloads.push(w.name);
    if (w.version && !a.versions.includes(w.version)) a.versions.push(w.version);
    for (const s of w.services) if (!a.services.includes(s)) a.services.push(s);
  }

  const config: ConfigObject[] = [];
  for (const r of all) {
    if (!isConfigResource(r)) continue;
    const validations = validationsOf(r);
    const c: ConfigObject = {
      kind: r.kind,
      group: r.group,
      apiVersion: r.apiVersion,
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      validations,
      status: worstLevel(validations),
      hosts: configHosts(r, domain),
      object: r.raw,
    };
    const sel = workloadSelector(r);
    if (sel) c.workloadSelector = sel;
    const src = sourceRef(r);
    if (src) c.source = src;
    config.push(c);
  }
  // Findings about plain Kubernetes objects (port names, injection…) go with the service or workload they concern.
  const kinds = new Map<string, Resource>();
  for (const r of all) kinds.set(`${r.kind}/${r.metadata.namespace}/${r.metadata.name}`, r);
  for (const s of services) s.validations = validationsOf(kinds.get(`Service/${s.namespace}/${s.name}`)!);
  for (const w of workloads) w.validations = validationsOf(kinds.get(`${w.kind}/${w.namespace}/${w.name}`)!);

  const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
  return {
    revision,
    namespaces: [...namespaces.values()].sort((a, b) => a.name.localeCompare(b.name)),
    services: services.sort(byName),
    workloads: workloads.sort(byName),
    apps: [...apps.values()].sort(byName),
    config: config.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name)),
    otherValidations: loose,
  };
}
