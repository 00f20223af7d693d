// Istio's admission webhooks: injector webhooks that overlap or name a control plane Service that does not exist
// (IST0139), and the webhooks of a remote cluster that must reach an external control plane by URL (IST0163, IST0164).

import { isIP } from 'node:net';
import type { LabelSelector } from '../../types/kubernetes.js';
import { matchesLabelSelector } from '../../labels.js';
import { pointer, type Resource } from '../../resource.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import { Messages } from '../messages.js';
import { INJECT, INJECTION_LABEL, REVISION_LABEL } from './injection-state.js';
import { arr, isRecord } from './util.js';

const ADMISSION = 'admissionregistration.k8s.io';

interface Webhook {
  name?: unknown;
  clientConfig?: { service?: { name?: unknown; namespace?: unknown }; url?: unknown };
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
}

const webhooksOf = (r: Resource): Webhook[] => arr(r.raw.webhooks as Webhook[] | undefined).filter(isRecord);
const isIstioWebhook = (r: Resource) => webhooksOf(r).some((w) => typeof w.name === 'string' && w.name.endsWith('istio.io'));

/** The revisions a webhook configuration serves: its own label, and those its selectors name. */
function revisionsOf(r: Resource): string[] {
  const out = new Set<string>();
  if (r.metadata.labels[REVISION_LABEL] !== undefined) out.add(r.metadata.labels[REVISION_LABEL]!);
  for (const w of webhooksOf(r)) {
    for (const sel of [w.namespaceSelector, w.objectSelector]) {
      const label = sel?.matchLabels?.[REVISION_LABEL];
      if (label !== undefined) out.add(String(label));
      for (const e of arr(sel?.matchExpressions)) if (e?.key === REVISION_LABEL) for (const v of arr(e.values)) out.add(String(v));
    }
  }
  return [...out];
}

/** The namespace and pod labels that decide injection, for every revision: two webhooks must never both match one. */
function labelPermutations(revisions: readonly string[], key: string, values: readonly string[]): Array<Record<string, string>> {
  const base: Array<Record<string, string>> = [{}, ...values.map((v) => ({ [key]: v }))];
  return [...base, ...revisions.flatMap((rev) => base.map((b) => ({ ...b, [REVISION_LABEL]: rev })))];
}

export const webhookAnalyzer: Analyzer = {
  name: 'webhook.Analyzer',
  description: 'Checks the validity of Istio webhooks',
  analyze(ctx) {
    const configs = ctx.index.list(ADMISSION, 'MutatingWebhookConfiguration').filter((r) => {
      // A revision webhook that only aliases the default revision (no tag) stands for the same injector.
      if (r.metadata.labels['istio.io/tag'] === undefined && r.metadata.labels[REVISION_LABEL] === 'default') return false;
      return revisionsOf(r).length > 0 || isIstioWebhook(r);
    });
    const revisions = [...new Set(configs.flatMap(revisionsOf))];
    const hooks = configs.flatMap((r) => webhooksOf(r).map((w, i) => ({ r, w, i, id: `${r.metadata.name}/${String(w.name)}` })));
    const overlapping = new Map<string, Set<string>>();
    for (const ns of labelPermutations(revisions, INJECTION_LABEL, ['enabled', 'disabled'])) {
      for (const pod of labelPermutations(revisions, INJECT, ['true', 'false'])) {
        const matched = hooks.filter((h) => matchesLabelSelector(h.w.namespaceSelector, ns) && matchesLabelSelector(h.w.objectSelector, pod));
        if (matched.length < 2) continue;
        for (const h of matched) for (const o of matched) if (o !== h) overlapping.set(h.id, (overlapping.get(h.id) ?? new Set()).add(o.id));
      }
    }
    for (const h of hooks) {
      const others = overlapping.get(h.id);
      if (others) ctx.report(Messages.InvalidWebhook, h.r, pointer('webhooks', h.i), `Webhook overlaps with others: [${[...others].sort().join(' ')}]. This may cause injection to occur twice.`);
      const service = h.w.clientConfig?.service;
      if (!isRecord(service)) continue; // a URL: another cluster's control plane
      const ns = String(service.namespace ?? '');
      const name = String(service.name ?? '');
      if (!ctx.index.get('', 'Service', ns, name)) {
        ctx.report(Messages.InvalidWebhook, h.r, pointer('webhooks', h.i, 'clientConfig', 'service'), `Injector refers to a control plane service that does not exist: ${ns}/${name}.`);
      }
    }
  },
};

/** The webhook configurations a remote cluster of an external control plane has, by Istio's naming. */
const REMOTE_CONFIGS: ReadonlyArray<{ kind: string; prefix: string }> = [
  { kind: 'ValidatingWebhookConfiguration', prefix: 'istio-validator-' },
  { kind: 'ValidatingWebhookConfiguration', prefix: 'istiod-default-validator' },
  { kind: 'MutatingWebhookConfiguration', prefix: 'istio-sidecar-injector-' },
];

export const externalControlPlaneAnalyzer: Analyzer = {
  name: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
  description: 'Checks that the webhooks of a remote cluster reference an external control plane by a usable URL',
  analyze(ctx) {
    // A remote cluster's Istio webhooks call the external control plane through its ingress gateway, by URL.
    for (const { kind, prefix } of REMOTE_CONFIGS) {
      for (const r of ctx.index.list(ADMISSION, kind)) {
        if (!r.metadata.name.startsWith(prefix)) continue;
        const hooks = webhooksOf(r);
        if (!hooks.some((w) => isRecord(w.clientConfig) && 'url' in w.clientConfig)) continue;
        checkRemoteWebhooks(ctx, r, hooks);
      }
    }
  },
};

/** The first problem of a remote webhook configuration (as istioctl reports one per configuration). Names are not resolved: the analysis does no DNS. */
function checkRemoteWebhooks(ctx: AnalysisContext, r: Resource, hooks: readonly Webhook[]): void {
  for (let i = 0; i < hooks.length; i++) {
    const w = hooks[i]!;
    const name = String(w.name ?? '');
    const at = pointer('webhooks', i, 'clientConfig');
    const url = w.clientConfig?.url;
    if (typeof url !== 'string' || url.trim() === '') {
      ctx.report(Messages.InvalidExternalControlPlaneConfig, r, at, `The hostname () that was provided for the webhook (${name}) to reach the ingress gateway on the external control plane cluster is blank. Traffic may not flow properly.`);
      return;
    }
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      ctx.report(Messages.InvalidExternalControlPlaneConfig, r, at, `The hostname (${url}) that was provided for the webhook (${name}) to reach the ingress gateway on the external control plane cluster is not a valid URL. Traffic may not flow properly.`);
      return;
    }
    if (isIP(host) !== 0 || /^\d+(\.\d+){3}$/.test(host)) {
      ctx.report(Messages.ExternalControlPlaneAddressIsNotAHostname, r, at, `The address (${url}) that was provided for the webhook (${name}) to reach the ingress gateway on the external control plane cluster is an IP address. This is not recommended for a production environment.`);
      return;
    }
  }
}
