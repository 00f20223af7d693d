// The names `trellis get` takes for a kind, as kubectl takes them: the kind, its plural, its short names (Istio's,
// OpenShift Service Mesh's and Kubernetes' CRD short names), any of them qualified by the group (`gateways.gateway.networking.k8s.io`).

import { GROUPS, KINDS, type KindInfo } from '../config/kinds.js';

/** Short names from the CRDs users know; `gw` and `gateway` mean Istio's Gateway (`gtw` the Gateway API's), as kubectl resolves them in an Istio cluster. */
const SHORT_NAMES: Record<string, { group: string; kind: string }> = {
  vs: { group: GROUPS.ISTIO_NET, kind: 'VirtualService' },
  dr: { group: GROUPS.ISTIO_NET, kind: 'DestinationRule' },
  gw: { group: GROUPS.ISTIO_NET, kind: 'Gateway' },
  se: { group: GROUPS.ISTIO_NET, kind: 'ServiceEntry' },
  we: { group: GROUPS.ISTIO_NET, kind: 'WorkloadEntry' },
  wg: { group: GROUPS.ISTIO_NET, kind: 'WorkloadGroup' },
  pa: { group: GROUPS.ISTIO_SEC, kind: 'PeerAuthentication' },
  ap: { group: GROUPS.ISTIO_SEC, kind: 'AuthorizationPolicy' },
  ra: { group: GROUPS.ISTIO_SEC, kind: 'RequestAuthentication' },
  gtw: { group: GROUPS.GATEWAY_API, kind: 'Gateway' },
  gc: { group: GROUPS.GATEWAY_API, kind: 'GatewayClass' },
  smcp: { group: GROUPS.MAISTRA, kind: 'ServiceMeshControlPlane' },
  smmr: { group: GROUPS.MAISTRA, kind: 'ServiceMeshMemberRoll' },
  smm: { group: GROUPS.MAISTRA, kind: 'ServiceMeshMember' },
  ns: { group: '', kind: 'Namespace' },
  svc: { group: '', kind: 'Service' },
  po: { group: '', kind: 'Pod' },
  sa: { group: '', kind: 'ServiceAccount' },
  cm: { group: '', kind: 'ConfigMap' },
  ep: { group: '', kind: 'Endpoints' },
  deploy: { group: 'apps', kind: 'Deployment' },
};

/** Groups that win when a bare name is ambiguous (Istio's Gateway over the Gateway API's, as in an Istio cluster). */
const PREFERENCE = [GROUPS.ISTIO_NET, GROUPS.ISTIO_SEC, GROUPS.ISTIO_TEL, GROUPS.MAISTRA, '', 'apps', GROUPS.GATEWAY_API];

/** The kind a name means, or undefined. */
export function resolveKind(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const [bare, group] = dot > 0 ? [lower.slice(0, dot), lower.slice(dot + 1)] : [lower, undefined];
  const short = SHORT_NAMES[bare];
  const matches = KINDS.filter((k) => {
    if (group !== undefined && k.group !== group) return false;
    if (short && group === undefined) return k.group === short.group && k.kind === short.kind;
    return k.kind.toLowerCase() === bare || k.plural === bare || (short?.kind === k.kind && short.group === k.group);
  });
  return matches.sort((a, b) => PREFERENCE.indexOf(a.group) - PREFERENCE.indexOf(b.group))[0];
}
