// Gateway API next to Istio: policies that select a Gateway API gateway's pods by label instead of targeting the
// Gateway (IST0166), and Gateway API CRDs older than Istio supports (IST0176).

import { GROUPS } from '../../kinds.js';
import { matchesLabels, stringRecord } from '../../labels.js';
import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';
import { arr, isRecord } from './util.js';

/** The label Istio puts on the pods it deploys for a Gateway API Gateway. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Policy kinds that take a workload selector, and a targetRef for Gateway API gateways. */
const POLICY_KINDS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: GROUPS.ISTIO_SEC, kind: 'AuthorizationPolicy' },
  { group: GROUPS.ISTIO_SEC, kind: 'RequestAuthentication' },
  { group: GROUPS.ISTIO_TEL, kind: 'Telemetry' },
  { group: 'extensions.istio.io', kind: 'WasmPlugin' },
];

export const kubernetesGatewaySelectorAnalyzer: Analyzer = {
  name: 'k8sgateway.SelectorAnalyzer',
  description: 'Checks that policies target Gateway API gateways with targetRef rather than a workload selector',
  analyze(ctx) {
    const gatewayPods = ctx.index.workloads.filter((w) => w.kind !== 'WorkloadEntry' && w.labels[GATEWAY_NAME_LABEL] !== undefined);
    if (gatewayPods.length === 0) return;
    for (const { group, kind } of POLICY_KINDS) {
      for (const p of ctx.index.list(group, kind)) {
        if (isRecord(p.spec.targetRef) || arr(p.spec.targetRefs as unknown[] | undefined).length > 0) continue;
        const selector = stringRecord(isRecord(p.spec.selector) ? p.spec.selector.matchLabels : undefined);
        if (Object.keys(selector).length === 0) continue;
        const pod = gatewayPods.find((w) => w.namespace === p.metadata.namespace && matchesLabels(selector, w.labels));
        if (!pod) continue;
        ctx.report(Messages.IneffectiveSelector, p, '/spec/selector', `Ineffective selector on Kubernetes Gateway ${pod.labels[GATEWAY_NAME_LABEL]}. Use the TargetRef field instead.`);
      }
    }
  },
};

/** The oldest Gateway API release (bundle version) whose CRD of a kind Istio processes; older ones are ignored. */
const MINIMUM_BUNDLE: Readonly<Record<string, string>> = { TLSRoute: '1.5.0' };

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, '').split(/[.-]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

export const gatewayApiCrdVersionAnalyzer: Analyzer = {
  name: 'k8sgateway.CRDVersionAnalyzer',
  description: 'Checks that the Gateway API CRDs are at a version Istio processes',
  analyze(ctx) {
    for (const crd of ctx.index.list('apiextensions.k8s.io', 'CustomResourceDefinition')) {
      if (crd.spec.group !== GROUPS.GATEWAY_API) continue;
      const kind = isRecord(crd.spec.names) ? String(crd.spec.names.kind ?? '') : '';
      const minimum = MINIMUM_BUNDLE[kind];
      const installed = crd.metadata.annotations['gateway.networking.k8s.io/bundle-version'];
      if (!minimum || !installed || compareVersions(installed, minimum) >= 0) continue;
      const version = installed.replace(/^v/, '');
      ctx.report(
        Messages.GatewayAPICRDVersionBelowMinimum,
        crd,
        '/metadata/annotations/gateway.networking.k8s.io~1bundle-version',
        `Gateway API CRD ${JSON.stringify(crd.metadata.name)} is at version ${JSON.stringify(version)} but Istio requires at least ${JSON.stringify(minimum)}; resources of this kind will not be processed. Upgrade the Gateway API CRDs to satisfy the minimum version.`,
      );
    }
  },
};
