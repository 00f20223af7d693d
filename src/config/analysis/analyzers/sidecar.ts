// Sidecar analyzers: selectors that match nothing or overlap, several selector-less Sidecars in a namespace, Sidecars for
// ambient workloads, egress hosts not in the registry.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { SidecarSpec } from '../../types/networking.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import { isVisible, type Typed, type Workload } from '../config-index.js';
import { selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { DATAPLANE_MODE_LABEL, INJECTION_LABEL, REVISION_LABEL } from './injection-state.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

type Sidecar = Typed<SidecarSpec>;

/**
 * A Sidecar's (and a ServiceEntry's) selector is `workloadSelector.labels` in Istio's API; `matchLabels`, the form of the
 * security and telemetry APIs, is read too so that a selector is never silently ignored.
 */
export function sidecarSelector(spec: { workloadSelector?: unknown }): Record<string, string> {
  const ws = spec.workloadSelector;
  if (!isRecord(ws)) return {};
  return { ...stringRecord(ws.matchLabels), ...stringRecord(ws.labels) };
}

const workloadKey = (w: Workload) => `${w.kind}/${w.namespace}/${w.name}`;

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: "Validates that sidecars that define a workload selector match at least one workload, that there aren't multiple sidecar resources that select overlapping workloads or none in a namespace, and that they apply to sidecars",
  analyze(ctx) {
    const sidecars = ofKind<SidecarSpec>(ctx.resources, GROUPS.ISTIO_NET, 'Sidecar');
    checkSelectors(ctx, sidecars);
    checkDefaults(ctx, sidecars);
    checkAmbient(ctx, sidecars);
  },
};

function checkSelectors(ctx: AnalysisContext, sidecars: readonly Sidecar[]): void {
  const byWorkload = new Map<string, { workload: Workload; sidecars: Sidecar[] }>();
  for (const sc of sidecars) {
    const selector = sidecarSelector(sc.spec);
    if (Object.keys(selector).length === 0) continue;
    const matched = ctx.index.workloadsMatching(selector, sc.metadata.namespace);
    if (matched.length === 0) {
      ctx.report(Messages.ReferencedResourceNotFound, sc, '/spec/workloadSelector', `Referenced selector not found: ${JSON.stringify(selectorString(selector))}`);
      continue;
    }
    for (const w of matched) {
      const entry = byWorkload.get(workloadKey(w)) ?? { workload: w, sidecars: [] };
      entry.sidecars.push(sc);
      byWorkload.set(workloadKey(w), entry);
    }
  }
  for (const { workload, sidecars: list } of byWorkload.values()) {
    if (list.length < 2) continue;
    const names = list.map(fullName).sort();
    for (const sc of list) {
      ctx.report(Messages.ConflictingSidecarWorkloadSelectors, sc, '/spec/workloadSelector', `The Sidecars [${names.join(' ')}] in namespace ${JSON.stringify(workload.namespace)} select the same workload pod ${JSON.stringify(workload.name)}, which can lead to undefined behavior.`);
    }
  }
}

function checkDefaults(ctx: AnalysisContext, sidecars: readonly Sidecar[]): void {
  const byNamespace = new Map<string, Sidecar[]>();
  for (const sc of sidecars) {
    if (Object.keys(sidecarSelector(sc.spec)).length > 0) continue;
    byNamespace.set(sc.metadata.namespace, [...(byNamespace.get(sc.metadata.namespace) ?? []), sc]);
  }
  for (const [ns, list] of byNamespace) {
    if (list.length < 2) continue;
    const names = list.map(fullName).sort();
    for (const sc of list) {
      ctx.report(Messages.MultipleSidecarsWithoutWorkloadSelectors, sc, '/metadata/name', `The Sidecars [${names.join(' ')}] in namespace ${JSON.stringify(ns)} have no workload selector, which can lead to undefined behavior.`);
    }
  }
}

/** A Sidecar configures sidecar proxies: in an ambient namespace, or for ambient workloads, it has no effect. */
function checkAmbient(ctx: AnalysisContext, sidecars: readonly Sidecar[]): void {
  for (const sc of sidecars) {
    const selector = sidecarSelector(sc.spec);
    if (Object.keys(selector).length === 0) {
      if (isAmbientNamespace(ctx, sc.metadata.namespace)) ctx.report(Messages.IneffectivePolicy, sc, '/metadata/name', 'The policy has no impact: namespace is in ambient mode, the policy has no impact.');
      continue;
    }
    const ambient = ctx.index.workloadsMatching(selector, sc.metadata.namespace).some((w) => w.annotations[AMBIENT_REDIRECTION] === 'enabled' || isAmbientNamespace(ctx, w.namespace));
    if (ambient) ctx.report(Messages.IneffectivePolicy, sc, '/spec/workloadSelector', 'The policy has no impact: selected workload is in ambient mode, the policy has no impact.');
  }
}

/** The annotation the ambient CNI sets on the pods whose traffic it redirects to ztunnel. */
const AMBIENT_REDIRECTION = 'ambient.istio.io/redirection';

/** In ambient mode by its label, and not also injected with sidecars. */
function isAmbientNamespace(ctx: AnalysisContext, namespace: string): boolean {
  const labels = ctx.index.namespaceResource(namespace)?.metadata.labels ?? {};
  return labels[DATAPLANE_MODE_LABEL] === 'ambient' && labels[INJECTION_LABEL] === undefined && labels[REVISION_LABEL] === undefined;
}

export const sidecarEgressHostAnalyzer: Analyzer = {
  name: 'sidecar.EgressHostAnalyzer',
  description: 'Checks that the egress hosts of a Sidecar name services that exist (Kiali KIA1004)',
  analyze(ctx) {
    for (const sc of ofKind<SidecarSpec>(ctx.resources, GROUPS.ISTIO_NET, 'Sidecar')) {
      const own = sc.metadata.namespace;
      arr(sc.spec.egress).forEach((listener, i) => {
        arr(listener?.hosts).forEach((value, j) => {
          if (typeof value !== 'string') return;
          const slash = value.indexOf('/');
          if (slash < 0) return; // the validator requires namespace/host
          const ns = value.slice(0, slash);
          const host = value.slice(slash + 1);
          if (host.includes('*') || ns === '~') return;
          const found = ctx.index.services.some(
            (s) => s.host === host && isVisible(s.exportTo, s.namespace, own) && (ns === '*' || (ns === '.' ? s.namespace === own : s.namespace === ns)),
          );
          if (!found) {
            ctx.report(Messages.SidecarEgressHostNotFound, sc, pointer('spec', 'egress', i, 'hosts', j), `Egress host ${JSON.stringify(value)} matches no service in the registry, so the sidecar gets no configuration for it.`);
          }
        });
      });
    }
  },
};
