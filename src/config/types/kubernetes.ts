// Spec shapes of the plain Kubernetes objects Trellis reads (core/v1 and apps/v1), limited to what a mesh uses.

import type { Resource } from '../resource.js';

export interface ServicePort {
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
  port?: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  sessionAffinity?: string;
}

export interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
  hostPort?: number;
}

export interface Probe {
  httpGet?: { path?: string; port?: number | string; scheme?: string; httpHeaders?: Array<{ name?: string; value?: string }> };
  tcpSocket?: { port?: number | string };
  exec?: { command?: string[] };
  grpc?: { port?: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface Container {
  name?: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: ContainerPort[];
  workingDir?: string;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: Record<string, unknown>;
  volumeMounts?: unknown[];
  securityContext?: Record<string, unknown>;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  serviceAccount?: string;
  volumes?: unknown[];
  restartPolicy?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  /** The node the pod is scheduled on (a pod read back from a cluster). */
  nodeName?: string;
  hostNetwork?: boolean;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; name?: string };
  spec?: PodSpec;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }>;
}

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  strategy?: Record<string, unknown>;
}

export type NamespaceSpec = Record<string, unknown>;

export type Service = Resource<ServiceSpec>;
export type Deployment = Resource<DeploymentSpec>;
export type Pod = Resource<PodSpec>;
export type Namespace = Resource<NamespaceSpec>;
/** ServiceAccount, Secret and ConfigMap keep their payload at the top level (`data`, `stringData`), in `raw`. */
export type ServiceAccount = Resource<Record<string, never>>;
export type Secret = Resource<Record<string, never>>;
export type ConfigMap = Resource<Record<string, never>>;

/**
 * The top-level fields of a discovery.k8s.io EndpointSlice (in `raw`), as v1 and v1beta1 (all Kubernetes 1.20 serves)
 * both write them; v1beta1 keeps the zone in `topology`, v1 in `zone`.
 */
export interface EndpointSliceFields {
  addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean }; zone?: string; topology?: Record<string, string> }>;
  ports?: Array<{ name?: string; port?: number; protocol?: string; appProtocol?: string }>;
}
export type EndpointSlice = Resource<Record<string, never>>;

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The pod template of a workload kind (Deployment, StatefulSet, DaemonSet, ReplicaSet), or a Pod's own spec. */
export function podTemplateOf(r: Resource): PodTemplate | undefined {
  if (r.group === '' && r.kind === 'Pod') return { metadata: { labels: r.metadata.labels, annotations: r.metadata.annotations }, spec: r.spec as PodSpec };
  if (r.group === 'apps') return (r.spec as DeploymentSpec).template;
  return undefined;
}
