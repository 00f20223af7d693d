// Sidecar analyzers: selectors that match nothing or overlap, several selector-less Sidecars in a namespace, egress hosts not in the registry.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { SidecarSpec } from '../../types/networking.js';
import type { Analyzer } from '../analyzer.js';
import { isVisible, type Typed, type Workload } from '../config-index.js';
import { selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
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
  description: "Validates that sidecars that define a workload selector match at least one workload, and that there aren't multiple sidecar resources that select overlapping workloads",
  analyze(ctx) {
    const byWorkload = new Map<string, { workload: Workload; sidecars: Sidecar[] }>();
    for (const sc of ofKind<SidecarSpec>(ctx.resources, GROUPS.ISTIO_NET, 'Sidecar')) {
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
    for (const { workload, sidecars } of byWorkload.values()) {
      if (sidecars.length < 2) continue;
      const names = sidecars.map(fullName).sort();
      for (const sc of sidecars) {
        ctx.report(Messages.ConflictingSidecarWorkloadSelectors, sc, '/spec/workloadSelector', `The Sidecars [${names.join(' ')}] in namespace ${JSON.stringify(workload.namespace)} select the same workload pod ${JSON.stringify(workload.name)}, which can lead to undefined behavior.`);
      }
    }
  },
};

export const sidecarDefaultSelectorAnalyzer: Analyzer = {
  name: 'sidecar.DefaultSelectorAnalyzer',
  description: 'Validates that there aren\'t multiple sidecar resources that have no selector',
  analyze(ctx) {
    const byNamespace = new Map<string, Sidecar[]>();
    for (const sc of ofKind<SidecarSpec>(ctx.resources, GROUPS.ISTIO_NET, 'Sidecar')) {
      if (Object.keys(sidecarSelector(sc.spec)).length > 0) continue;
      byNamespace.set(sc.metadata.namespace, [...(byNamespace.get(sc.metadata.namespace) ?? []), sc]);
    }
    for (const [ns, sidecars] of byNamespace) {
      if (sidecars.length < 2) continue;
      const names = sidecars.map(fullName).sort();
      for (const sc of sidecars) {
        ctx.report(Messages.MultipleSidecarsWithoutWorkloadSelectors, sc, '/metadata/name', `The Sidecars [${names.join(' ')}] in namespace ${JSON.stringify(ns)} have no workload selector, which can lead to undefined behavior.`);
      }
    }
  },
};

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
