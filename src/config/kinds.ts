// The catalogue of kinds Trellis understands: group, kind, the API versions people use, and scope.

export interface KindInfo {
  group: string;
  kind: string;
  /** Every version accepted for this kind. The first is the one Trellis writes. */
  versions: readonly string[];
  namespaced: boolean;
  /** Lower-case plural, as in a CRD (`virtualservices`). */
  plural: string;
  /** Versions that still work but that Istio/Kubernetes have deprecated. */
  deprecatedVersions?: readonly string[];
}

const ISTIO_NET = 'networking.istio.io';
const ISTIO_SEC = 'security.istio.io';
const ISTIO_TEL = 'telemetry.istio.io';
const GATEWAY_API = 'gateway.networking.k8s.io';
const MAISTRA = 'maistra.io';

const netVersions = ['v1', 'v1beta1', 'v1alpha3'] as const;
const secVersions = ['v1', 'v1beta1'] as const;

export const KINDS: readonly KindInfo[] = [
  // networking.istio.io
  { group: ISTIO_NET, kind: 'VirtualService', versions: netVersions, namespaced: true, plural: 'virtualservices' },
  { group: ISTIO_NET, kind: 'DestinationRule', versions: netVersions, namespaced: true, plural: 'destinationrules' },
  { group: ISTIO_NET, kind: 'Gateway', versions: netVersions, namespaced: true, plural: 'gateways' },
  { group: ISTIO_NET, kind: 'ServiceEntry', versions: netVersions, namespaced: true, plural: 'serviceentries' },
  { group: ISTIO_NET, kind: 'WorkloadEntry', versions: netVersions, namespaced: true, plural: 'workloadentries' },
  { group: ISTIO_NET, kind: 'WorkloadGroup', versions: ['v1', 'v1beta1', 'v1alpha3'], namespaced: true, plural: 'workloadgroups' },
  { group: ISTIO_NET, kind: 'Sidecar', versions: netVersions, namespaced: true, plural: 'sidecars' },
  { group: ISTIO_NET, kind: 'EnvoyFilter', versions: ['v1alpha3'], namespaced: true, plural: 'envoyfilters' },
  { group: ISTIO_NET, kind: 'ProxyConfig', versions: ['v1beta1'], namespaced: true, plural: 'proxyconfigs' },
  // security.istio.io
  { group: ISTIO_SEC, kind: 'PeerAuthentication', versions: secVersions, namespaced: true, plural: 'peerauthentications' },
  { group: ISTIO_SEC, kind: 'AuthorizationPolicy', versions: secVersions, namespaced: true, plural: 'authorizationpolicies' },
  { group: ISTIO_SEC, kind: 'RequestAuthentication', versions: secVersions, namespaced: true, plural: 'requestauthentications' },
  // telemetry.istio.io
  { group: ISTIO_TEL, kind: 'Telemetry', versions: ['v1', 'v1alpha1'], namespaced: true, plural: 'telemetries' },
  // Kubernetes Gateway API
  { group: GATEWAY_API, kind: 'GatewayClass', versions: ['v1', 'v1beta1', 'v1alpha2'], namespaced: false, plural: 'gatewayclasses' },
  { group: GATEWAY_API, kind: 'Gateway', versions: ['v1', 'v1beta1', 'v1alpha2'], namespaced: true, plural: 'gateways' },
  { group: GATEWAY_API, kind: 'HTTPRoute', versions: ['v1', 'v1beta1', 'v1alpha2'], namespaced: true, plural: 'httproutes' },
  { group: GATEWAY_API, kind: 'GRPCRoute', versions: ['v1', 'v1alpha2'], namespaced: true, plural: 'grpcroutes' },
  { group: GATEWAY_API, kind: 'TCPRoute', versions: ['v1alpha2'], namespaced: true, plural: 'tcproutes' },
  { group: GATEWAY_API, kind: 'TLSRoute', versions: ['v1alpha2'], namespaced: true, plural: 'tlsroutes' },
  { group: GATEWAY_API, kind: 'ReferenceGrant', versions: ['v1beta1', 'v1alpha2'], namespaced: true, plural: 'referencegrants' },
  // Maistra (OpenShift Service Mesh)
  { group: MAISTRA, kind: 'ServiceMeshControlPlane', versions: ['v2', 'v1'], namespaced: true, plural: 'servicemeshcontrolplanes' },
  { group: MAISTRA, kind: 'ServiceMeshMemberRoll', versions: ['v1'], namespaced: true, plural: 'servicemeshmemberrolls' },
  { group: MAISTRA, kind: 'ServiceMeshMember', versions: ['v1'], namespaced: true, plural: 'servicemeshmembers' },
  // Kubernetes core and apps
  { group: '', kind: 'Namespace', versions: ['v1'], namespaced: false, plural: 'namespaces' },
  { group: '', kind: 'Service', versions: ['v1'], namespaced: true, plural: 'services' },
  { group: '', kind: 'Pod', versions: ['v1'], namespaced: true, plural: 'pods' },
  { group: '', kind: 'ServiceAccount', versions: ['v1'], namespaced: true, plural: 'serviceaccounts' },
  { group: '', kind: 'Secret', versions: ['v1'], namespaced: true, plural: 'secrets' },
  { group: '', kind: 'ConfigMap', versions: ['v1'], namespaced: true, plural: 'configmaps' },
  { group: '', kind: 'Endpoints', versions: ['v1'], namespaced: true, plural: 'endpoints' },
  // Kubernetes 1.21 made EndpointSlice v1; 1.20 serves only v1beta1.
  { group: 'discovery.k8s.io', kind: 'EndpointSlice', versions: ['v1', 'v1beta1'], namespaced: true, plural: 'endpointslices' },
  { group: '', kind: 'Node', versions: ['v1'], namespaced: false, plural: 'nodes' },
  { group: 'apps', kind: 'Deployment', versions: ['v1'], namespaced: true, plural: 'deployments' },
  { group: 'apps', kind: 'StatefulSet', versions: ['v1'], namespaced: true, plural: 'statefulsets' },
  { group: 'apps', kind: 'DaemonSet', versions: ['v1'], namespaced: true, plural: 'daemonsets' },
  { group: 'apps', kind: 'ReplicaSet', versions: ['v1'], namespaced: true, plural: 'replicasets' },
  // Read by the analysis only (webhooks, CRD versions): the mesh does not act on them.
  { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', versions: ['v1', 'v1beta1'], namespaced: false, plural: 'mutatingwebhookconfigurations' },
  { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', versions: ['v1', 'v1beta1'], namespaced: false, plural: 'validatingwebhookconfigurations' },
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', versions: ['v1', 'v1beta1'], namespaced: false, plural: 'customresourcedefinitions' },
];

const byGroupKind = new Map<string, KindInfo>(KINDS.map((k) => [`${k.group}/${k.kind}`, k]));

/** The kind's catalogue entry, whatever the version; undefined for a kind Trellis does not know. */
export function kindInfo(group: string, kind: string): KindInfo | undefined {
  return byGroupKind.get(`${group}/${kind}`);
}

export type KindSupport =
  | { status: 'known'; info: KindInfo }
  | { status: 'unknown-kind' }
  | { status: 'unknown-version'; info: KindInfo };

/** Whether `group/version, kind` is something Trellis reads. */
export function kindSupport(group: string, version: string, kind: string): KindSupport {
  const info = kindInfo(group, kind);
  if (!info) return { status: 'unknown-kind' };
  if (!info.versions.includes(version)) return { status: 'unknown-version', info };
  return { status: 'known', info };
}

/** Short names used in messages and by the CLI: `gw` means an Istio Gateway, as with kubectl. */
export const GROUPS = { ISTIO_NET, ISTIO_SEC, ISTIO_TEL, GATEWAY_API, MAISTRA } as const;
