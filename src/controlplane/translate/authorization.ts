// AuthorizationPolicy → Envoy RBAC filters on a workload's inbound side, as Istio translates it: one filter for DENY
// policies ahead of one for ALLOW policies (no ALLOW policy: allow; ALLOW policies that match nothing: deny), AUDIT
// policies as a LOG filter, dry-run policies as shadow rules. HTTP ports get the HTTP filter (403 "RBAC: access
// denied"); TCP ports the network filter (the connection is closed).
//
// Every field Istio documents is translated. Whatever cannot be evaluated fails closed: on a TCP port an HTTP-only
// field makes an ALLOW rule match nothing and is dropped from a DENY rule (so it denies more); an unknown `when`
// key does the same on any port.

import type { Resource } from '../../config/resource.js';
import type { AuthorizationPolicySpec, Condition, Operation, PolicyTargetReference, Rule, Source } from '../../config/types/security.js';
import { customAuthorizationFilters, meshExtensions } from './ext-authz.js';

type Json = Record<string, unknown>;
type Action = 'ALLOW' | 'DENY' | 'AUDIT';
type Kind = 'http' | 'tcp';

const HTTP_RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NETWORK_RBAC = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
/** Where the JWT filter leaves verified claims (Istio's authn filter namespace). */
export const AUTHN_METADATA = 'istio_authn';
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

const NEVER: Json = { notId: { any: true } };
const NEVER_RULE: Json = { notRule: { any: true } };

/** Istio's string forms: exact, `prefix*`, `*suffix`, `*` (present); paths also take `{*}` and `{**}` templates. */
function matcher(v: string, opts: { ignoreCase?: boolean } = {}): Json {
  const ic = opts.ignoreCase ? { ignoreCase: true } : {};
  if (v === '*') return { safeRegex: { regex: '.+' } };
  if (v.endsWith('*')) return { prefix: v.slice(0, -1), ...ic };
  if (v.startsWith('*')) return { suffix: v.slice(1), ...ic };
  return { exact: v, ...ic };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pathMatcher(v: string): Json {
  if (!v.includes('{*}') && !v.includes('{**}')) return matcher(v);
  // URI templates: {*} is one path segment, {**} any number of them.
  const re = v
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : escapeRe(part)))
    .join('');
  return { safeRegex: { regex: re } };
}

/** A principal `td/ns/x/sa/y` (with wildcards) as a match on the peer's SPIFFE URI. */
function spiffe(v: string): Json {
  if (v === '*') return { prefix: 'spiffe://' };
  const m = matcher(v);
  if ('exact' in m) return { exact: `spiffe://${m.exact as string}` };
  if ('prefix' in m) return { prefix: `spiffe://${m.prefix as string}` };
  return m;
}

/** Namespace globs (`foo`, `foo*`, `*foo`, `*`) as a regex over the SPIFFE URI's `/ns/<namespace>/` segment. */
function namespaceMatcher(v: string): Json {
  const glob = v === '*' ? '[^/]+' : v.endsWith('*') ? `${escapeRe(v.slice(0, -1))}[^/]*` : v.startsWith('*') ? `[^/]*${escapeRe(v.slice(1))}` : escapeRe(v);
  return { safeRegex: { regex: `spiffe://[^/]+/ns/${glob}/.*` } };
}

