// Which control planes a set of resources declares and which namespaces belong to each: OpenShift Service Mesh's
// model (a ServiceMeshControlPlane per control-plane namespace, MultiTenant with a member roll or ClusterWide with
// discovery and member selectors, ServiceMeshMembers asking to join) and community Istio's (one control plane,
// discoverySelectors, injection labels). The runtime, the control plane's scope, analysis, status and the console all
// ask this one module who owns a namespace and whether a workload gets a sidecar.

import { ambientEnrolment, anyAmbientLabel, type AmbientDecision } from './ambient.js';
import { matchesLabelSelector } from './labels.js';
import { meshModelOf, type MeshModel } from './mesh-config.js';
import type { Resource } from './resource.js';
import { podTemplateOf, type LabelSelector } from './types/kubernetes.js';
import type { ServiceMeshControlPlaneSpec, ServiceMeshMemberRollSpec, ServiceMeshMemberSpec } from './types/maistra.js';

export type ControlPlaneMode = 'MultiTenant' | 'ClusterWide';

export const INJECT_ANNOTATION = 'sidecar.istio.io/inject';
export const INJECTION_LABEL = 'istio-injection';
export const REVISION_LABEL = 'istio.io/rev';
/** The label OpenShift Service Mesh puts on member namespaces: the control plane namespace they belong to. */
export const MEMBER_OF_LABEL = 'maistra.io/member-of';
/** OpenShift Service Mesh's default member selector in cluster-wide mode. */
export const DEFAULT_MEMBER_SELECTOR: LabelSelector = { matchLabels: { [INJECTION_LABEL]: 'enabled' } };

/** Namespaces that never join a mesh (Kubernetes' and OpenShift's own). */
const SYSTEM_NAMESPACE = /^(kube-|openshift)/;

/** How workloads reach the certificate authority of a control plane. */
export type CertificateAuthorityPlan = { type: 'Istiod' } | { type: 'cert-manager'; address: string } | { type: 'Custom'; address: string };

export interface GatewayPlanSpec {
  name: string;
  kind: 'ingress' | 'egress';
  /** `istio: <label>` selects it (Istio's Gateway selector convention). */
  istioLabel: string;
  /** Service ports (port → targetPort), Istio's defaults unless the control plane lists its own. */
  ports: Array<{ name: string; port: number; targetPort: number }>;
}

export interface ControlPlaneSettings {
  version: string | undefined;
  ca: CertificateAuthorityPlan;
  gateways: GatewayPlanSpec[];
  /** `spec.addons.prometheus.enabled` (default true) and the console (`spec.addons.kiali.enabled`, default true). */
  prometheus: boolean;
  console: boolean;
  /** Whether it serves the Kubernetes Gateway API: always for Istio's, `spec.techPreview.gatewayAPI.enabled` for an SMCP. */
  gatewayAPI: boolean;
}

export interface MemberStatus {
  namespace: string;
  /** Configured: it is this control plane's member; Pending: it is named but not yet there (no object lives in it and
   * no Namespace declares it); Conflict: another control plane claimed it first. */
  state: 'Configured' | 'Pending' | 'Conflict';
  /** For a conflict: the control plane that has it. */
  claimedBy?: string;
  /** How it joined: listed in the member roll, selected by a member selector, or a ServiceMeshMember in it. */
  via: 'members' | 'memberSelectors' | 'ServiceMeshMember' | 'control plane';
}

export interface ControlPlaneInfo {
  /** Its name: the ServiceMeshControlPlane's, or `istio` for a plain Istio control plane (no SMCP). */
  name: string;
  /** The control-plane namespace, which identifies it (OpenShift Service Mesh allows one per namespace). */
  namespace: string;
  /** The ServiceMeshControlPlane, when there is one. */
  smcp?: Resource<ServiceMeshControlPlaneSpec>;
  /** ClusterWide for a plain Istio control plane ("consistent with community Istio"). */
  mode: ControlPlaneMode;
  /** Its mesh config: defaults < its ServiceMeshControlPlane < its `istio` ConfigMap. */
  model: MeshModel;
  settings: ControlPlaneSettings;
  memberRoll?: Resource<ServiceMeshMemberRollSpec>;
  /** Namespaces whose workloads get sidecars from it (and, with its own namespace, whose config it reads). */
  members: ReadonlySet<string>;
  /** Every namespace the member roll, selectors or ServiceMeshMembers name, with what became of it. */
  memberStatuses: readonly MemberStatus[];
  /** Namespaces whose config and services it sees (discovery). */
  watches(namespace: string): boolean;
}

