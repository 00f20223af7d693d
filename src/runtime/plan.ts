// Kubernetes manifests → local pods: every Deployment replica and bare Pod gets a name, its own loopback address,
// its containers mapped to local programs, and the environment Kubernetes and its sidecar would give it.

import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { MeshModel } from '../config/mesh-config.js';
import { meshTopologyOf } from '../config/mesh-topology.js';
import { mergeProxyConfig, readProxyConfig, xdsModeOf, type ProxyConfig, type ProxyConfigProblem } from '../config/proxy-config.js';
import { positionOf, type Resource } from '../config/resource.js';
import type { Container, Deployment, Pod, PodSpec, Service } from '../config/types/kubernetes.js';
import { PORTS } from '../ports.js';
import { appAddress, DEFAULT_ADDRESS_BASE, MAX_PODS, podAddress } from './addresses.js';
import { lookupImage, programPath, type ImageMap } from './image-map.js';

export interface ContainerPlan {
  name: string;
  /** Executable and arguments (node programs are run with the current node). */
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface PodPlan {
  name: string;
  /** Its number in the plan (from 1): where its addresses come from. */
  number: number;
  namespace: string;
  /** The Deployment it belongs to, if any (replicas share it). */
  owner?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string;
  /** Where peers (through sidecars) reach it: the sidecar's inbound side listens here. */
  podIP: string;
  /** Where the app itself listens, known only to its sidecar (the app is reachable only through it). */
  appAddress: string;
  /** Every address of the pod (dual stack: both families, primary first); [podIP] on loopback. */
  podIPs: string[];
  /** The pod has a network namespace of its own and its sidecar captures its traffic (no HTTP_PROXY). */
  captured: boolean;
  /** Named and numbered container ports. */
  ports: Array<{ name?: string; containerPort: number }>;
  meshed: boolean;
  /** The control plane (its namespace) whose mesh the pod's namespace belongs to; its sidecar connects there. */
  controlPlane?: string;
  /** Why the pod has a sidecar or not (the control plane's injection rule, in words). */
  injection: string;
  /**
   * Enrolled in ambient mode (`istio.io/dataplane-mode=ambient` on its namespace or itself, no sidecar): the node proxy
   * captures its traffic. Only where it has a network namespace of its own; changes live, without a restart.
   */
  ambient: boolean;
  /** Why it is in ambient mode or not, in words. */
  ambientReason: string;
  /**
   * ProxyConfig `concurrency` for its sidecar (the pod's `proxy.istio.io/config` annotation, else the mesh config's
   * `defaultConfig`): worker processes, 0 = one per core; undefined = Trellis's default of one process.
   */
  concurrency?: number;
  /** ProxyConfig `proxyMetadata.ISTIO_DELTA_XDS` ("false" = state of the world); undefined = the proxy's default, delta. */
  xdsMode?: 'sotw' | 'delta';
  /**
   * ProxyConfig `proxyMetadata` entries `ISTIO_META_<KEY>`: node metadata `<KEY>` of its sidecar, as Istio's agent sends
   * them (`ISTIO_META_DNS_CAPTURE: "true"` → `DNS_CAPTURE`, which turns on the DNS proxy and its capture rules).
   */
  proxyMetadata: Record<string, string>;
  containers: ContainerPlan[];
  source: string;
}

export class PlanError extends Error {}

export interface PlanOptions {
  imageMap: ImageMap;
  /** Second octet of pod addresses (127.<base>.x.y; addresses.ts); app addresses use base+1. */
  addressBase?: number;
  /** The sidecar's outbound port that HTTP_PROXY points at (Istio's 15001). */
  outboundPort?: number;
  domain?: string;
  /**
   * Where pod `n` (from 1) lives, when not on loopback addresses: the network-namespace runtime gives each pod its own
   * addresses, its app listens on the real container ports and the sidecar captures traffic (no HTTP_PROXY).
   */
  addressing?: (n: number) => PodAddressing;
}

/** A pod's addresses in its own network namespace. */
export interface PodAddressing {
  /** Its addresses, primary family first (status.podIPs). */
  podIPs: string[];
  /** Where its sidecar reaches the app inside the pod (loopback of the primary family). */
  appAddress: string;
  /** What the app binds: every address of the pod's families. */
  bindAddress: string;
  /** ClusterIP of a Service in the pod's namespace, for Kubernetes' `<SERVICE>_SERVICE_HOST` variables. */
  serviceHost: (namespace: string, name: string) => string | undefined;
}

const dnsEnv = (name: string) => name.toUpperCase().replace(/-/g, '_');

/** JSON with object keys sorted: the same object whatever the order its YAML was written in. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function stableSuffix(seed: string, length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const h = createHash('sha1').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[h[i]! % alphabet.length];
  return out;
}

/** Kubernetes-style service links for every Service in the namespace, pointing at names so sidecars route them. */
function serviceEnv(services: Service[], namespace: string, domain: string, clusterIp?: PodAddressing['serviceHost']): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    if (s.metadata.namespace !== namespace) continue;
    const ports = s.spec.ports ?? [];
    if (!ports.length) continue;
    const prefix = dnsEnv(s.metadata.name);
    // A name, not a ClusterIP: the request then goes through the sidecar by name and Istio routing applies.
    // In a network namespace it is the ClusterIP, as Kubernetes sets it: captured traffic to it is routed by the sidecar.
    env[`${prefix}_SERVICE_HOST`] = clusterIp?.(namespace, s.metadata.name) ?? `${s.metadata.name}.${namespace}.svc.${domain}`;
    env[`${prefix}_SERVICE_PORT`] = String(ports[0]!.port);
    for (const p of ports) if (p.name) env[`${prefix}_SERVICE_PORT_${dnsEnv(p.name)}`] = String(p.port);
  }
  return env;
}

