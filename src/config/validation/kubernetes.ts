// Validation of the plain Kubernetes objects a mesh reads: strict where Trellis relies on a field, lenient (warnings) for the rest of the API.

import type { SchemaObject } from 'ajv';
import { checkAnnotations, checkLabels, checkLabelSelector, isDnsLabel, isDnsSubdomain, LABEL_SELECTOR_SCHEMA } from './metadata.js';
import { matchesLabelSelector } from '../labels.js';
import type { LabelSelector } from '../types/kubernetes.js';
import { at, asArray, asObject, asString, isIp, isSet, objectSchema, objectValidator, STRING_MAP, type Issues, type Obj } from './object-check.js';
import type { KindValidator } from './validator.js';

const SPEC = '/spec';
const str: SchemaObject = { type: 'string' };
const bool: SchemaObject = { type: 'boolean' };
const strings: SchemaObject = { type: 'array', items: str };
const nonNegative: SchemaObject = { type: 'integer', minimum: 0 };
const port: SchemaObject = { type: 'integer', minimum: 1, maximum: 65535 };
/** Areas of the Kubernetes API a mesh does not look into (resources, volumes, affinity …): any mapping or list is fine. */
const ANY_OBJECT: SchemaObject = { type: 'object' };
const ANY_LIST: SchemaObject = { type: 'array' };
const PROTOCOL: SchemaObject = { enum: ['TCP', 'UDP', 'SCTP'] };

// ---------------------------------------------------------------- pods and containers

