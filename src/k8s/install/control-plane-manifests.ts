// The Kubernetes objects of one control plane, rendered from its ServiceMeshControlPlane as OpenShift Service Mesh's
// operator names them: istiod-<smcp> ServiceAccount, Deployment and Service, and RBAC for its topology (a ClusterRole
// for a ClusterWide mesh; for a MultiTenant one, a Role in its namespace and in each member, and only the cluster-scoped
// reads it needs cluster-wide). spec.runtime.defaults and spec.runtime.components.pilot give replicas, nodeSelector,
// tolerations and resources, so the control plane can run on infrastructure nodes.

import type { ControlPlaneInfo } from '../../config/mesh-topology.js';
import { PORTS } from '../../ports.js';
import { VERSION } from '../../version.js';

type Json = Record<string, unknown>;

/** The image that runs `trellis controlplane` (built from the repository's Dockerfile). */
export const DEFAULT_CONTROL_PLANE_IMAGE = `quay.io/trellis/trellis:${VERSION}`;
/** What the operator's objects carry, so it finds what it made (and deletes it with its SMCP). */
export const OWNER_LABEL = 'maistra.io/owner';
export const OWNER_NAME_LABEL = 'maistra.io/owner-name';

export interface RenderOptions {
  image?: string;
}

interface RuntimeParts {
  deployment?: { replicas?: number };
  pod?: { nodeSelector?: Record<string, string>; tolerations?: unknown[]; affinity?: unknown; priorityClassName?: string };
  container?: { resources?: unknown; image?: string; imagePullPolicy?: string };
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** spec.runtime.components.<name> over spec.runtime.defaults, as OpenShift Service Mesh merges them. */
export function componentRuntime(spec: unknown, component: string): RuntimeParts {
  const runtime = obj(obj(spec).runtime);
  const defaults = obj(runtime.defaults) as RuntimeParts;
  const own = obj(obj(runtime.components)[component]) as RuntimeParts;
  return {
    deployment: { ...defaults.deployment, ...own.deployment },
    pod: { ...defaults.pod, ...own.pod },
    container: { ...defaults.container, ...own.container },
  };
}

/** Read access to what the control plane watches (src/k8s/resource-types.ts) in the API groups it serves. */
const READ = ['get', 'list', 'watch'];
const NAMESPACED_RULES = [
  { apiGroups: [''], resources: ['services', 'endpoints', 'pods', 'secrets', 'configmaps', 'serviceaccounts'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'gateway.networking.k8s.io'], resources: ['*'], verbs: READ },
  { apiGroups: ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io', 'gateway.networking.k8s.io'], resources: ['*/status'], verbs: ['update', 'patch'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'update', 'patch'] },
];
/** What any topology needs cluster-wide: the kinds that decide membership, token reviews, its webhook configuration. */
const CLUSTER_RULES = [
  { apiGroups: [''], resources: ['namespaces'], verbs: READ },
  { apiGroups: ['maistra.io'], resources: ['*'], verbs: READ },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
];

/** Every object of the control plane of `plane` (which must have an SMCP), in apply order. */
export function renderControlPlane(plane: ControlPlaneInfo, o: RenderOptions = {}): Json[] {
  const smcp = plane.smcp;
  if (!smcp) throw new Error(`control plane ${plane.namespace}/${plane.name} has no ServiceMeshControlPlane`);
  const ns = plane.namespace;
  const name = `istiod-${plane.name}`;
  const labels = { app: 'istiod', 'istio.io/rev': plane.name, [OWNER_LABEL]: ns, [OWNER_NAME_LABEL]: plane.name, 'app.kubernetes.io/managed-by': 'trellis', 'app.kubernetes.io/part-of': 'trellis' };
  const selector = { app: 'istiod', 'istio.io/rev': plane.name };
  const meta = (n: string, namespace?: string) => ({ name: n, ...(namespace ? { namespace } : {}), labels });
  const rt = componentRuntime(smcp.spec, 'pilot');
  const subject = [{ kind: 'ServiceAccount', name, namespace: ns }];

  const serviceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, ns) };
  const ports = [
    { name: 'grpc-xds', port: PORTS.xds, containerPort: PORTS.xds },
    { name: 'https-dns', port: PORTS.xdsTls, containerPort: PORTS.xdsTls },
    { name: 'https-webhook', port: 443, containerPort: PORTS.injectionWebhook },
    { name: 'http-monitoring', port: PORTS.controlPlaneMonitoring, containerPort: PORTS.controlPlaneMonitoring },
  ];
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, ns),
    spec: {
      replicas: rt.deployment?.replicas ?? 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, 'sidecar.istio.io/inject': 'false' } },
        spec: {
          serviceAccountName: name,
          ...(rt.pod?.nodeSelector ? { nodeSelector: rt.pod.nodeSelector } : {}),
          ...(rt.pod?.tolerations ? { tolerations: rt.pod.tolerations } : {}),
          ...(rt.pod?.affinity ? { affinity: rt.pod.affinity } : {}),
          ...(rt.pod?.priorityClassName ? { priorityClassName: rt.pod.priorityClassName } : {}),
          containers: [
            {
              name: 'discovery',
              image: rt.container?.image ?? o.image ?? DEFAULT_CONTROL_PLANE_IMAGE,
              ...(rt.container?.imagePullPolicy ? { imagePullPolicy: rt.container.imagePullPolicy } : {}),
              args: ['controlplane', '--in-cluster', '--namespace', ns, '--bind', '0.0.0.0', '--ca-port', String(PORTS.xdsTls), '--state-dir', '/var/lib/trellis', '--webhook-service', name],
              ports: ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: 'TCP' })),
              readinessProbe: { httpGet: { path: '/ready', port: PORTS.controlPlaneMonitoring }, initialDelaySeconds: 1, periodSeconds: 3 },
              resources: rt.container?.resources ?? { requests: { cpu: '10m', memory: '128Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
              volumeMounts: [{ name: 'state', mountPath: '/var/lib/trellis' }],
            },
          ],
          volumes: [{ name: 'state', emptyDir: {} }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, ns),
    spec: { selector, ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.containerPort, protocol: 'TCP' })) },
  };
  // Cluster-scoped names carry the namespace: two control planes may share an SMCP name.
  const clusterName = `${name}-${ns}`;
  const rbac: Json[] = [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(clusterName), rules: plane.mode === 'ClusterWide' ? [...CLUSTER_RULES, ...NAMESPACED_RULES] : CLUSTER_RULES },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta(clusterName), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName }, subjects: subject },
  ];
  if (plane.mode !== 'ClusterWide') {
    // A multi-tenant control plane reads config and services only where it serves: its namespace and its members.
    for (const member of [ns, ...[...plane.members].filter((m) => m !== ns).sort()]) {
      rbac.push(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(name, member), rules: NAMESPACED_RULES },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta(name, member), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: subject },
      );
    }
  }
  return [serviceAccount, ...rbac, deployment, service];
}