function where(r: Resource<unknown>, ptr: string): string {
  const pos = positionOf(r, ptr);
  return pos && r.source ? `${r.source.file}:${pos.line}:${pos.column}` : (r.source?.file ?? "inline");
}

function containerPlan(r: Resource<unknown>, c: Container, i: number, map: ImageMap, env: Record<string, string>, ptr: string): ContainerPlan {
  const image = c.image ?? '';
  const entry = lookupImage(map, image);
  if (!entry) throw new PlanError(`${where(r, `${ptr}/containers/${i}/image`)}: image "${image}" has no local program in the image map (pass --image-map FILE with images: {"${image.split('/').pop()?.split(':')[0]}": {program: ...}})`);
  // Kubernetes: command replaces the image's entrypoint, args replace its default arguments.
  let program = entry.program;
  let args = entry.args ?? [];
  if (c.command?.length) {
    const mapped = entry.commands?.[c.command[0]!];
    if (!mapped) throw new PlanError(`${where(r, `${ptr}/containers/${i}/command`)}: command "${c.command[0]}" of image "${image}" has no local program (add it under "commands" in the image map)`);
    program = mapped;
    args = c.command.slice(1);
  }
  if (c.args) args = c.args;
  const containerEnv: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (!e.name) continue;
    if (e.value !== undefined) containerEnv[e.name] = e.value;
    const field = (e.valueFrom as { fieldRef?: { fieldPath?: string } } | undefined)?.fieldRef?.fieldPath;
    if (field === 'metadata.name') containerEnv[e.name] = env.POD_NAME!;
    if (field === 'metadata.namespace') containerEnv[e.name] = env.POD_NAMESPACE!;
    if (field === 'status.podIP') containerEnv[e.name] = env.INSTANCE_IP!;
    if (field === 'spec.serviceAccountName') containerEnv[e.name] = env.SERVICE_ACCOUNT!;
  }
  const path = programPath(program);
  const node = path.endsWith('.js') || path.endsWith('.mjs');
  return {
    name: c.name ?? `container-${i}`,
    command: node ? process.execPath : path,
    args: node ? [path, ...args] : args,
    env: { ...entry.env, ...env, ...containerEnv },
  };
}

const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

/** A ProxyConfig's first problem as a PlanError naming where it was written. */
function refuse(at: string, problems: readonly ProxyConfigProblem[]): void {
  const p = problems[0];
  if (p) throw new PlanError(`${at}: ${p.message}`);
}

/** The pod's `proxy.istio.io/config` annotation, read; a PlanError naming file, line and field when it cannot be used. */
function podProxyConfig(r: Resource<unknown>, annotations: Record<string, string>, ptr: string): ProxyConfig | undefined {
  const text = annotations[PROXY_CONFIG_ANNOTATION];
  if (text === undefined) return undefined;
  const at = `${where(r, `${ptr}/metadata/annotations/proxy.istio.io~1config`)}: metadata.annotations["${PROXY_CONFIG_ANNOTATION}"]`;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PlanError(`${at}: not a YAML ProxyConfig: ${(err as Error).message.split('\n')[0]}`);
  }
  const read = readProxyConfig(doc && typeof doc === 'object' ? doc : {});
  refuse(at, read.problems);
  return read.config;
}

/** The mesh config's defaultConfig; a PlanError naming where a field that cannot be used was written. */
function meshProxyConfig(model: MeshModel): ProxyConfig {
  const p = model.problems.find((x) => x.field.startsWith('defaultConfig'));
  if (p) refuse(`${where(p.resource, p.pointer)}: meshConfig.defaultConfig`, [p]);
  return model.config.defaultConfig;
}

/** Istio's precedence for each field: the pod's proxy.istio.io/config annotation over meshConfig.defaultConfig. */
function proxySettings(pod: ProxyConfig | undefined, mesh: ProxyConfig): { concurrency?: number; xdsMode?: 'sotw' | 'delta'; metadata?: Record<string, string> } {
  const merged = mergeProxyConfig(mesh, pod);
  const metadata = Object.fromEntries(Object.entries(merged.proxyMetadata ?? {}).filter(([k]) => k.startsWith('ISTIO_META_')).map(([k, v]) => [k.slice('ISTIO_META_'.length), v]));
  return { concurrency: merged.concurrency, xdsMode: xdsModeOf(merged), metadata };
}