const ENV_VAR: SchemaObject = {
  type: 'object',
  required: ['name'],
  properties: {
    name: str,
    value: str,
    valueFrom: {
      type: 'object',
      properties: { fieldRef: ANY_OBJECT, resourceFieldRef: ANY_OBJECT, configMapKeyRef: ANY_OBJECT, secretKeyRef: ANY_OBJECT, fileKeyRef: ANY_OBJECT },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const CONTAINER_PORT: SchemaObject = {
  type: 'object',
  required: ['containerPort'],
  properties: { name: str, containerPort: port, protocol: PROTOCOL, hostPort: { type: 'integer', minimum: 0, maximum: 65535 }, hostIP: str },
  additionalProperties: false,
};

const CONTAINER: SchemaObject = {
  type: 'object',
  required: ['name', 'image'],
  properties: {
    name: str,
    image: str,
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    command: strings,
    args: strings,
    workingDir: str,
    env: { type: 'array', items: ENV_VAR },
    envFrom: ANY_LIST,
    ports: { type: 'array', items: CONTAINER_PORT },
    resources: ANY_OBJECT,
    resizePolicy: ANY_LIST,
    restartPolicy: str,
    restartPolicyRules: ANY_LIST,
    volumeMounts: ANY_LIST,
    volumeDevices: ANY_LIST,
    livenessProbe: ANY_OBJECT,
    readinessProbe: ANY_OBJECT,
    startupProbe: ANY_OBJECT,
    lifecycle: ANY_OBJECT,
    terminationMessagePath: str,
    terminationMessagePolicy: { enum: ['File', 'FallbackToLogsOnError'] },
    securityContext: ANY_OBJECT,
    stdin: bool,
    stdinOnce: bool,
    tty: bool,
  },
  additionalProperties: false,
};

const POD_SPEC: SchemaObject = {
  type: 'object',
  required: ['containers'],
  properties: {
    containers: { type: 'array', minItems: 1, items: CONTAINER },
    initContainers: { type: 'array', items: CONTAINER },
    ephemeralContainers: ANY_LIST,
    serviceAccountName: str,
    serviceAccount: str,
    automountServiceAccountToken: bool,
    restartPolicy: { enum: ['Always', 'OnFailure', 'Never'] },
    terminationGracePeriodSeconds: nonNegative,
    activeDeadlineSeconds: { type: 'integer', minimum: 1 },
    volumes: ANY_LIST,
    securityContext: ANY_OBJECT,
    affinity: ANY_OBJECT,
    tolerations: ANY_LIST,
    nodeSelector: STRING_MAP,
    nodeName: str,
    hostNetwork: bool,
    hostPID: bool,
    hostIPC: bool,
    hostUsers: bool,
    shareProcessNamespace: bool,
    hostname: str,
    hostnameOverride: str,
    subdomain: str,
    setHostnameAsFQDN: bool,
    hostAliases: ANY_LIST,
    dnsPolicy: { enum: ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] },
    dnsConfig: ANY_OBJECT,
    imagePullSecrets: ANY_LIST,
    schedulerName: str,
    priorityClassName: str,
    priority: { type: 'integer' },
    preemptionPolicy: str,
    runtimeClassName: str,
    enableServiceLinks: bool,
    overhead: ANY_OBJECT,
    topologySpreadConstraints: ANY_LIST,
    readinessGates: ANY_LIST,
    os: ANY_OBJECT,
    schedulingGates: ANY_LIST,
    resourceClaims: ANY_LIST,
    resources: ANY_OBJECT,
  },
  additionalProperties: false,
};

const POD_TEMPLATE: SchemaObject = { type: 'object', properties: { metadata: ANY_OBJECT, spec: POD_SPEC }, additionalProperties: false };

/** IANA service names, as container and target port names must be: at most 15 of a-z, 0-9 and '-', with a letter, no '--'. */
function isIanaSvcName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

function checkPodSpec(spec: Obj | undefined, path: string, out: Issues): void {
  if (!spec) return;
  const containerNames = new Map<string, string>();
  const portNames = new Map<string, string>();
  for (const list of ['initContainers', 'containers'] as const) {
    asArray(spec[list]).forEach((c, i) => {
      const container = asObject(c);
      if (!container) return;
      const cpath = at(path, list, i);
      const name = asString(container.name);
      if (name !== undefined) {
        if (!isDnsLabel(name)) out.error(at(cpath, 'name'), `"${name}" is not a valid container name (a DNS-1123 label)`);
        const first = containerNames.get(name);
        if (first !== undefined) out.error(at(cpath, 'name'), `container name "${name}" is already used by ${first}`);
        else containerNames.set(name, `${list}[${i}]`);
      }
      if (container.image === '') out.error(at(cpath, 'image'), 'must not be empty');
      asArray(container.ports).forEach((p, j) => {
        const portName = asString(asObject(p)?.name);
        if (portName === undefined) return;
        const ppath = at(cpath, 'ports', j, 'name');
        if (!isIanaSvcName(portName)) out.error(ppath, `"${portName}" is not a valid port name: at most 15 lower-case letters, digits and '-', with at least one letter`);
        const first = portNames.get(portName);
        if (first !== undefined) out.error(ppath, `port name "${portName}" is already used in ${first}`);
        else portNames.set(portName, `${list}[${i}]`);
      });
      checkEnv(container.env, at(cpath, 'env'), out);
    });
  }
  const sa = asString(spec.serviceAccountName);
  if (sa !== undefined && sa !== '' && !isDnsSubdomain(sa)) out.error(at(path, 'serviceAccountName'), `"${sa}" is not a valid ServiceAccount name`);
}

function checkEnv(list: unknown, path: string, out: Issues): void {
  const seen = new Map<string, number>();
  asArray(list).forEach((e, i) => {
    const env = asObject(e);
    if (!env) return;
    const p = at(path, i);
    const name = asString(env.name);
    if (name !== undefined) {
      if (name === '' || name.includes('=')) out.error(at(p, 'name'), 'must be a non-empty name without "="');
      const first = seen.get(name);
      if (first !== undefined) out.warn(at(p, 'name'), `"${name}" is already set by env[${first}]; the later value wins`);
      else seen.set(name, i);
    }
    const from = asObject(env.valueFrom);
    if (isSet(env.value) && env.value !== '' && from) out.error(p, 'set value or valueFrom, not both');
    if (from) {
      const sources = Object.keys(from).filter((k) => isSet(from[k]));
      if (sources.length !== 1) out.error(at(p, 'valueFrom'), 'must set exactly one of fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef');
    }
  });
}

function checkTemplateMetadata(template: Obj | undefined, path: string, out: Issues): void {
  const meta = asObject(template?.metadata);
  if (!meta) return;
  for (const issue of checkLabels(meta.labels, at(path, 'metadata', 'labels'))) out.list.push(issue);
  for (const issue of checkAnnotations(meta.annotations, at(path, 'metadata', 'annotations'))) out.list.push(issue);
}

// ---------------------------------------------------------------- workloads (apps/v1)

function workloadSchema(extra: Record<string, SchemaObject>, required: string[]): SchemaObject {
  return objectSchema({
    spec: {
      type: 'object',
      required,
      properties: { selector: LABEL_SELECTOR_SCHEMA, template: POD_TEMPLATE, minReadySeconds: nonNegative, revisionHistoryLimit: nonNegative, ...extra },
      additionalProperties: false,
    },
  });
}

const UPDATE_STRATEGY: SchemaObject = { type: 'object', properties: { type: { enum: ['RollingUpdate', 'OnDelete'] }, rollingUpdate: ANY_OBJECT }, additionalProperties: false };

const deploymentSchema = workloadSchema(
  {
    replicas: nonNegative,
    strategy: { type: 'object', properties: { type: { enum: ['Recreate', 'RollingUpdate'] }, rollingUpdate: ANY_OBJECT }, additionalProperties: false },
    progressDeadlineSeconds: { type: 'integer', minimum: 1 },
    paused: bool,
  },
  ['selector', 'template'],
);
const statefulSetSchema = workloadSchema(
  {
    replicas: nonNegative,
    serviceName: str,
    podManagementPolicy: { enum: ['OrderedReady', 'Parallel'] },
    updateStrategy: UPDATE_STRATEGY,
    volumeClaimTemplates: ANY_LIST,
    persistentVolumeClaimRetentionPolicy: ANY_OBJECT,
    ordinals: ANY_OBJECT,
  },
  ['selector', 'template'],
);
const daemonSetSchema = workloadSchema({ updateStrategy: UPDATE_STRATEGY }, ['selector', 'template']);
const replicaSetSchema = workloadSchema({ replicas: nonNegative }, ['selector']);

function checkWorkload(raw: Obj, out: Issues, kind: string): void {
  const spec = asObject(raw.spec);
  if (!spec) return out.error('', 'spec with selector and template is required');
  const selector = asObject(spec.selector);
  const template = asObject(spec.template);
  const templatePath = at(SPEC, 'template');
  if (selector) {
    for (const issue of checkLabelSelector(selector, at(SPEC, 'selector'))) out.list.push(issue);
    const empty = Object.keys(asObject(selector.matchLabels) ?? {}).length === 0 && asArray(selector.matchExpressions).length === 0;
    if (empty) out.error(at(SPEC, 'selector'), `an empty selector is invalid for a ${kind}: it would select every pod`);
    else if (template) {
      const labels = asObject(asObject(template.metadata)?.labels) ?? {};
      const stringLabels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
      if (!matchesLabelSelector(selector as LabelSelector, stringLabels)) out.error(at(templatePath, 'metadata', 'labels'), 'the template labels do not match spec.selector, so the pods would not belong to this workload');
    }
  }
  checkTemplateMetadata(template, templatePath, out);
  const podSpec = asObject(template?.spec);
  checkPodSpec(podSpec, at(templatePath, 'spec'), out);
  const restart = asString(podSpec?.restartPolicy);
  if (restart !== undefined && restart !== 'Always') out.error(at(templatePath, 'spec', 'restartPolicy'), `must be Always for a ${kind}`);
}

// ---------------------------------------------------------------- Pod

const podSchema = objectSchema({ spec: POD_SPEC });

function checkPod(raw: Obj, out: Issues): void {
  if (!isSet(raw.spec)) return out.error('', 'spec with containers is required');
  checkPodSpec(asObject(raw.spec), SPEC, out);
}

// ---------------------------------------------------------------- Service

const serviceSchema = objectSchema({
  spec: {
    type: 'object',
    properties: {
      type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
      // Checked by checkLabels, which says how to fix an unquoted value.
      selector: ANY_OBJECT,
      ports: {
        type: 'array',
        items: {
          type: 'object',
          required: ['port'],
          properties: { name: str, protocol: PROTOCOL, appProtocol: str, port, targetPort: { type: ['integer', 'string'] }, nodePort: { type: 'integer', minimum: 0, maximum: 65535 } },
          additionalProperties: false,
        },
      },
      clusterIP: str,
      clusterIPs: strings,
      externalName: str,
      externalIPs: strings,
      sessionAffinity: { enum: ['ClientIP', 'None'] },
      sessionAffinityConfig: ANY_OBJECT,
      externalTrafficPolicy: { enum: ['Cluster', 'Local'] },
      internalTrafficPolicy: { enum: ['Cluster', 'Local'] },
      ipFamilies: { type: 'array', items: { enum: ['IPv4', 'IPv6'] } },
      ipFamilyPolicy: { enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] },
      loadBalancerIP: str,
      loadBalancerSourceRanges: strings,
      loadBalancerClass: str,
      allocateLoadBalancerNodePorts: bool,
      healthCheckNodePort: { type: 'integer' },
      publishNotReadyAddresses: bool,
      trafficDistribution: str,
      topologyKeys: strings,
    },
    additionalProperties: false,
  },
});

function checkService(raw: Obj, out: Issues): void {
  const spec = asObject(raw.spec) ?? {};
  const type = asString(spec.type) ?? 'ClusterIP';
  const ports = asArray(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (type === 'ExternalName') {
    const name = asString(spec.externalName) ?? '';
    if (name === '') out.error(SPEC, 'externalName is required when the type is ExternalName');
    else if (!isDnsSubdomain(name.replace(/\.$/, '').toLowerCase())) out.error(at(SPEC, 'externalName'), `"${name}" is not a valid DNS name`);
  } else if (ports.length === 0 && !headless) {
    out.error(SPEC, 'at least one port is required (unless the Service is headless or of type ExternalName)');
  }
  for (const issue of checkLabels(spec.selector, at(SPEC, 'selector'))) out.list.push(issue);

  const names = new Map<string, number>();
  const numbers = new Map<string, number>();
  ports.forEach((p, i) => {
    const sp = asObject(p);
    if (!sp) return;
    const path = at(SPEC, 'ports', i);
    const name = asString(sp.name);
    if (name === undefined || name === '') {
      if (ports.length > 1) out.error(path, 'name is required when a Service has more than one port');
    } else {
      if (!isDnsLabel(name)) out.error(at(path, 'name'), `"${name}" is not a valid port name (a DNS-1123 label)`);
      const first = names.get(name);
      if (first !== undefined) out.error(at(path, 'name'), `port name "${name}" is already used by ports[${first}]`);
      else names.set(name, i);
    }
    if (typeof sp.port === 'number') {
      const key = `${sp.port}/${asString(sp.protocol) ?? 'TCP'}`;
      const first = numbers.get(key);
      if (first !== undefined) out.error(at(path, 'port'), `port ${key} is already used by ports[${first}]`);
      else numbers.set(key, i);
    }
    const target = sp.targetPort;
    if (typeof target === 'number' && (!Number.isInteger(target) || target < 1 || target > 65535)) out.error(at(path, 'targetPort'), `${target} is not a port number from 1 to 65535`);
    if (typeof target === 'string') {
      if (/^\d+$/.test(target)) out.error(at(path, 'targetPort'), `"${target}" is a number written as a string; write it unquoted or use a named port`);
      else if (!isIanaSvcName(target)) out.error(at(path, 'targetPort'), `"${target}" is not a valid port name: at most 15 lower-case letters, digits and '-', with at least one letter`);
    }
    if (isSet(sp.nodePort) && sp.nodePort !== 0 && (type === 'ClusterIP' || type === 'ExternalName')) out.error(at(path, 'nodePort'), `may not be set when the type is ${type}`);
  });
}

// ---------------------------------------------------------------- Namespace, ServiceAccount, Secret, ConfigMap, Endpoints

const namespaceSchema = objectSchema({ spec: { type: 'object', properties: { finalizers: strings }, additionalProperties: false } });

const serviceAccountSchema = objectSchema({
  secrets: ANY_LIST,
  imagePullSecrets: { type: 'array', items: { type: 'object', properties: { name: str }, additionalProperties: false } },
  automountServiceAccountToken: bool,
});

/** `data` keys of Secrets and ConfigMaps: what can be a file name in a volume. */
function checkDataKey(key: string, path: string, out: Issues): void {
  if (key.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..' || key.startsWith('..')) {
    out.error(path, `"${key}" is not a valid key: letters, digits, '-', '_' and '.' only (and not "." or "..")`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isBase64(s: string): boolean {
  const compact = s.replace(/\s+/g, '');
  return compact.length % 4 === 0 && BASE64.test(compact);
}

function checkBase64Map(map: Obj | undefined, path: string, out: Issues, hint: string): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    const p = at(path, key);
    checkDataKey(key, p, out);
    if (value === null) continue;
    if (typeof value !== 'string') out.error(p, `must be a base64 string${hint}`);
    else if (!isBase64(value)) out.error(p, `is not valid base64${hint}`);
  }
}

function checkStringMap(map: Obj | undefined, path: string, out: Issues): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    const p = at(path, key);
    checkDataKey(key, p, out);
    if (value !== null && typeof value !== 'string') out.error(p, `values must be strings; quote it: "${String(value)}"`);
  }
}

const secretSchema = objectSchema({ data: ANY_OBJECT, stringData: ANY_OBJECT, type: str, immutable: bool });

/** Keys Kubernetes requires for its built-in Secret types. */
const SECRET_TYPE_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
};

