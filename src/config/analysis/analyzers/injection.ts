// Sidecar injection analyzers: namespaces without (or with conflicting) injection labels, pods missing their proxy, `image: auto`.

import { GROUPS } from '../../kinds.js';
import { pointer, type Resource } from '../../resource.js';
import { podTemplateOf, type PodSpec } from '../../types/kubernetes.js';
import type { ServiceMeshMemberRollSpec } from '../../types/maistra.js';
import type { Analyzer } from '../analyzer.js';
import type { ConfigIndex } from '../config-index.js';
import { stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { INJECT, INJECTION_LABEL, namespaceInjection, PROXY_CONTAINER, REVISION_LABEL, SYSTEM_NAMESPACES } from './injection-state.js';
import { arr, fullName, ofKind } from './util.js';

/** Namespaces that joined an OpenShift Service Mesh (a member roll lists them, or a ServiceMeshMember lives there); they inject per pod. */
function maistraMembers(index: ConfigIndex): Set<string> {
  const out = new Set<string>();
  for (const roll of index.list<ServiceMeshMemberRollSpec>(GROUPS.MAISTRA, 'ServiceMeshMemberRoll')) for (const m of arr(roll.spec.members)) out.add(String(m));
  for (const m of index.list(GROUPS.MAISTRA, 'ServiceMeshMember')) out.add(m.metadata.namespace);
  return out;
}

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks conditions related to Istio sidecar injection',
  analyze(ctx) {
    const members = maistraMembers(ctx.index);
    for (const ns of ofKind(ctx.resources, '', 'Namespace')) {
      const name = ns.metadata.name;
      if (name === ctx.index.controlPlaneNamespace || SYSTEM_NAMESPACES.has(name)) continue;
      const legacy = ns.metadata.labels[INJECTION_LABEL];
      const revision = ns.metadata.labels[REVISION_LABEL];
      if (legacy === undefined && revision === undefined) {
        if (members.has(name) || members.has('*')) continue;
        ctx.report(Messages.NamespaceNotInjected, ns, '/metadata/name', `The namespace is not enabled for Istio injection. Run 'kubectl label namespace ${name} istio-injection=enabled' to enable it, or 'kubectl label namespace ${name} istio-injection=disabled' to explicitly mark it as not needing injection.`);
        continue;
      }
      if (legacy !== undefined && revision !== undefined) {
        ctx.report(Messages.NamespaceMultipleInjectionLabels, ns, '/metadata/labels', `The namespace has more than one type of injection labels [${INJECTION_LABEL} ${REVISION_LABEL}], which may lead to undefined behavior. Make sure only one injection label exists.`);
      }
    }

    for (const pod of ofKind<PodSpec>(ctx.resources, '', 'Pod')) {
      // Only a pod read back from a cluster (it has a status) shows whether injection happened; in a manifest the
      // webhook has not run yet, so a missing proxy there is expected.
      if (pod.raw.status === undefined) continue;
      if (namespaceInjection(ctx.index, pod.metadata.namespace) !== true) continue;
      const inject = pod.metadata.labels[INJECT] ?? pod.metadata.annotations[INJECT];
      if (inject !== undefined && inject.toLowerCase() === 'false') continue;
      if ((pod.spec as { hostNetwork?: boolean }).hostNetwork === true) continue;
      if (arr(pod.spec.containers).some((c) => c?.name === PROXY_CONTAINER && !!c.image)) continue;
      ctx.report(Messages.PodMissingProxy, pod, '/metadata/name', `The pod ${fullName(pod)} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.`);
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