/** Pods for every Deployment replica and bare Pod, in a stable order with stable names and addresses. */
export function planPods(resources: readonly Resource[], o: PlanOptions): PodPlan[] {
  const base = o.addressBase ?? DEFAULT_ADDRESS_BASE;
  const domain = o.domain ?? 'cluster.local';
  const outbound = o.outboundPort ?? PORTS.outbound;
  const services = resources.filter((r) => r.group === '' && r.kind === 'Service') as unknown as Service[];
  const topology = meshTopologyOf(resources);
  const meshDefaults = new Map(topology.controlPlanes.map((cp) => [cp.namespace, meshProxyConfig(cp.model)]));
  const pods: Array<{ r: Resource<unknown>; name: string; namespace: string; owner?: string; meta: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec; ptr: string }> = [];
  for (const r of resources) {
    if (r.group === 'apps' && r.kind === 'Deployment') {
      const d = r as unknown as Deployment;
      const replicas = d.spec.replicas ?? 1;
      const template = d.spec.template ?? {};
      // Like Kubernetes' pod-template-hash: the template's content names the pods, not how its YAML is laid out.
      const hash = stableSuffix(`${d.metadata.namespace}/${d.metadata.name}/${canonicalJson(template)}`, 10);
      for (let i = 0; i < replicas; i++) {
        pods.push({ r, name: `${d.metadata.name}-${hash}-${stableSuffix(`${hash}/${i}`, 5)}`, namespace: d.metadata.namespace, owner: d.metadata.name, meta: template.metadata ?? {}, spec: template.spec ?? {}, ptr: '/spec/template/spec' });
      }
    } else if (r.group === '' && r.kind === 'Pod') {
      const p = r as unknown as Pod;
      pods.push({ r, name: p.metadata.name, namespace: p.metadata.namespace, meta: p.metadata, spec: p.spec, ptr: '/spec' });
    }
  }
  if (pods.length > MAX_PODS) throw new PlanError(`${pods.length} pods are more than the local runtime has addresses for (${MAX_PODS})`);
  return pods.map((p, index) => {
    const n = index + 1;
    const own = o.addressing?.(n);
    const podIP = own ? own.podIPs[0]! : podAddress(base, n);
    const privateAddress = own ? own.appAddress : appAddress(base, n);
    const annotations = p.meta.annotations ?? {};
    // Injection as the control plane that owns the namespace decides it (mesh-topology.ts).
    const injection = topology.injection(p.namespace, p.meta.labels ?? {}, annotations);
    const meshed = injection.inject;
    const enrolment = topology.ambient(p.namespace, p.meta.labels ?? {}, annotations);
    // Capture by the node proxy needs the pod's own network namespace.
    const ambient = enrolment.ambient && !!own;
    const ambientReason = enrolment.ambient && !own ? 'ambient mode needs --network netns (pods in network namespaces)' : enrolment.reason;
    const controlPlane = injection.controlPlane?.namespace;
    const serviceAccount = p.spec.serviceAccountName ?? 'default';
    const proxy = meshed ? proxySettings(podProxyConfig(p.r, annotations, p.ptr.replace(/\/spec$/, '')), meshDefaults.get(controlPlane!) ?? {}) : {};
    const env: Record<string, string> = {
      ...serviceEnv(services, p.namespace, domain, own?.serviceHost),
      HOSTNAME: p.name,
      POD_NAME: p.name,
      POD_NAMESPACE: p.namespace,
      INSTANCE_IP: podIP,
      SERVICE_ACCOUNT: serviceAccount,
      SERVICES_DOMAIN: `${p.namespace}.svc.${domain}`,
    };
    if (own) {
      // Its own namespace: the app listens on the pod's ports on every address; the sidecar captures what it sends.
      env.BIND_ADDRESS = own.bindAddress;
    } else if (meshed) {
      // Outbound traffic goes to the sidecar; the app itself listens on its private address.
      Object.assign(env, { HTTP_PROXY: `http://${podIP}:${outbound}`, http_proxy: `http://${podIP}:${outbound}`, NO_PROXY: `localhost,127.0.0.1,${podIP},${privateAddress}`, BIND_ADDRESS: privateAddress });
    } else {
      env.BIND_ADDRESS = podIP;
    }
    const ports = (p.spec.containers ?? []).flatMap((c) => (c.ports ?? []).filter((x) => x.containerPort).map((x) => ({ name: x.name, containerPort: x.containerPort! })));
    if (ports.length) env.PORT = String(ports[0]!.containerPort);
    return {
      name: p.name,
      number: n,
      namespace: p.namespace,
      owner: p.owner,
      labels: p.meta.labels ?? {},
      annotations,
      serviceAccount,
      podIP,
      appAddress: meshed || own ? privateAddress : podIP,
      podIPs: own ? own.podIPs : [podIP],
      captured: !!own,
      ports,
      meshed,
      controlPlane,
      injection: injection.reason,
      ambient,
      ambientReason,
      concurrency: proxy.concurrency,
      xdsMode: proxy.xdsMode,
      proxyMetadata: proxy.metadata ?? {},
      containers: (p.spec.containers ?? []).map((c, i) => containerPlan(p.r, c, i, o.imageMap, env, p.ptr)),
      source: where(p.r, ''),
    };
  });
}