function checkSecret(raw: Obj, out: Issues): void {
  const data = asObject(raw.data);
  const stringData = asObject(raw.stringData);
  checkBase64Map(data, '/data', out, '; put plain text under stringData instead');
  checkStringMap(stringData, '/stringData', out);
  const type = asString(raw.type) ?? 'Opaque';
  const present = new Set([...Object.keys(data ?? {}), ...Object.keys(stringData ?? {})]);
  for (const key of SECRET_TYPE_KEYS[type] ?? []) {
    if (!present.has(key)) out.error(isSet(raw.data) ? '/data' : '', `a Secret of type ${type} needs the key "${key}"`);
  }
  if (type === 'kubernetes.io/service-account-token') {
    const annotations = asObject(asObject(raw.metadata)?.annotations) ?? {};
    if (!annotations['kubernetes.io/service-account.name']) out.error('/metadata/annotations', 'a service-account-token Secret needs the annotation kubernetes.io/service-account.name');
  }
}

const configMapSchema = objectSchema({ data: ANY_OBJECT, binaryData: ANY_OBJECT, immutable: bool });

function checkConfigMap(raw: Obj, out: Issues): void {
  const data = asObject(raw.data);
  const binary = asObject(raw.binaryData);
  checkStringMap(data, '/data', out);
  checkBase64Map(binary, '/binaryData', out, '');
  for (const key of Object.keys(binary ?? {})) {
    if (data && Object.hasOwn(data, key)) out.error(at('/binaryData', key), `key "${key}" is also in data; a key may be in only one of data and binaryData`);
  }
}

