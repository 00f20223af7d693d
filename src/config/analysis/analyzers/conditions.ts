// Status conditions that report a problem (IST0171): what Istio's controllers wrote back into the objects' status
// (waypoint binding, ztunnel and waypoint acceptance of policies, Gateway API acceptance), when the files hold it.

import { GROUPS } from '../../kinds.js';
import type { Resource } from '../../resource.js';
import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';
import { arr, isRecord } from './util.js';

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** For each kind, the condition types whose status False means a problem, and where the conditions are. */
const WATCHED: ReadonlyArray<{ group: string; kind: string; types: readonly string[]; perParent?: boolean }> = [
  { group: '', kind: 'Service', types: ['istio.io/WaypointBound'] },
  { group: GROUPS.ISTIO_NET, kind: 'ServiceEntry', types: ['istio.io/WaypointBound'] },
  { group: GROUPS.ISTIO_NET, kind: 'WorkloadEntry', types: ['istio.io/WaypointBound'] },
  { group: GROUPS.ISTIO_SEC, kind: 'AuthorizationPolicy', types: ['ZtunnelAccepted', 'WaypointAccepted'] },
  { group: GROUPS.GATEWAY_API, kind: 'Gateway', types: ['Accepted', 'Programmed', 'ResolvedRefs'] },
  { group: GROUPS.GATEWAY_API, kind: 'HTTPRoute', types: ['Accepted', 'Programmed', 'ResolvedRefs'], perParent: true },
  { group: GROUPS.GATEWAY_API, kind: 'GRPCRoute', types: ['Accepted', 'Programmed', 'ResolvedRefs'], perParent: true },
];

function conditionsOf(r: Resource, perParent: boolean): Array<{ condition: Condition; at: string }> {
  const status = isRecord(r.raw.status) ? r.raw.status : undefined;
  if (!status) return [];
  if (!perParent) return arr(status.conditions as Condition[] | undefined).map((condition, i) => ({ condition, at: `/status/conditions/${i}` }));
  return arr(status.parents as Array<{ conditions?: Condition[] }> | undefined).flatMap((p, i) => arr(p?.conditions).map((condition, j) => ({ condition, at: `/status/parents/${i}/conditions/${j}` })));
}

export const conditionAnalyzer: Analyzer = {
  name: 'conditions.ConditionAnalyzer',
  description: 'Checks the status conditions of resources for problems',
  analyze(ctx) {
    for (const { group, kind, types, perParent } of WATCHED) {
      for (const r of ctx.index.list(group, kind)) {
        for (const { condition: c, at } of conditionsOf(r, !!perParent)) {
          if (!isRecord(c) || typeof c.type !== 'string' || !types.includes(c.type)) continue;
          // A waypoint accepts part of a policy with status True but reason PartiallyInvalid: part of it is ignored.
          const negative = c.status === 'False' || (kind === 'AuthorizationPolicy' && c.type === 'WaypointAccepted' && c.reason === 'PartiallyInvalid');
          if (!negative) continue;
          ctx.report(Messages.NegativeConditionStatus, r, at, `A condition with a negative status is present: type=${c.type}, reason=${String(c.reason ?? '')}, message=${String(c.message ?? '')}.`);
        }
      }
    }
  },
};
