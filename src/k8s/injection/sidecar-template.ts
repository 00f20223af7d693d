// Istio's sidecar injection as data: what its injector adds to a pod (the istio-init capture container, the
// istio-proxy container with Istio's environment, the volumes they mount, the sidecar.istio.io/status and default
// container annotations, the tlsMode and canonical-service labels), and the RFC 6902 JSON Patch that turns the pod as
// submitted into the injected one. Pure: the webhook decides whether to inject, this decides what.

import { PORTS } from '../../ports.js';
import { captureOptionsOf, PROXY_UID } from '../../runtime/netns/capture-rules.js';

/** A pod as the API server sends it in an AdmissionReview (only what injection reads or writes is typed). */
export interface PodObject {
  metadata?: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }> };
  spec?: {
    containers?: Array<{ name: string; ports?: Array<{ name?: string; containerPort?: number; protocol?: string }>; [k: string]: unknown }>;
    initContainers?: Array<Record<string, unknown>>;
    volumes?: Array<Record<string, unknown>>;
    serviceAccountName?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface InjectionSettings {
  /** The namespace of the control plane the sidecar connects to (`istiod.<ns>.svc:15012`). */
  controlPlaneNamespace: string;
  /** The proxy image (Istio's proxyv2, or OpenShift Service Mesh's). */
  image: string;
  clusterDomain?: string;
  clusterId?: string;
  meshId?: string;
  /** `default`, or the control plane's revision (an SMCP's name). */
  revision?: string;
}

export interface JsonPatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

/** Istio's sidecar.istio.io/status annotation, which marks a pod as injected and says what was added. */
export const STATUS_ANNOTATION = 'sidecar.istio.io/status';
const VOLUMES = ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'] as const;
const RESOURCES = { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '10m', memory: '40Mi' } };

/** The workload a pod belongs to (its controller; a ReplicaSet's Deployment by Kubernetes' naming), for metadata. */
function workloadOf(pod: PodObject): { name: string; owner: string } {
  const ns = pod.metadata?.namespace ?? '';
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (ref?.kind === 'ReplicaSet' && ref.name) {
    const name = ref.name.replace(/-[a-z0-9]{6,10}$/, '');
    return { name, owner: `kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${name}` };
  }
  if (ref?.kind && ref.name) return { name: ref.name, owner: `kubernetes://apis/${ref.kind === 'Job' ? 'batch' : 'apps'}/v1/namespaces/${ns}/${ref.kind.toLowerCase()}s/${ref.name}` };
  const name = pod.metadata?.name ?? pod.metadata?.generateName?.replace(/-$/, '') ?? '';
  return { name, owner: `kubernetes://apis/v1/namespaces/${ns}/pods/${name}` };
}

function initContainer(pod: PodObject, image: string): Record<string, unknown> {
  // The pod's traffic.sidecar.istio.io/* annotations, checked by the same rules as trellis up's capture.
  const c = captureOptionsOf(pod.metadata?.annotations ?? {}, { dnsCapture: false });
  const inbound = c.includeInboundPorts === '*' ? '*' : c.includeInboundPorts.join(',');
  const excludedInbound = [...new Set([PORTS.envoyStats, PORTS.readiness, PORTS.mergedStats, ...c.excludeInboundPorts])].join(',');
  return {
    name: 'istio-init',
    image,
    args: [
      'istio-iptables', '-p', String(PORTS.outbound), '-z', String(PORTS.inbound), '-u', String(PROXY_UID), '-m', 'REDIRECT',
      '-i', c.includeOutboundIPRanges.join(','), '-x', c.excludeOutboundIPRanges.join(','), '-b', inbound, '-d', excludedInbound,
      ...(c.excludeOutboundPorts.length ? ['-o', c.excludeOutboundPorts.join(',')] : []),
      '--log_output_level=default:info',
    ],
    resources: RESOURCES,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: false, runAsGroup: 0, runAsNonRoot: false, runAsUser: 0 },
  };
}

const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