const ENDPOINT_ADDRESS: SchemaObject = {
  type: 'object',
  required: ['ip'],
  properties: { ip: str, hostname: str, nodeName: str, targetRef: ANY_OBJECT },
  additionalProperties: false,
};

const endpointsSchema = objectSchema({
  subsets: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        addresses: { type: 'array', items: ENDPOINT_ADDRESS },
        notReadyAddresses: { type: 'array', items: ENDPOINT_ADDRESS },
        ports: {
          type: 'array',
          items: { type: 'object', required: ['port'], properties: { name: str, port, protocol: PROTOCOL, appProtocol: str }, additionalProperties: false },
        },
      },
      additionalProperties: false,
    },
  },
});

function checkEndpoints(raw: Obj, out: Issues): void {
  asArray(raw.subsets).forEach((s, i) => {
    const subset = asObject(s);
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      asArray(subset?.[field]).forEach((a, j) => {
        const ip = asString(asObject(a)?.ip);
        if (ip !== undefined && !isIp(ip)) out.error(at('/subsets', i, field, j, 'ip'), `"${ip}" is not a valid IP address`);
      });
    }
    const ports = asArray(subset?.ports);
    ports.forEach((p, j) => {
      const name = asString(asObject(p)?.name);
      if (ports.length > 1 && !name) out.error(at('/subsets', i, 'ports', j), 'name is required when a subset has more than one port');
    });
  });
}

