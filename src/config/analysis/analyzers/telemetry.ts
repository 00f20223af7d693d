// Telemetry analyzers: selectors that match nothing or overlap, several selector-less Telemetries in a namespace, empty providers.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { TelemetrySpec } from '../../types/telemetry.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import type { Typed, Workload } from '../config-index.js';
import { selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

type Telemetry = Typed<TelemetrySpec>;

const telemetries = (ctx: AnalysisContext) => ofKind<TelemetrySpec>(ctx.resources, GROUPS.ISTIO_TEL, 'Telemetry');
const selectorOf = (t: Telemetry) => stringRecord(t.spec.selector?.matchLabels);
/** A policy attached with targetRef(s) selects by reference, not by labels. */
const hasTargetRef = (t: Telemetry) => isRecord(t.spec.targetRef) || arr(t.spec.targetRefs).length > 0;

export const telemetrySelectorAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: "Validates that telemetries that define a selector match at least one workload, and that there aren't multiple telemetry resources that select overlapping workloads",
  analyze(ctx) {
    const byWorkload = new Map<string, { workload: Workload; telemetries: Telemetry[] }>();
    for (const t of telemetries(ctx)) {
      const selector = selectorOf(t);
      if (Object.keys(selector).length === 0) continue;
      const matched = ctx.index.workloadsMatching(selector, t.metadata.namespace);
      if (matched.length === 0) {
        ctx.report(Messages.ReferencedResourceNotFound, t, '/spec/selector', `Referenced selector not found: ${JSON.stringify(selectorString(selector))}`);
        continue;
      }
      for (const w of matched) {
        const key = `${w.kind}/${w.namespace}/${w.name}`;
        const entry = byWorkload.get(key) ?? { workload: w, telemetries: [] };
        entry.telemetries.push(t);
        byWorkload.set(key, entry);
      }
    }
    for (const { workload, telemetries: list } of byWorkload.values()) {
      if (list.length < 2) continue;
      const names = list.map(fullName).sort();
      for (const t of list) {
        ctx.report(Messages.ConflictingTelemetryWorkloadSelectors, t, '/spec/selector', `The Telemetries [${names.join(' ')}] in namespace ${JSON.stringify(workload.namespace)} select the same workload pod ${JSON.stringify(workload.name)}, which can lead to undefined behavior.`);
      }
    }
  },
};

export const telemetryDefaultSelectorAnalyzer: Analyzer = {
  name: 'telemetry.DefaultSelectorAnalyzer',
  description: "Validates that there aren't multiple telemetry resources that have no selector",
  analyze(ctx) {
    const byNamespace = new Map<string, Telemetry[]>();
    for (const t of telemetries(ctx)) {
      if (Object.keys(selectorOf(t)).length > 0 || hasTargetRef(t)) continue;
      byNamespace.set(t.metadata.namespace, [...(byNamespace.get(t.metadata.namespace) ?? []), t]);
    }
    for (const [ns, list] of byNamespace) {
      if (list.length < 2) continue;
      const names = list.map(fullName).sort();
      for (const t of list) {
        ctx.report(Messages.MultipleTelemetriesWithoutWorkloadSelectors, t, '/metadata/name', `The Telemetries [${names.join(' ')}] in namespace ${JSON.stringify(ns)} have no workload selector, which can lead to undefined behavior.`);
      }
    }
  },
};

export const telemetryProviderAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'Validates that providers in telemetry resource is valid',
  analyze(ctx) {
    // An access log entry without providers means "the default providers"; with none configured it does nothing.
    const defaults = ctx.index.meshConfig.defaultProviders.accessLogging;
    if (arr(defaults).length > 0) return;
    for (const t of telemetries(ctx)) {
      arr(t.spec.accessLogging).forEach((entry, i) => {
        // An entry that turns logging off needs no provider.
        if (arr(entry?.providers).length > 0 || (entry as { disabled?: unknown } | undefined)?.disabled === true) return;
        ctx.report(Messages.InvalidTelemetryProvider, t, pointer('spec', 'accessLogging', i), `The Telemetry ${t.metadata.name} in namespace ${JSON.stringify(t.metadata.namespace)} with empty providers will be ignored.`);
      });
    }
  },
};

export const lightstepAnalyzer: Analyzer = {
  name: 'telemetry.LightstepAnalyzer',
  description: 'Validates that lightstep provider is still used',
  analyze(ctx) {
    // Istio removed the Lightstep tracer (Lightstep accepts OpenTelemetry): a Telemetry that traces with one is deprecated.
    const lightstep = new Set(ctx.index.meshConfig.extensionProviders.filter((p) => p.lightstep !== undefined).map((p) => p.name));
    if (lightstep.size === 0) return;
    for (const t of telemetries(ctx)) {
      arr(t.spec.tracing).forEach((tracing, i) => {
        arr(tracing?.providers).forEach((p, j) => {
          const name = p?.name;
          if (typeof name !== 'string' || !lightstep.has(name)) return;
          ctx.report(Messages.Deprecated, t, pointer('spec', 'tracing', i, 'providers', j, 'name'), `Deprecated: The Lightstep provider ${JSON.stringify(name)} is deprecated, please migrate to OpenTelemetry provider.`);
        });
      });
    }
  },
};