export interface InjectionDecision {
  inject: boolean;
  /** The control plane the workload's sidecar connects to (when inject), else the one that owns its namespace, if any. */
  controlPlane?: ControlPlaneInfo;
  /** Why, in words a user recognises (for `trellis up` and the console). */
  reason: string;
}

export interface MeshTopology {
  controlPlanes: readonly ControlPlaneInfo[];
  /** No ServiceMeshControlPlane, no injection label anywhere: every workload gets a sidecar (the local convenience). */
  meshEverything: boolean;
  /** Every namespace known: declared, or holding an object, or a control plane's. */
  namespaces: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The control plane a namespace is a member of (its own namespace included). */
  ownerOf(namespace: string): ControlPlaneInfo | undefined;
  /** Whether a workload with these pod labels and annotations gets a sidecar, and from which control plane. */
  injection(namespace: string, podLabels: Readonly<Record<string, string>>, podAnnotations: Readonly<Record<string, string>>): InjectionDecision;
  /**
   * Whether such a workload is enrolled in ambient mode (captured by the node proxy, no sidecar): Istio's
   * `istio.io/dataplane-mode` rule, in a namespace some control plane owns.
   */
  ambient(namespace: string, podLabels: Readonly<Record<string, string>>, podAnnotations: Readonly<Record<string, string>>): AmbientDecision & { controlPlane?: ControlPlaneInfo };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);

const INGRESS_PORTS = [
  { name: 'status-port', port: 15021, targetPort: 15021 },
  { name: 'http2', port: 80, targetPort: 8080 },
  { name: 'https', port: 443, targetPort: 8443 },
];
export const EGRESS_PORTS = [
  { name: 'http2', port: 80, targetPort: 8080 },
  { name: 'https', port: 443, targetPort: 8443 },
];

function servicePorts(gateway: Obj | undefined, dflt: GatewayPlanSpec['ports']): GatewayPlanSpec['ports'] {
  const ports = (obj(gateway?.service)?.ports ?? undefined) as unknown;
  if (!Array.isArray(ports)) return dflt;
  return ports
    .map(obj)
    .filter((p): p is Obj => !!p && typeof p.port === 'number')
    .map((p) => ({ name: typeof p.name === 'string' ? p.name : String(p.port), port: p.port as number, targetPort: typeof p.targetPort === 'number' ? p.targetPort : (p.port as number) }));
}

