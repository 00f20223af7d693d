// Workload policies indexed once per config version: PeerAuthentication, AuthorizationPolicy, RequestAuthentication and
// Telemetry by namespace, with Istio's rules for which of them apply to a workload. Builders ask "what applies to this
// workload", answered from two namespaces' lists (the workload's and the root's) and remembered per workload shape,
// instead of scanning every resource for every workload port.

import { matchesLabels, nonEmptySelectorMatches } from '../../config/labels.js';
import type { Resource } from '../../config/resource.js';
import type { AuthorizationPolicySpec, PeerAuthenticationSpec, PolicyTargetReference, RequestAuthenticationSpec } from '../../config/types/security.js';
import type { TelemetrySpec } from '../../config/types/telemetry.js';

/** A workload as policies see it: where it runs and its labels. */
export interface WorkloadRef {
  namespace: string;
  labels: Record<string, string>;
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

type Spec = { selector?: { matchLabels?: Record<string, string> }; targetRef?: PolicyTargetReference; targetRefs?: PolicyTargetReference[] };

/** The label Istio's deployment controller puts on the workloads of a Gateway API Gateway. */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Whether a policy (AuthorizationPolicy, RequestAuthentication, Telemetry …) selects a workload, by Istio's rules. */
export function policyApplies(r: Resource<unknown>, rootNamespace: string, w: WorkloadRef): boolean {
  const spec = r.spec as Spec;
  const refs = [...(spec.targetRef ? [spec.targetRef] : []), ...(spec.targetRefs ?? [])];
  if (refs.length) {
    // Attached to Gateway API Gateways: the workloads deployed for them carry the gateway-name label. Other kinds
    // (Service, ServiceEntry) address waypoints, which sidecars ignore as Istio's do.
    return r.metadata.namespace === w.namespace && refs.some((t) => t.kind === 'Gateway' && (t.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' && w.labels[GATEWAY_NAME_LABEL] === t.name);
  }
  const selects = matchesLabels(spec.selector?.matchLabels, w.labels);
  // Root-namespace policies apply mesh-wide (to the selected workloads in every namespace).
  if (r.metadata.namespace === rootNamespace) return selects;
  return r.metadata.namespace === w.namespace && selects;
}

const hasSelector = (r: Resource<unknown>) => Object.keys((r.spec as Spec).selector?.matchLabels ?? {}).length > 0;
const byNamespaceThenName = (a: Resource<unknown>, b: Resource<unknown>) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);
const mtlsMode = (m: string | undefined): MtlsMode | undefined => (m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : undefined);
const workloadKey = (w: WorkloadRef) => `${w.namespace}|${Object.entries(w.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}`;

/** Resources of one kind by namespace, in load order. */
class ByNamespace<S> {
  private readonly map = new Map<string, Array<Resource<S>>>();

  add(r: Resource): void {
    const list = this.map.get(r.metadata.namespace);
    if (list) list.push(r as Resource<S>);
    else this.map.set(r.metadata.namespace, [r as Resource<S>]);
  }

  in(namespace: string): ReadonlyArray<Resource<S>> {
    return this.map.get(namespace) ?? [];
  }

  all(): Array<Resource<S>> {
    return [...this.map.values()].flat();
  }
}

export class PolicyIndex {
  private readonly peerAuthentications = new ByNamespace<PeerAuthenticationSpec>();
  private readonly authorizationPolicies = new ByNamespace<AuthorizationPolicySpec>();
  private readonly requestAuthentications = new ByNamespace<RequestAuthenticationSpec>();
  private readonly telemetries = new ByNamespace<TelemetrySpec>();
  private readonly memo = new Map<string, unknown>();

  /**
   * @param rootNamespace where mesh-wide policies live
   * @param defaultMtls the mesh-wide mode when no root-namespace PeerAuthentication sets one (Istio: PERMISSIVE;
   *   OpenShift Service Mesh's `security.dataPlane.mtls: true`: STRICT)
   */
  constructor(
    resources: readonly Resource[],
    readonly rootNamespace: string,
    readonly defaultMtls: MtlsMode = 'PERMISSIVE',
  ) {
    for (const r of resources) {
      if (r.group === 'security.istio.io' && r.kind === 'PeerAuthentication') this.peerAuthentications.add(r);
      else if (r.group === 'security.istio.io' && r.kind === 'AuthorizationPolicy') this.authorizationPolicies.add(r);
      else if (r.group === 'security.istio.io' && r.kind === 'RequestAuthentication') this.requestAuthentications.add(r);
      else if (r.group === 'telemetry.istio.io' && r.kind === 'Telemetry') this.telemetries.add(r);
    }
  }

  private remember<T>(key: string, make: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = make();
    this.memo.set(key, v);
    return v;
  }

  /** The policies of one kind that apply to a workload: root namespace and its own, sorted by namespace/name as Istio does. */
  private applying<S>(kind: string, index: ByNamespace<S>, w: WorkloadRef): ReadonlyArray<Resource<S>> {
    return this.remember(`${kind}|${workloadKey(w)}`, () => {
      const candidates = w.namespace === this.rootNamespace ? index.in(w.namespace) : [...index.in(this.rootNamespace), ...index.in(w.namespace)];
      return candidates.filter((r) => policyApplies(r, this.rootNamespace, w)).sort(byNamespaceThenName);
    });
  }

  authorizationPoliciesFor(w: WorkloadRef): ReadonlyArray<Resource<AuthorizationPolicySpec>> {
    return this.applying('ap', this.authorizationPolicies, w);
  }

  /** Every AuthorizationPolicy in the mesh, by namespace then name (the node proxies' L4 policies are built from them). */
  allAuthorizationPolicies(): Array<Resource<AuthorizationPolicySpec>> {
    return this.remember('ap-all', () => this.authorizationPolicies.all().sort(byNamespaceThenName));
  }

  requestAuthenticationsFor(w: WorkloadRef): ReadonlyArray<Resource<RequestAuthenticationSpec>> {
    return this.applying('ra', this.requestAuthentications, w);
  }

  /** Every RequestAuthentication in the mesh (the JWKS to fetch for this config version). */
  allRequestAuthentications(): Array<Resource<RequestAuthenticationSpec>> {
    return this.requestAuthentications.all();
  }

  /**
   * The Telemetry specs that apply to a workload, broadest first: mesh-wide (root namespace, no selector), then its
   * namespace's (no selector), then those selecting it.
   */
  telemetriesFor(w: WorkloadRef): readonly TelemetrySpec[] {
    return this.remember(`tel|${workloadKey(w)}`, () => {
      const root = this.telemetries.in(this.rootNamespace).filter((r) => !hasSelector(r));
      const own = this.telemetries.in(w.namespace);
      const selecting = own.filter((r) => nonEmptySelectorMatches(r.spec.selector?.matchLabels, w.labels));
      return [...root, ...(w.namespace !== this.rootNamespace ? own.filter((r) => !hasSelector(r)) : []), ...selecting].map((r) => r.spec);
    });
  }

  /** The effective mTLS mode of a workload port: a selecting policy (port level first), then the namespace's, then the mesh's. */
  peerAuthenticationMode(w: WorkloadRef, port: number): MtlsMode {
    return this.remember(`pa|${workloadKey(w)}|${port}`, () => {
      const own = this.peerAuthentications.in(w.namespace);
      const workload = own.find((r) => nonEmptySelectorMatches(r.spec.selector?.matchLabels, w.labels));
      const fromWorkload = workload ? (mtlsMode(workload.spec.portLevelMtls?.[String(port)]?.mode) ?? mtlsMode(workload.spec.mtls?.mode)) : undefined;
      const namespace = own.find((r) => !hasSelector(r));
      const mesh = this.peerAuthentications.in(this.rootNamespace).find((r) => !hasSelector(r));
      return fromWorkload ?? mtlsMode(namespace?.spec.mtls?.mode) ?? mtlsMode(mesh?.spec.mtls?.mode) ?? this.defaultMtls;
    });
  }
}