const k8s = (name: 'dns-label' | 'dns-subdomain' | 'dns-1035-label', schema: SchemaObject, check?: (raw: Obj, out: Issues) => void): KindValidator =>
  objectValidator({ name, schema, unknownFieldsAreWarnings: true, ...(check ? { check } : {}) });

export const kubernetesValidators: Record<string, KindValidator> = {
  '/Namespace': k8s('dns-label', namespaceSchema),
  '/Service': k8s('dns-1035-label', serviceSchema, checkService),
  '/Pod': k8s('dns-subdomain', podSchema, checkPod),
  '/ServiceAccount': k8s('dns-subdomain', serviceAccountSchema),
  '/Secret': k8s('dns-subdomain', secretSchema, checkSecret),
  '/ConfigMap': k8s('dns-subdomain', configMapSchema, checkConfigMap),
  '/Endpoints': k8s('dns-subdomain', endpointsSchema, checkEndpoints),
  'apps/Deployment': k8s('dns-subdomain', deploymentSchema, (raw, out) => checkWorkload(raw, out, 'Deployment')),
  'apps/StatefulSet': k8s('dns-subdomain', statefulSetSchema, (raw, out) => checkWorkload(raw, out, 'StatefulSet')),
  'apps/DaemonSet': k8s('dns-subdomain', daemonSetSchema, (raw, out) => checkWorkload(raw, out, 'DaemonSet')),
  'apps/ReplicaSet': k8s('dns-subdomain', replicaSetSchema, (raw, out) => checkWorkload(raw, out, 'ReplicaSet')),
};