/** The runtime settings of a ServiceMeshControlPlane (or a plain Istio control plane's defaults). */
export function controlPlaneSettings(spec: ServiceMeshControlPlaneSpec | undefined): ControlPlaneSettings {
  if (!spec) {
    // Istio's default profile: istiod and an ingress gateway; Prometheus and the console are Trellis's conveniences.
    return { version: undefined, ca: { type: 'Istiod' }, gateways: [{ name: 'istio-ingressgateway', kind: 'ingress', istioLabel: 'ingressgateway', ports: INGRESS_PORTS }], prometheus: true, console: true, gatewayAPI: true };
  }
  const ca = obj(obj(spec.security)?.certificateAuthority);
  const caPlan: CertificateAuthorityPlan =
    ca?.type === 'cert-manager' && typeof obj(ca.certManager)?.address === 'string'
      ? { type: 'cert-manager', address: obj(ca.certManager)!.address as string }
      : ca?.type === 'Custom' && typeof obj(ca.custom)?.address === 'string'
        ? { type: 'Custom', address: obj(ca.custom)!.address as string }
        : { type: 'Istiod' };
  const gw = obj(spec.gateways);
  const all = bool(gw?.enabled, true);
  const gateways: GatewayPlanSpec[] = [];
  // OpenShift Service Mesh enables both default gateways unless told otherwise.
  if (all && bool(obj(gw?.ingress)?.enabled, true)) gateways.push({ name: 'istio-ingressgateway', kind: 'ingress', istioLabel: 'ingressgateway', ports: servicePorts(obj(gw?.ingress), INGRESS_PORTS) });
  if (all && bool(obj(gw?.egress)?.enabled, true)) gateways.push({ name: 'istio-egressgateway', kind: 'egress', istioLabel: 'egressgateway', ports: servicePorts(obj(gw?.egress), EGRESS_PORTS) });
  for (const [key, kind] of [['additionalIngress', 'ingress'], ['additionalEgress', 'egress']] as const) {
    for (const [name, g] of Object.entries(obj(gw?.[key]) ?? {})) {
      const o = obj(g);
      if (!all || !bool(o?.enabled, true)) continue;
      gateways.push({ name, kind, istioLabel: name.replace(/^istio-/, ''), ports: servicePorts(o, kind === 'ingress' ? INGRESS_PORTS : EGRESS_PORTS) });
    }
  }
  const addons = obj(spec.addons);
  return {
    version: spec.version,
    ca: caPlan,
    gateways,
    prometheus: bool(obj(addons?.prometheus)?.enabled, true),
    console: bool(obj(addons?.kiali)?.enabled, true),
    // A technology preview in OpenShift Service Mesh 2.4: off unless the control plane turns it on.
    gatewayAPI: bool(obj(obj(spec.techPreview)?.gatewayAPI)?.enabled, false),
  };
}

/** The pod's own sidecar.istio.io/inject (the label wins over the annotation, as in Istio), and where it was set. */
const podOptIn = (labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>): { value: boolean; source: string } | undefined => {
  const fromLabel = labels[INJECT_ANNOTATION];
  const v = fromLabel ?? annotations[INJECT_ANNOTATION];
  if (v === undefined) return undefined;
  return { value: v.toLowerCase() === 'true', source: `pod ${fromLabel !== undefined ? 'label' : 'annotation'} ${INJECT_ANNOTATION}=${v}` };
};

/** The namespaces a set of resources knows, with their labels. */
function knownNamespaces(resources: readonly Resource[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const r of resources) if (r.group === '' && r.kind === 'Namespace') out.set(r.metadata.name, { ...r.metadata.labels });
  for (const r of resources) if (r.metadata.namespace && !out.has(r.metadata.namespace)) out.set(r.metadata.namespace, {});
  return out;
}

const creation = (r: Resource<unknown>) => r.metadata.creationTimestamp ?? '';