function proxyContainer(pod: PodObject, s: Required<InjectionSettings>): Record<string, unknown> {
  const apps = pod.spec?.containers ?? [];
  const podPorts = apps.flatMap((c) => c.ports ?? []);
  const workload = workloadOf(pod);
  return {
    name: 'istio-proxy',
    image: s.image,
    args: ['proxy', 'sidecar', '--domain', `$(POD_NAMESPACE).svc.${s.clusterDomain}`, '--proxyLogLevel=warning', '--proxyComponentLogLevel=misc:error', '--log_output_level=default:info'],
    env: [
      { name: 'JWT_POLICY', value: 'third-party-jwt' },
      { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
      { name: 'CA_ADDR', value: `istiod.${s.controlPlaneNamespace}.svc:${PORTS.xdsTls}` },
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      fieldEnv('HOST_IP', 'status.hostIP'),
      { name: 'PROXY_CONFIG', value: '{}\n' },
      { name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(podPorts) },
      { name: 'ISTIO_META_APP_CONTAINERS', value: apps.map((c) => c.name).join(',') },
      { name: 'ISTIO_META_CLUSTER_ID', value: s.clusterId },
      fieldEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
      { name: 'ISTIO_META_INTERCEPTION_MODE', value: 'REDIRECT' },
      { name: 'ISTIO_META_WORKLOAD_NAME', value: workload.name },
      { name: 'ISTIO_META_OWNER', value: workload.owner },
      { name: 'ISTIO_META_MESH_ID', value: s.meshId },
      { name: 'TRUST_DOMAIN', value: s.meshId },
    ],
    ports: [{ containerPort: PORTS.envoyStats, name: 'http-envoy-prom', protocol: 'TCP' }],
    readinessProbe: { httpGet: { path: '/healthz/ready', port: PORTS.readiness }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
    resources: RESOURCES,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: PROXY_UID, runAsNonRoot: true, runAsUser: PROXY_UID },
    volumeMounts: [
      { mountPath: '/var/run/secrets/workload-spiffe-uds', name: 'workload-socket' },
      { mountPath: '/var/run/secrets/credential-uds', name: 'credential-socket' },
      { mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' },
      { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
      { mountPath: '/var/lib/istio/data', name: 'istio-data' },
      { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
      { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
      { mountPath: '/etc/istio/pod', name: 'istio-podinfo' },
    ],
  };
}

const volumes = (): Array<Record<string, unknown>> => [
  { name: 'workload-socket', emptyDir: {} },
  { name: 'credential-socket', emptyDir: {} },
  { name: 'workload-certs', emptyDir: {} },
  { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
  { name: 'istio-data', emptyDir: {} },
  { name: 'istio-podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } },
  // The token the CA checks with a TokenReview: audience istio-ca, as Istio's third-party-jwt policy asks.
  { name: 'istio-token', projected: { sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }] } },
  { name: 'istiod-ca-cert', configMap: { name: 'istio-ca-root-cert' } },
];

/** JSON Pointer escaping of one path segment (RFC 6901). */
const segment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Ops that append items to an array field, creating it when absent (as Istio's patches do). */
function appendOps(path: string, existing: readonly unknown[] | undefined, items: readonly unknown[]): JsonPatchOp[] {
  if (!existing) return [{ op: 'add', path, value: items }];
  return items.map((value) => ({ op: 'add' as const, path: `${path}/-`, value }));
}

/** Ops that set keys of a string map, creating it when absent. */
function mapOps(path: string, existing: Record<string, string> | undefined, entries: Record<string, string>): JsonPatchOp[] {
  if (!existing) return [{ op: 'add', path, value: entries }];
  return Object.entries(entries).map(([k, value]) => ({ op: k in existing ? ('replace' as const) : ('add' as const), path: `${path}/${segment(k)}`, value }));
}

/** The JSON Patch that injects Istio's sidecar into a pod. */
export function injectionPatch(pod: PodObject, settings: InjectionSettings): JsonPatchOp[] {
  const s: Required<InjectionSettings> = { clusterDomain: 'cluster.local', clusterId: 'Kubernetes', meshId: 'cluster.local', revision: 'default', ...settings };
  const labels = pod.metadata?.labels ?? {};
  const apps = pod.spec?.containers ?? [];
  const status = { initContainers: ['istio-init'], containers: ['istio-proxy'], volumes: [...VOLUMES], imagePullSecrets: null, revision: s.revision };
  const annotations: Record<string, string> = {
    'kubectl.kubernetes.io/default-container': apps[0]?.name ?? 'istio-proxy',
    'kubectl.kubernetes.io/default-logs-container': apps[0]?.name ?? 'istio-proxy',
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': String(PORTS.mergedStats),
    'prometheus.io/scrape': 'true',
    [STATUS_ANNOTATION]: JSON.stringify(status),
  };
  const newLabels: Record<string, string> = {
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workloadOf(pod).name,
    'service.istio.io/canonical-revision': labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest',
  };
  return [
    ...appendOps('/spec/initContainers', pod.spec?.initContainers, [initContainer(pod, s.image)]),
    ...appendOps('/spec/containers', pod.spec?.containers, [proxyContainer(pod, s)]),
    ...appendOps('/spec/volumes', pod.spec?.volumes, volumes()),
    ...mapOps('/metadata/annotations', pod.metadata?.annotations, annotations),
    ...mapOps('/metadata/labels', pod.metadata?.labels, newLabels),
  ];
}
