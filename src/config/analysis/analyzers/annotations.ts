// Annotation analyzers: unknown, misplaced, invalid, deprecated and alpha Istio annotations on Kubernetes objects.

import { escapePointerSegment, type Resource } from '../../resource.js';
import { podTemplateOf } from '../../types/kubernetes.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import { stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { INJECT } from './injection-state.js';
import { isIstioAnnotation, KNOWN_ANNOTATIONS } from './known-annotations.js';

/** One set of annotations to check: an object's own metadata, or (Trellis's addition) a workload's pod template, which becomes a Pod's. */
interface AnnotationSite {
  resource: Resource;
  /** The kind the annotations end up on (`Pod` for a template). */
  kind: string;
  base: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** Istio wrote some annotations itself: a Pod read back from a cluster, or one the CNI plugin set up (istio-validation). */
  injected: boolean;
}

const CHECKED_KINDS = new Set(['/Namespace', '/Service', '/Pod', 'apps/Deployment']);
const TEMPLATE_KINDS = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet', 'apps/ReplicaSet']);

function sites(ctx: AnalysisContext): AnnotationSite[] {
  const out: AnnotationSite[] = [];
  for (const r of ctx.resources) {
    const gk = `${r.group}/${r.kind}`;
    if (CHECKED_KINDS.has(gk)) {
      out.push({ resource: r, kind: r.kind, base: '/metadata/annotations', annotations: r.metadata.annotations, labels: r.metadata.labels, injected: r.kind === 'Pod' && writtenByIstio(r) });
    }
    if (TEMPLATE_KINDS.has(gk)) {
      const meta = podTemplateOf(r)?.metadata;
      out.push({ resource: r, kind: 'Pod', base: '/spec/template/metadata/annotations', annotations: stringRecord(meta?.annotations), labels: stringRecord(meta?.labels), injected: false });
    }
  }
  return out;
}

/** A pod Istio has processed: read back from a cluster, or with the init container the CNI plugin adds. */
function writtenByIstio(pod: Resource): boolean {
  if (pod.raw.status !== undefined) return true;
  const init = (pod.spec as { initContainers?: unknown }).initContainers;
  return Array.isArray(init) && init.some((c) => (c as { name?: unknown } | null)?.name === 'istio-validation');
}

export const annotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'Checks for misplaced and invalid Istio annotations in Kubernetes resources',
  analyze(ctx) {
    for (const site of sites(ctx)) {
      for (const [key, value] of Object.entries(site.annotations)) {
        if (!isIstioAnnotation(key)) continue;
        const at = `${site.base}/${escapePointerSegment(key)}`;
        const known = KNOWN_ANNOTATIONS.get(key);
        if (!known) {
          ctx.report(Messages.UnknownAnnotation, site.resource, at, `Unknown annotation: ${key}`);
          continue;
        }
        // Someone who also set the replacement label keeps the annotation on purpose, for older control planes.
        if (known.deprecated !== undefined && !(key === INJECT && site.labels[INJECT] !== undefined)) {
          ctx.report(Messages.DeprecatedAnnotation, site.resource, at, `Annotation ${JSON.stringify(key)} has been deprecated${known.deprecated} and may not work in future Istio versions.`);
        }
        if (known.resources.includes('Any')) continue;
        if (!(known.resources as readonly string[]).includes(site.kind)) {
          ctx.report(Messages.MisplacedAnnotation, site.resource, at, `Misplaced annotation: ${key} can only be applied to ${known.resources.join(', ')}`);
          continue;
        }
        const problem = known.validate?.(value);
        if (problem) ctx.report(Messages.InvalidAnnotation, site.resource, at, `Invalid annotation ${key}: ${problem}`);
      }
    }
  },
};

/** Annotations Istio writes itself (the injector, the revision, the ambient CNI), never the user's choice. */
const SET_BY_ISTIO = new Set(['sidecar.istio.io/status', 'istio.io/rev', 'ambient.istio.io/redirection']);

/** Annotations the injector (or the CNI plugin) writes on every pod it injects; Istio does not flag those. */
const INJECTOR_DEFAULTS = new Set(['sidecar.istio.io/interceptionMode', 'traffic.sidecar.istio.io/includeInboundPorts', 'traffic.sidecar.istio.io/excludeInboundPorts', 'traffic.sidecar.istio.io/includeOutboundIPRanges']);

export const alphaAnnotationsAnalyzer: Analyzer = {
  name: 'annotations.AlphaAnalyzer',
  description: 'Checks for alpha Istio annotations in Kubernetes resources',
  analyze(ctx) {
    for (const site of sites(ctx)) {
      for (const key of Object.keys(site.annotations)) {
        if (!isIstioAnnotation(key)) continue;
        const known = KNOWN_ANNOTATIONS.get(key);
        if (!known || known.status !== 'Alpha') continue;
        if (SET_BY_ISTIO.has(key)) continue;
        if (site.injected && INJECTOR_DEFAULTS.has(key)) continue;
        ctx.report(Messages.AlphaAnnotation, site.resource, `${site.base}/${escapePointerSegment(key)}`, `Annotation ${JSON.stringify(key)} is part of an alpha-phase feature and may be incompletely supported.`);
      }
    }
  },
};