/** The control planes and their members, with OpenShift Service Mesh's and Istio's rules. */
export function buildMeshTopology(resources: readonly Resource[]): MeshTopology {
  const namespaces = knownNamespaces(resources);
  // Files give no creation time, so load order decides which of two control planes claimed a namespace first.
  const smcps = resources
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.group === 'maistra.io' && r.kind === 'ServiceMeshControlPlane')
    .sort((a, b) => creation(a.r).localeCompare(creation(b.r)) || a.i - b.i)
    .map(({ r }) => r as Resource<ServiceMeshControlPlaneSpec>)
    // OpenShift Service Mesh takes one control plane per namespace.
    .filter((r, i, all) => all.findIndex((o) => o.metadata.namespace === r.metadata.namespace) === i);
  for (const s of smcps) if (!namespaces.has(s.metadata.namespace)) namespaces.set(s.metadata.namespace, {});
  const controlPlaneNamespaces = new Set(smcps.map((s) => s.metadata.namespace));
  const owner = new Map<string, ControlPlaneInfo>();
  const planes: ControlPlaneInfo[] = [];
  // Opting in anywhere (a namespace enabled, a revision, a pod labelled for injection) switches to Istio's own rules;
  // `istio-injection=disabled` alone only opts a namespace out of the convenience.
  const injectionLabelled = [...namespaces.values()].some((l) => l[INJECTION_LABEL] === 'enabled' || !!l[REVISION_LABEL]);
  const podLabelled = resources.some((r) => String(podTemplateOf(r)?.metadata?.labels?.[INJECT_ANNOTATION] ?? '') === 'true');
  // Enrolling anything in ambient mode is opting in to Istio's rules too: no sidecar for everything else.
  const ambientLabelled = anyAmbientLabel(namespaces.values()) || anyAmbientLabel(resources.map((r) => podTemplateOf(r)?.metadata?.labels ?? {}));

  if (smcps.length === 0) {
    const model = meshModelOf(resources);
    const selectors = model.config.discoverySelectors;
    const cpNamespace = model.controlPlaneNamespace;
    const watches = (ns: string) => ns === cpNamespace || selectors.length === 0 || selectors.some((sel) => matchesLabelSelector(sel, { 'kubernetes.io/metadata.name': ns, ...namespaces.get(ns) }));
    const members = new Set([...namespaces.keys()].filter((ns) => watches(ns) && !SYSTEM_NAMESPACE.test(ns)));
    const plane: ControlPlaneInfo = { name: 'istio', namespace: cpNamespace, mode: 'ClusterWide', model, settings: controlPlaneSettings(undefined), members, memberStatuses: [], watches };
    planes.push(plane);
    for (const ns of members) owner.set(ns, plane);
  }

  for (const smcp of smcps) {
    const ns = smcp.metadata.namespace;
    const model = meshModelOf(resources, undefined, ns);
    const mode: ControlPlaneMode = smcp.spec.mode === 'ClusterWide' ? 'ClusterWide' : 'MultiTenant';
    const roll = resources.find((r) => r.group === 'maistra.io' && r.kind === 'ServiceMeshMemberRoll' && r.metadata.namespace === ns && r.metadata.name === 'default') as Resource<ServiceMeshMemberRollSpec> | undefined;
    const statuses: MemberStatus[] = [];
    const members = new Set<string>([ns]);
    const candidates: Array<{ namespace: string; via: MemberStatus['via'] }> = [];
    const named = roll?.spec.members ?? [];
    for (const m of named) {
      if (m === '*') for (const n of namespaces.keys()) candidates.push({ namespace: n, via: 'members' });
      else candidates.push({ namespace: m, via: 'members' });
    }
    const selectors = roll?.spec.memberSelectors?.length ? (roll.spec.memberSelectors as LabelSelector[]) : mode === 'ClusterWide' ? [DEFAULT_MEMBER_SELECTOR] : [];
    for (const [n, labels] of namespaces) if (selectors.some((sel) => matchesLabelSelector(sel, labels))) candidates.push({ namespace: n, via: 'memberSelectors' });
    for (const r of resources) {
      if (r.group !== 'maistra.io' || r.kind !== 'ServiceMeshMember') continue;
      const ref = (r.spec as ServiceMeshMemberSpec).controlPlaneRef;
      if (ref?.namespace === ns && (ref.name === undefined || ref.name === smcp.metadata.name)) candidates.push({ namespace: r.metadata.namespace, via: 'ServiceMeshMember' });
    }
    const seen = new Set<string>();
    for (const c of candidates) {
      if (seen.has(c.namespace) || c.namespace === ns) continue;
      seen.add(c.namespace);
      // `*` and selectors never take a control plane's namespace or a system one; a name that does is a conflict.
      if (c.via !== 'members' || named.includes('*')) {
        if (controlPlaneNamespaces.has(c.namespace) || SYSTEM_NAMESPACE.test(c.namespace)) continue;
      }
      const otherPlane = smcps.find((o) => o.metadata.namespace === c.namespace);
      const taken = owner.get(c.namespace);
      if (taken || otherPlane) {
        const by = taken ?? { namespace: otherPlane!.metadata.namespace, name: otherPlane!.metadata.name };
        statuses.push({ namespace: c.namespace, state: 'Conflict', claimedBy: `${by.namespace}/${by.name}`, via: c.via });
        continue;
      }
      // A namespace named but not there (no Namespace object, nothing in it) waits, as the operator's pending members do.
      const there = namespaces.has(c.namespace);
      statuses.push({ namespace: c.namespace, state: there ? 'Configured' : 'Pending', via: c.via });
      if (there) members.add(c.namespace);
    }
    const discovery = model.config.discoverySelectors;
    const watches =
      mode === 'MultiTenant'
        ? (n: string) => members.has(n)
        : (n: string) => members.has(n) || discovery.length === 0 || discovery.some((sel) => matchesLabelSelector(sel, { 'kubernetes.io/metadata.name': n, ...namespaces.get(n) }));
    const plane: ControlPlaneInfo = { name: smcp.metadata.name, namespace: ns, smcp, mode, model, settings: controlPlaneSettings(smcp.spec), memberRoll: roll, members, memberStatuses: statuses, watches };
    planes.push(plane);
    for (const m of members) owner.set(m, plane);
  }
  const meshEverything = smcps.length === 0 && !injectionLabelled && !podLabelled && !ambientLabelled;

  const topology: MeshTopology = {
    controlPlanes: planes,
    meshEverything,
    namespaces,
    ownerOf: (n) => owner.get(n),
    injection(namespace, podLabels, podAnnotations) {
      const plane = owner.get(namespace);
      const optIn = podOptIn(podLabels, podAnnotations);
      const nsLabels = namespaces.get(namespace) ?? {};
      if (!plane) return { inject: false, reason: `namespace ${namespace} is not a member of any control plane` };
      if (namespace === plane.namespace && plane.smcp) return { inject: false, controlPlane: plane, reason: 'the control plane namespace is not injected' };
      if (optIn?.value === false) return { inject: false, controlPlane: plane, reason: optIn.source };
      if (!plane.smcp) {
        // Community Istio: the namespace label, else the pod's own opt-in; the local convenience when nothing is labelled.
        if (meshEverything) return { inject: nsLabels[INJECTION_LABEL] !== 'disabled', controlPlane: plane, reason: nsLabels[INJECTION_LABEL] === 'disabled' ? 'istio-injection=disabled' : 'no injection labels anywhere: every workload joins the mesh' };
        if (nsLabels[INJECTION_LABEL] === 'disabled') return { inject: false, controlPlane: plane, reason: 'istio-injection=disabled' };
        if (nsLabels[INJECTION_LABEL] === 'enabled' || nsLabels[REVISION_LABEL]) return { inject: true, controlPlane: plane, reason: 'namespace labelled for injection' };
        return optIn ? { inject: true, controlPlane: plane, reason: optIn.source } : { inject: false, controlPlane: plane, reason: 'namespace not labelled for injection' };
      }
      if (plane.mode === 'MultiTenant') {
        // OpenShift Service Mesh's multi-tenant rule: members inject the pods that ask for it.
        return optIn ? { inject: true, controlPlane: plane, reason: `member of ${plane.namespace}/${plane.name}, ${optIn.source}` } : { inject: false, controlPlane: plane, reason: `member of ${plane.namespace}/${plane.name}; pods opt in with ${INJECT_ANNOTATION}: "true"` };
      }
      return { inject: true, controlPlane: plane, reason: `member of ${plane.namespace}/${plane.name} (cluster-wide)` };
    },
    ambient(namespace, podLabels, podAnnotations) {
      const plane = owner.get(namespace);
      if (!plane) return { ambient: false, reason: `namespace ${namespace} is not a member of any control plane` };
      const decision = ambientEnrolment(namespaces.get(namespace) ?? {}, podLabels, topology.injection(namespace, podLabels, podAnnotations).inject);
      return { ...decision, controlPlane: plane };
    },
  };
  return topology;
}

const topologies = new WeakMap<readonly Resource[], MeshTopology>();

/** `buildMeshTopology`, once per resource list (a config version). */
export function meshTopologyOf(resources: readonly Resource[]): MeshTopology {
  let t = topologies.get(resources);
  if (!t) topologies.set(resources, (t = buildMeshTopology(resources)));
  return t;
}