/** `1.2.3.4` or `10.0.0.0/8` (or IPv6) as Envoy's CidrRange; undefined when malformed. */
function cidr(v: string): Json | undefined {
  const [addr, len] = v.split('/');
  if (!addr || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  const v6 = addr.includes(':');
  if (!v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) return undefined;
  const max = v6 ? 128 : 32;
  const prefixLen = len === undefined ? max : Number(len);
  return prefixLen > max ? undefined : { addressPrefix: addr, prefixLen };
}

const or = (list: Json[], key: 'orIds' | 'orRules'): Json => (list.length === 1 ? list[0]! : key === 'orIds' ? { orIds: { ids: list } } : { orRules: { rules: list } });
const and = (list: Json[], key: 'andIds' | 'andRules'): Json | undefined => (list.length === 0 ? undefined : list.length === 1 ? list[0]! : key === 'andIds' ? { andIds: { ids: list } } : { andRules: { rules: list } });

/** Builds one rule's principals and permissions, tracking whether it can be evaluated on this kind of port. */
class RuleBuilder {
  readonly ids: Json[] = [];
  readonly perms: Json[] = [];
  /** The rule uses something that cannot be evaluated here; for ALLOW it must never match. */
  unusable = false;

  constructor(
    private readonly kind: Kind,
    private readonly action: Action,
  ) {}

  /** HTTP-only fields on a TCP port: an ALLOW rule matches nothing; a DENY rule ignores the field (denies more). */
  httpOnly(): boolean {
    if (this.kind === 'http') return true;
    if (this.action !== 'DENY') this.unusable = true;
    return false;
  }

  /** Something that cannot be evaluated at all. */
  unknown(): void {
    if (this.action !== 'DENY') this.unusable = true;
  }

  /** `values` ORed, `notValues` negated, added to ids or perms. */
  add(side: 'ids' | 'perms', values: string[] | undefined, notValues: string[] | undefined, build: (v: string) => Json | undefined): Json[] {
    const out: Json[] = [];
    const key = side === 'ids' ? 'orIds' : 'orRules';
    const built = (list: string[]) => {
      const parts = list.map(build);
      if (parts.some((p) => p === undefined)) this.unknown();
      return parts.filter((p): p is Json => p !== undefined);
    };
    if (values?.length) {
      const parts = built(values);
      if (parts.length) out.push(or(parts, key));
    }
    if (notValues?.length) {
      const parts = built(notValues);
      if (parts.length) out.push(side === 'ids' ? { notId: or(parts, 'orIds') } : { notRule: or(parts, 'orRules') });
    }
    return out;
  }
}

const authenticated = (m: Json): Json => ({ authenticated: { principalName: m } });

/** A service account `ns/sa`, or `sa` in the namespaces the regex `namespaceRe` matches, as a SPIFFE match. */
function serviceAccount(v: string, namespaceRe: string): Json {
  const [first, second] = v.split('/', 2);
  const ns = second === undefined ? namespaceRe : escapeRe(first!);
  const sa = second ?? first!;
  return authenticated({ safeRegex: { regex: `spiffe://[^/]+/ns/${ns}/sa/${escapeRe(sa)}` } });
}
const authn = (key: string, path: string[], value: Json): Json => ({ metadata: { filter: AUTHN_METADATA, path: [{ key }, ...path.map((k) => ({ key: k }))], value } });
const requestPrincipal = (v: string): Json => authn('request.auth.principal', [], { stringMatch: matcher(v) });
const ipId = (field: 'directRemoteIp' | 'remoteIp') => (v: string) => {
  const c = cidr(v);
  return c ? { [field]: c } : undefined;
};

function sourceIds(b: RuleBuilder, s: Source, policyNamespace: string): Json[] {
  const ids: Json[] = [];
  ids.push(...b.add('ids', s.principals, s.notPrincipals, (v) => authenticated(spiffe(v))));
  if (s.requestPrincipals?.length || s.notRequestPrincipals?.length) {
    if (b.httpOnly()) ids.push(...b.add('ids', s.requestPrincipals, s.notRequestPrincipals, requestPrincipal));
  }
  ids.push(...b.add('ids', s.namespaces, s.notNamespaces, (v) => authenticated(namespaceMatcher(v))));
  ids.push(...b.add('ids', s.ipBlocks, s.notIpBlocks, ipId('directRemoteIp')));
  ids.push(...b.add('ids', s.remoteIpBlocks, s.notRemoteIpBlocks, ipId('remoteIp')));
  // serviceAccounts (Istio 1.24+): `ns/sa`, or `sa` in the policy's own namespace.
  ids.push(...b.add('ids', s.serviceAccounts, s.notServiceAccounts, (v) => serviceAccount(v, escapeRe(policyNamespace))));
  return ids;
}

function operationPerms(b: RuleBuilder, o: Operation): Json[] {
  const perms: Json[] = [];
  const httpField = (values?: string[], notValues?: string[]) => (values?.length || notValues?.length ? b.httpOnly() : false);
  if (httpField(o.methods, o.notMethods)) perms.push(...b.add('perms', o.methods, o.notMethods, (v) => ({ header: { name: ':method', stringMatch: matcher(v) } })));
  if (httpField(o.paths, o.notPaths)) perms.push(...b.add('perms', o.paths, o.notPaths, (v) => ({ urlPath: { path: pathMatcher(v) } })));
  if (httpField(o.hosts, o.notHosts)) {
    // Hosts match the authority case-insensitively, with or without a port.
    perms.push(...b.add('perms', o.hosts, o.notHosts, (v) => or([{ header: { name: ':authority', stringMatch: matcher(v, { ignoreCase: true }) } }, ...(v.includes('*') || v.includes(':') ? [] : [{ header: { name: ':authority', stringMatch: { prefix: `${v}:`, ignoreCase: true } } }])], 'orRules')));
  }
  perms.push(...b.add('perms', o.ports, o.notPorts, (v) => (/^\d{1,5}$/.test(v) ? { destinationPort: Number(v) } : undefined)));
  return perms;
}

/** A `when` condition on the side of the rule Envoy can express it on. */
function condition(b: RuleBuilder, c: Condition): { ids: Json[]; perms: Json[] } {
  const key = c.key ?? '';
  const none = { ids: [], perms: [] };
  const ids = (build: (v: string) => Json | undefined) => ({ ids: b.add('ids', c.values, c.notValues, build), perms: [] });
  const perms = (build: (v: string) => Json | undefined) => ({ ids: [], perms: b.add('perms', c.values, c.notValues, build) });
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return b.httpOnly() ? ids((v) => ({ header: { name: header[1]!.toLowerCase(), stringMatch: matcher(v) } })) : none;
  const claims = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claims) {
    const path = [...claims[1]!.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
    return b.httpOnly() ? ids((v) => authn('request.auth.claims', path, { stringMatch: matcher(v) })) : none;
  }
  switch (key) {
    case 'source.ip':
      return ids(ipId('directRemoteIp'));
    case 'remote.ip':
      return ids(ipId('remoteIp'));
    case 'source.namespace':
      return ids((v) => authenticated(namespaceMatcher(v)));
    case 'source.principal':
      return ids((v) => authenticated(spiffe(v)));
    case 'source.serviceAccount':
      // Without a namespace the condition names the account in any namespace.
      return ids((v) => serviceAccount(v, '[^/]+'));
    case 'request.auth.principal':
      return b.httpOnly() ? ids(requestPrincipal) : none;
    case 'request.auth.audiences':
    case 'request.auth.presenter':
      return b.httpOnly() ? ids((v) => authn(key, [], { stringMatch: matcher(v) })) : none;
    case 'destination.ip':
      return perms((v) => {
        const r = cidr(v);
        return r ? { destinationIp: r } : undefined;
      });
    case 'destination.port':
      return perms((v) => (/^\d{1,5}$/.test(v) ? { destinationPort: Number(v) } : undefined));
    case 'connection.sni':
      return perms((v) => ({ requestedServerName: matcher(v) }));
    default:
      b.unknown();
      return none;
  }
}

/** One AuthorizationPolicy rule as an Envoy RBAC policy. */
export function rbacPolicy(rule: Rule, kind: Kind, action: Action, policyNamespace = 'default'): Json {
  const b = new RuleBuilder(kind, action);
  const froms = (rule.from ?? []).map((f) => and(sourceIds(b, f.source ?? {}, policyNamespace), 'andIds') ?? { any: true });
  const tos = (rule.to ?? []).map((t) => and(operationPerms(b, t.operation ?? {}), 'andRules') ?? { any: true });
  const whenIds: Json[] = [];
  const whenPerms: Json[] = [];
  for (const c of rule.when ?? []) {
    const r = condition(b, c);
    whenIds.push(...r.ids);
    whenPerms.push(...r.perms);
  }
  if (b.unusable) return { permissions: [NEVER_RULE], principals: [NEVER] };
  const ids = and([...(froms.length ? [or(froms, 'orIds')] : []), ...whenIds], 'andIds') ?? { any: true };
  const perms = and([...(tos.length ? [or(tos, 'orRules')] : []), ...whenPerms], 'andRules') ?? { any: true };
  return { permissions: [perms], principals: [ids] };
}

export interface WorkloadRef {
  namespace: string;
  labels: Record<string, string>;
}

/** Whether a policy (AuthorizationPolicy, RequestAuthentication, …) selects a workload, by Istio's rules. */
export function policyApplies(r: Resource, rootNamespace: string, w: WorkloadRef): boolean {
  const spec = r.spec as { selector?: { matchLabels?: Record<string, string> }; targetRef?: PolicyTargetReference; targetRefs?: PolicyTargetReference[] };
  const refs = [...(spec.targetRef ? [spec.targetRef] : []), ...(spec.targetRefs ?? [])];
  if (refs.length) {
    // Attached to Gateway API Gateways: the workloads deployed for them carry the gateway-name label. Other kinds
    // (Service, ServiceEntry) address waypoints, which sidecars ignore as Istio's do.
    return r.metadata.namespace === w.namespace && refs.some((t) => t.kind === 'Gateway' && (t.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' && w.labels[GATEWAY_NAME_LABEL] === t.name);
  }
  const sel = spec.selector?.matchLabels ?? {};
  const selects = Object.entries(sel).every(([k, v]) => w.labels[k] === v);
  // Root-namespace policies apply mesh-wide (to the selected workloads in every namespace).
  if (r.metadata.namespace === rootNamespace) return selects;
  return r.metadata.namespace === w.namespace && selects;
}

const dryRun = (r: Resource) => String(r.metadata.annotations?.['istio.io/dry-run'] ?? '') === 'true';

/** The authorization filters for a workload port: [CUSTOM (RBAC shadow + ext_authz)], [AUDIT (LOG)], DENY, then ALLOW; none when no policy applies. */
export function authorizationFilters(resources: readonly Resource[], rootNamespace: string, namespace: string, labels: Record<string, string>, kind: Kind = 'http'): Json[] {
  const policies = resources
    .filter((r) => r.group === 'security.istio.io' && r.kind === 'AuthorizationPolicy' && policyApplies(r, rootNamespace, { namespace, labels }))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  // CUSTOM (external authorization) goes first: Istio evaluates CUSTOM, then DENY, then ALLOW.
  const out: Json[] = customAuthorizationFilters(resources, meshExtensions(resources, rootNamespace), rootNamespace, namespace, labels, kind);
  const filter = (name: string, typed: Json) => ({ name, typedConfig: { '@type': kind === 'http' ? HTTP_RBAC : NETWORK_RBAC, ...(kind === 'tcp' ? { statPrefix: 'tcp.' } : {}), ...typed } });
  const filterName = kind === 'http' ? 'envoy.filters.http.rbac' : 'envoy.filters.network.rbac';
  for (const action of ['AUDIT', 'DENY', 'ALLOW'] as const) {
    const mine = policies.filter((p) => ((p.spec as AuthorizationPolicySpec).action ?? 'ALLOW') === action);
    if (!mine.length) continue;
    const rules = (list: Resource[]) => {
      const out: Record<string, Json> = {};
      for (const p of list) {
        ((p.spec as AuthorizationPolicySpec).rules ?? []).forEach((rule, i) => {
          out[`ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]`] = rbacPolicy(rule, kind, action, p.metadata.namespace);
        });
      }
      return out;
    };
    const enforced = mine.filter((p) => !dryRun(p));
    const shadow = mine.filter(dryRun);
    const envoyAction = action === 'AUDIT' ? 'LOG' : action;
    out.push(
      filter(filterName, {
        // Only dry-run policies of this action: nothing is enforced (no `rules`), the result is recorded.
        ...(enforced.length ? { rules: { action: envoyAction, policies: rules(enforced) } } : {}),
        ...(shadow.length ? { shadowRules: { action: envoyAction, policies: rules(shadow) }, shadowRulesStatPrefix: 'istio_dry_run_' } : {}),
      }),
    );
  }
  return out;
}
