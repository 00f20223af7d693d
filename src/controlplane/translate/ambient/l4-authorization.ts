// AuthorizationPolicy → Istio's `istio.security.Authorization` for the node proxy (ztunnel), as istiod converts it:
// only policies that attach to workloads (no targetRefs: those are a waypoint's), only ALLOW and DENY; scope GLOBAL
// for the root namespace's policies without a selector, NAMESPACE for another namespace's, WORKLOAD_SELECTOR for those
// with a selector (the workloads name them). ztunnel sees L4 only: a rule that needs HTTP (methods, paths, hosts,
// request principals, headers, claims) matches nothing in an ALLOW policy and loses those fields in a DENY one (it
// then denies more), as in Istio.

import type { Resource } from '../../../config/resource.js';
import type { AuthorizationPolicySpec, Condition, Operation, Rule, Source } from '../../../config/types/security.js';
import { nonEmptySelectorMatches } from '../../../config/labels.js';
import { ipBytes, type Authorization, type AuthorizationClause, type AuthorizationMatch, type AuthorizationRule, type IpBlock, type StringMatch } from '../../../xds/istio/workload.js';
import type { Workload } from '../../registry/service-registry.js';
import { authorizationKey } from '../names.js';
import type { PushContext } from '../push-context.js';

type Spec = AuthorizationPolicySpec;

const attachesToWorkloads = (p: Resource<Spec>) => !p.spec.targetRef && !p.spec.targetRefs?.length;
const hasSelector = (p: Resource<Spec>) => Object.keys(p.spec.selector?.matchLabels ?? {}).length > 0;
const dryRun = (p: Resource<unknown>) => String(p.metadata.annotations?.['istio.io/dry-run'] ?? '') === 'true';

/** Istio's string forms: `exact`, `prefix*`, `*suffix`, `*` (present). */
function glob(v: string): StringMatch {
  if (v === '*') return { presence: {} };
  if (v.endsWith('*')) return { prefix: v.slice(0, -1) };
  if (v.startsWith('*')) return { suffix: v.slice(1) };
  return { exact: v };
}

/** `1.2.3.4` or `10.0.0.0/8` (IPv6 too) as address bytes and prefix length; undefined when malformed. */
function ipBlock(v: string): IpBlock | undefined {
  const [addr = '', len] = v.split('/');
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  let bytes: string;
  try {
    bytes = ipBytes(addr);
  } catch {
    return undefined;
  }
  const max = Buffer.from(bytes, 'base64').length * 8;
  const length = len === undefined ? max : Number(len);
  return max && length <= max ? { address: bytes, length } : undefined;
}

/** A service account `ns/sa`, or `sa` in `namespace`, as the principal's suffix (any trust domain). */
const serviceAccountPrincipal = (v: string, namespace: string): StringMatch => {
  const [first = '', second] = v.split('/', 2);
  return second === undefined ? { suffix: `/ns/${namespace}/sa/${first}` } : { suffix: `/ns/${first}/sa/${second}` };
};

/** Builds one rule's clauses; `l7` records that it needed something only a waypoint (or sidecar) can see. */
class ClauseBuilder {
  l7 = false;
  unparsable = false;
  readonly clauses: AuthorizationClause[] = [];

  strings(values: string[] | undefined, build: (v: string) => StringMatch = glob): StringMatch[] | undefined {
    return values?.length ? values.map(build) : undefined;
  }

  ips(values: string[] | undefined): IpBlock[] | undefined {
    if (!values?.length) return undefined;
    const out = values.map(ipBlock);
    if (out.some((b) => !b)) this.unparsable = true;
    return out.filter((b): b is IpBlock => !!b);
  }

  ports(values: string[] | undefined): number[] | undefined {
    if (!values?.length) return undefined;
    if (values.some((v) => !/^\d{1,5}$/.test(v))) this.unparsable = true;
    return values.filter((v) => /^\d{1,5}$/.test(v)).map(Number);
  }

  /** Fields only L7 can evaluate, when present. */
  needsL7(...lists: Array<unknown[] | undefined>): void {
    if (lists.some((l) => l?.length)) this.l7 = true;
  }
}

const compact = (m: AuthorizationMatch): AuthorizationMatch => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as AuthorizationMatch;

function sourceMatch(b: ClauseBuilder, s: Source, policyNamespace: string): AuthorizationMatch {
  b.needsL7(s.requestPrincipals, s.notRequestPrincipals, s.remoteIpBlocks, s.notRemoteIpBlocks);
  const principals = [...(b.strings(s.principals) ?? []), ...(b.strings(s.serviceAccounts, (v) => serviceAccountPrincipal(v, policyNamespace)) ?? [])];
  const notPrincipals = [...(b.strings(s.notPrincipals) ?? []), ...(b.strings(s.notServiceAccounts, (v) => serviceAccountPrincipal(v, policyNamespace)) ?? [])];
  return compact({
    principals: principals.length ? principals : undefined,
    notPrincipals: notPrincipals.length ? notPrincipals : undefined,
    namespaces: b.strings(s.namespaces),
    notNamespaces: b.strings(s.notNamespaces),
    sourceIps: b.ips(s.ipBlocks),
    notSourceIps: b.ips(s.notIpBlocks),
  });
}

