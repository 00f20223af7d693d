// Sidecar injection analyzers: namespaces without (or with conflicting) injection labels, pods missing their proxy or
// running another proxy image than the injector's, `image: auto`.

import { parse as parseYaml } from 'yaml';
import { GROUPS } from '../../kinds.js';
import { matchesLabels, stringRecord } from '../../labels.js';
import { pointer, type Resource } from '../../resource.js';
import { podTemplateOf, type PodSpec } from '../../types/kubernetes.js';
import type { ServiceMeshMemberRollSpec } from '../../types/maistra.js';
import type { Analyzer } from '../analyzer.js';
import type { ConfigIndex } from '../config-index.js';
import { Messages } from '../messages.js';
import { DATAPLANE_MODE_LABEL, INJECT, INJECTION_LABEL, injectorConfigMapName, namespaceInjection, proxyContainer, REVISION_LABEL, SYSTEM_NAMESPACES } from './injection-state.js';
import { arr, fullName, goList, isRecord, ofKind } from './util.js';

/** Namespaces that joined an OpenShift Service Mesh (a member roll lists them, or a ServiceMeshMember lives there); they inject per pod. */
function maistraMembers(index: ConfigIndex): Set<string> {
  const out = new Set<string>();
  for (const roll of index.list<ServiceMeshMemberRollSpec>(GROUPS.MAISTRA, 'ServiceMeshMemberRoll')) for (const m of arr(roll.spec.members)) out.add(String(m));
  for (const m of index.list(GROUPS.MAISTRA, 'ServiceMeshMember')) out.add(m.metadata.namespace);
  return out;
}

/** The injector's Helm values (the `values` key of its ConfigMap, JSON), when the files hold that ConfigMap. */
function injectorValues(index: ConfigIndex, revision: string | undefined): Record<string, unknown> | undefined {
  const name = injectorConfigMapName(revision);
  const cm = index.list('', 'ConfigMap').find((r) => r.metadata.name === name);
  const text = isRecord(cm?.raw.data) ? cm.raw.data.values : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    const values: unknown = JSON.parse(text);
    return isRecord(values) ? values : undefined;
  } catch {
    return undefined;
  }
}

const path = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), o);

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks conditions related to Istio sidecar injection',
  analyze(ctx) {
    const members = maistraMembers(ctx.index);
    const injected = new Set<string>();
    for (const ns of ofKind(ctx.resources, '', 'Namespace')) {
      const name = ns.metadata.name;
      if (name === ctx.index.controlPlaneNamespace || SYSTEM_NAMESPACES.has(name)) continue;
      const labels = ns.metadata.labels;
      const legacy = labels[INJECTION_LABEL];
      // The ways a namespace can join the mesh: the legacy label (unless it says disabled), a revision, ambient mode.
      const ways = [
        ...(legacy !== undefined && legacy !== 'disabled' ? [INJECTION_LABEL] : []),
        ...(labels[REVISION_LABEL] !== undefined ? [REVISION_LABEL] : []),
        ...(labels[DATAPLANE_MODE_LABEL] === 'ambient' ? [DATAPLANE_MODE_LABEL] : []),
      ];
      if (ways.length > 1) {
        ctx.report(Messages.NamespaceMultipleInjectionLabels, ns, '/metadata/labels', `The namespace has more than one type of injection labels ${goList(ways)}, which may lead to undefined behavior. Make sure only one injection label exists.`);
        continue;
      }
      if (legacy === undefined && ways.length === 0) {
        if (members.has(name) || members.has('*')) continue;
        // An injector installed with enableNamespacesByDefault injects every namespace that does not opt out.
        if (path(injectorValues(ctx.index, undefined), 'sidecarInjectorWebhook', 'enableNamespacesByDefault') === true) {
          ctx.report(Messages.NamespaceInjectionEnabledByDefault, ns, '/metadata/name', `The namespace ${name} is enabled for Istio injection, as Istio is installed with enableNamespacesByDefault as true.`);
          continue;
        }
        ctx.report(Messages.NamespaceNotInjected, ns, '/metadata/name', `The namespace is not enabled for Istio injection. Run 'kubectl label namespace ${name} istio-injection=enabled' to enable it, or 'kubectl label namespace ${name} istio-injection=disabled' to explicitly mark it as not needing injection.`);
        continue;
      }
      if (legacy === 'enabled' || (legacy === undefined && labels[REVISION_LABEL] !== undefined)) injected.add(name);
    }

    for (const pod of ofKind<PodSpec>(ctx.resources, '', 'Pod')) {
      // Trellis's own runtime injects a pod of a manifest when it starts it: only a pod read back from a cluster (it
      // has a status) shows whether injection happened. istioctl reports every pod of the files.
      if (ctx.mode === 'local' && pod.raw.status === undefined) continue;
      if (!injected.has(pod.metadata.namespace)) continue;
      const inject = pod.metadata.labels[INJECT] ?? pod.metadata.annotations[INJECT];
      if (inject !== undefined && inject.toLowerCase() === 'false') continue;
      if ((pod.spec as { hostNetwork?: boolean }).hostNetwork === true) continue;
      if (proxyContainer(pod.spec)?.image) continue;
      ctx.report(Messages.PodMissingProxy, pod, '/metadata/name', `The pod ${fullName(pod)} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.`);
    }
  },
};

