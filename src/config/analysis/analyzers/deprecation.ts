// Deprecated Istio fields and resource types (IST0002), as istioctl's deprecation analyzer lists them by hand.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { SidecarSpec, VirtualServiceSpec } from '../../types/networking.js';
import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';
import { arr, isRecord, ofKind } from './util.js';

/** Istio resource types whose CRDs Istio removed: a CustomResourceDefinition still defining one is reported. */
const REMOVED_TYPES: ReadonlyArray<{ group: string; kind: string }> = [
  { group: 'rbac.istio.io', kind: 'ClusterRbacConfig' },
  { group: 'rbac.istio.io', kind: 'RbacConfig' },
  { group: 'rbac.istio.io', kind: 'ServiceRole' },
  { group: 'rbac.istio.io', kind: 'ServiceRoleBinding' },
];

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'Checks for deprecated Istio types and fields',
  analyze(ctx) {
    for (const vs of ofKind<VirtualServiceSpec>(ctx.resources, GROUPS.ISTIO_NET, 'VirtualService')) {
      arr(vs.spec.http).forEach((route, i) => {
        const delay = (route as { fault?: { delay?: { percent?: unknown } } } | undefined)?.fault?.delay;
        if (typeof delay?.percent === 'number' && delay.percent > 0) {
          ctx.report(Messages.Deprecated, vs, pointer('spec', 'http', i, 'fault', 'delay', 'percent'), 'Deprecated: HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage');
        }
      });
    }
    for (const sc of ofKind<SidecarSpec>(ctx.resources, GROUPS.ISTIO_NET, 'Sidecar')) {
      const policy = sc.spec.outboundTrafficPolicy as { egressProxy?: unknown } | undefined;
      if (isRecord(policy) && policy.egressProxy !== undefined && policy.egressProxy !== null) {
        ctx.report(Messages.Deprecated, sc, '/spec/outboundTrafficPolicy/egressProxy', 'Deprecated: OutboundTrafficPolicy.EgressProxy ignored');
      }
    }
    for (const crd of ctx.index.list('apiextensions.k8s.io', 'CustomResourceDefinition')) {
      const group = crd.spec.group;
      const kind = isRecord(crd.spec.names) ? crd.spec.names.kind : undefined;
      if (REMOVED_TYPES.some((t) => t.group === group && t.kind === kind)) {
        ctx.report(Messages.Deprecated, crd, '/spec/names/kind', `Deprecated: Custom resource type ${String(group)} ${String(kind)} is removed`);
      }
    }
  },
};