function operationMatch(b: ClauseBuilder, o: Operation): AuthorizationMatch {
  b.needsL7(o.hosts, o.notHosts, o.methods, o.notMethods, o.paths, o.notPaths);
  return compact({ destinationPorts: b.ports(o.ports), notDestinationPorts: b.ports(o.notPorts) });
}

function conditionMatch(b: ClauseBuilder, c: Condition): AuthorizationMatch | undefined {
  switch (c.key) {
    case 'source.ip':
      return compact({ sourceIps: b.ips(c.values), notSourceIps: b.ips(c.notValues) });
    case 'source.namespace':
      return compact({ namespaces: b.strings(c.values), notNamespaces: b.strings(c.notValues) });
    case 'source.principal':
      return compact({ principals: b.strings(c.values), notPrincipals: b.strings(c.notValues) });
    case 'source.serviceAccount':
      return compact({ principals: b.strings(c.values, (v) => serviceAccountPrincipal(v, '*')), notPrincipals: b.strings(c.notValues, (v) => serviceAccountPrincipal(v, '*')) });
    case 'destination.ip':
      return compact({ destinationIps: b.ips(c.values), notDestinationIps: b.ips(c.notValues) });
    case 'destination.port':
      return compact({ destinationPorts: b.ports(c.values), notDestinationPorts: b.ports(c.notValues) });
    default:
      b.l7 = true;
      return undefined;
  }
}

const isEmpty = (m: AuthorizationMatch) => Object.keys(m).length === 0;

/**
 * One Istio rule as ztunnel's rule, or undefined when it can match nothing at L4 (an ALLOW rule that needs L7). For
 * DENY the L7 fields are left out, so the rule denies what its L4 fields name.
 */
export function l4Rule(rule: Rule, action: 'ALLOW' | 'DENY', policyNamespace: string): AuthorizationRule | undefined {
  const b = new ClauseBuilder();
  const froms = (rule.from ?? []).map((f) => sourceMatch(b, f.source ?? {}, policyNamespace));
  const tos = (rule.to ?? []).map((t) => operationMatch(b, t.operation ?? {}));
  const whens = (rule.when ?? []).map((c) => conditionMatch(b, c));
  if (action === 'ALLOW' && (b.l7 || b.unparsable)) return undefined;
  const clauses: AuthorizationClause[] = [];
  // An entry with nothing L4 left (only L7 fields, in a DENY rule) matches everything: the clause then says nothing.
  if (froms.length && !froms.some(isEmpty)) clauses.push({ matches: froms });
  if (tos.length && !tos.some(isEmpty)) clauses.push({ matches: tos });
  for (const w of whens) if (w && !isEmpty(w)) clauses.push({ matches: [w] });
  return { clauses };
}

/** One AuthorizationPolicy for ztunnels, or undefined when it is not theirs (targetRefs, AUDIT, CUSTOM). */
export function l4Authorization(p: Resource<Spec>, rootNamespace: string): Authorization | undefined {
  const action = p.spec.action ?? 'ALLOW';
  if ((action !== 'ALLOW' && action !== 'DENY') || !attachesToWorkloads(p)) return undefined;
  const rules = (p.spec.rules ?? []).map((r) => l4Rule(r, action, p.metadata.namespace)).filter((r): r is AuthorizationRule => !!r);
  return {
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    scope: hasSelector(p) ? 'WORKLOAD_SELECTOR' : p.metadata.namespace === rootNamespace ? 'GLOBAL' : 'NAMESPACE',
    action,
    rules,
    ...(dryRun(p) ? { dryRun: true } : {}),
  };
}

/** Every policy ztunnels enforce, for this push context. */
export function wdsAuthorizations(push: PushContext): Authorization[] {
  return push.policies.allAuthorizationPolicies().map((p) => l4Authorization(p, push.mesh.rootNamespace)).filter((a): a is Authorization => !!a);
}

/** The selector-based policies (`namespace/name`) that apply to a workload: its Workload lists them. */
export function selectorPolicyKeys(push: PushContext, w: Workload): string[] {
  return push.policies
    .authorizationPoliciesFor(w)
    .filter((p) => attachesToWorkloads(p) && hasSelector(p) && nonEmptySelectorMatches(p.spec.selector?.matchLabels, w.labels))
    .map((p) => authorizationKey(p.metadata.namespace, p.metadata.name));
}