/** The proxy image the injector of a revision puts in pods (`hub/image:tag`, or the image itself when it is a full reference). */
function injectorProxyImage(index: ConfigIndex, revision: string | undefined): string | undefined {
  const values = injectorValues(index, revision);
  if (!values) return undefined;
  const image = path(values, 'global', 'proxy', 'image');
  if (typeof image !== 'string' || image === '') return undefined;
  if (image.includes('/')) return image;
  return `${String(path(values, 'global', 'hub') ?? '')}/${image}:${String(path(values, 'global', 'tag') ?? '')}`;
}

/** ProxyConfig's `image.imageType` (distroless, debug …) for a pod: its annotation, else ProxyConfigs (workload, namespace, root), else the mesh's. */
function imageTypeFor(index: ConfigIndex, pod: Resource): string | undefined {
  const fromDoc = (doc: unknown) => {
    const t = path(doc, 'image', 'imageType');
    return typeof t === 'string' && t !== '' ? t : undefined;
  };
  const annotation = pod.metadata.annotations['proxy.istio.io/config'];
  if (annotation) {
    try {
      const t = fromDoc(parseYaml(annotation));
      if (t) return t;
    } catch {
      // an unparsable annotation is the annotations analyzer's to report
    }
  }
  const configs = index.list(GROUPS.ISTIO_NET, 'ProxyConfig');
  const selected = configs.find((pc) => pc.metadata.namespace === pod.metadata.namespace && isRecord(pc.spec.selector) && matchesLabels(stringRecord(pc.spec.selector.matchLabels), pod.metadata.labels));
  const namespaceWide = configs.find((pc) => pc.metadata.namespace === pod.metadata.namespace && !isRecord(pc.spec.selector));
  const root = configs.find((pc) => pc.metadata.namespace === index.rootNamespace && !isRecord(pc.spec.selector));
  return fromDoc(selected?.spec) ?? fromDoc(namespaceWide?.spec) ?? fromDoc(root?.spec) ?? fromDoc(index.meshConfig.defaultConfig);
}

export const injectionImageAnalyzer: Analyzer = {
  name: 'injection.ImageAnalyzer',
  description: 'Checks the image of auto-injection configured with the running proxies on pods',
  analyze(ctx) {
    // Namespaces whose pods the injector of a revision fills: the legacy label (the default revision) or a revision label.
    const revisions = new Map<string, string>();
    const namespaces = new Map<string, Resource>();
    for (const ns of ofKind(ctx.resources, '', 'Namespace')) {
      namespaces.set(ns.metadata.name, ns);
      const rev = ns.metadata.labels[REVISION_LABEL];
      if (rev !== undefined) revisions.set(ns.metadata.name, rev);
      else if (ns.metadata.labels[INJECTION_LABEL] === 'enabled') revisions.set(ns.metadata.name, 'default');
    }
    const mismatched = new Map<string, string[]>();
    for (const pod of ofKind<PodSpec>(ctx.resources, '', 'Pod')) {
      const revision = revisions.get(pod.metadata.namespace);
      // A pod that names its own proxy image keeps it whatever the injector says.
      if (revision === undefined || pod.metadata.annotations['sidecar.istio.io/proxyImage']) continue;
      const running = proxyContainer(pod.spec)?.image;
      const expected = injectorProxyImage(ctx.index, revision);
      if (!running || !expected) continue;
      const type = imageTypeFor(ctx.index, pod);
      if (running === expected || (type && running === `${expected}-${type}`)) continue;
      mismatched.set(pod.metadata.namespace, [...(mismatched.get(pod.metadata.namespace) ?? []), pod.metadata.name]);
    }
    for (const [ns, pods] of mismatched) {
      const resource = namespaces.get(ns);
      if (!resource) continue;
      ctx.report(Messages.PodsIstioProxyImageMismatchInNamespace, resource, '/metadata/name', `The Istio proxy images of the pods running in the namespace do not match the image defined in the injection configuration (pod names: ${goList(pods)}). This often happens after upgrading the Istio control-plane and can be fixed by redeploying the pods.`);
    }
  },
};

export const imageAutoAnalyzer: Analyzer = {
  name: 'injection.ImageAutoAnalyzer',
  description: 'Makes sure that Pods and Deployments with `image: auto` are going to be injected',
  analyze(ctx) {
    for (const r of ctx.resources) {
      const isPod = r.group === '' && r.kind === 'Pod';
      if (!isPod && !(r.group === 'apps' && r.kind === 'Deployment')) continue;
      const template = podTemplateOf(r);
      const base = isPod ? '/spec' : '/spec/template/spec';
      const index = arr(template?.spec?.containers).findIndex((c) => c?.image === 'auto');
      if (index < 0 || targetedForInjection(ctx.index, r, stringRecord(template?.metadata?.labels))) continue;
      const type = isPod ? Messages.ImageAutoWithoutInjectionError : Messages.ImageAutoWithoutInjectionWarning;
      ctx.report(type, r as Resource, `${base}${pointer('containers', index, 'image')}`, `${r.kind} ${r.metadata.name} contains \`image: auto\` but does not match any Istio injection webhook selectors.`);
    }
  },
};

/** Whether Istio's injection webhooks select the pod: its own inject or revision label, else its namespace's labels. */
function targetedForInjection(index: ConfigIndex, r: Resource, podLabels: Record<string, string>): boolean {
  if (podLabels[INJECT] !== undefined) return podLabels[INJECT] === 'true';
  if (podLabels[REVISION_LABEL]) return true;
  return namespaceInjection(index, r.metadata.namespace) === true;
}
