// AuthorizationPolicy → Envoy RBAC filters on a workload's inbound side, as Istio translates it: one filter for DENY
// policies ahead of one for ALLOW policies (no ALLOW policy: allow; ALLOW policies that match nothing: deny), AUDIT
// policies as a LOG filter, dry-run policies as shadow rules. HTTP ports get the HTTP filter (403 "RBAC: access
// denied"); TCP ports the network filter (the connection is closed).
//
// Every field Istio documents is translated. Whatever cannot be evaluated fails closed: on a TCP port an HTTP-only
// field makes an ALLOW rule match nothing and is dropped from a DENY rule (so it denies more); an unknown `when`
// key does the same on any port.

import type { MeshConfig } from '../../config/mesh-config.js';
import type { Resource } from '../../config/resource.js';
import type { AuthorizationPolicySpec, Condition, Operation, Rule, Source } from '../../config/types/security.js';
import { TYPE, typed, type CidrRange, type MetadataMatcher, type Permission, type Principal, type Rbac, type RbacPolicy, type StringMatcher, type TypedExtension } from '../../xds/envoy/index.js';
import { customAuthorizationFilters } from './ext-authz.js';
import type { PolicyIndex, WorkloadRef } from './policy-index.js';


type Action = 'ALLOW' | 'DENY' | 'AUDIT';
export type PortKind = 'http' | 'tcp';

/** Where the JWT filter leaves verified claims (Istio's authn filter namespace). */
export const AUTHN_METADATA = 'istio_authn';

const NEVER: Principal = { notId: { any: true } };
const NEVER_RULE: Permission = { notRule: { any: true } };

/** Istio's string forms: exact, `prefix*`, `*suffix`, `*` (present); paths also take `{*}` and `{**}` templates. */
function matcher(v: string, opts: { ignoreCase?: boolean } = {}): StringMatcher {
  const ic = opts.ignoreCase ? { ignoreCase: true } : {};
  if (v === '*') return { safeRegex: { regex: '.+' } };
  if (v.endsWith('*')) return { prefix: v.slice(0, -1), ...ic };
  if (v.startsWith('*')) return { suffix: v.slice(1), ...ic };
  return { exact: v, ...ic };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pathMatcher(v: string): StringMatcher {
  if (!v.includes('{*}') && !v.includes('{**}')) return matcher(v);
  // URI templates: {*} is one path segment, {**} any number of them.
  const re = v
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : escapeRe(part)))
    .join('');
  return { safeRegex: { regex: re } };
}

/** A principal `td/ns/x/sa/y` (with wildcards) as a match on the peer's SPIFFE URI. */
function spiffe(v: string): StringMatcher {
  if (v === '*') return { prefix: 'spiffe://' };
  const m = matcher(v);
  if (m.exact !== undefined) return { exact: `spiffe://${m.exact}` };
  if (m.prefix !== undefined) return { prefix: `spiffe://${m.prefix}` };
  return m;
}

/** Namespace globs (`foo`, `foo*`, `*foo`, `*`) as a regex over the SPIFFE URI's `/ns/<namespace>/` segment. */
function namespaceMatcher(v: string): StringMatcher {
  const glob = v === '*' ? '[^/]+' : v.endsWith('*') ? `${escapeRe(v.slice(0, -1))}[^/]*` : v.startsWith('*') ? `[^/]*${escapeRe(v.slice(1))}` : escapeRe(v);
  return { safeRegex: { regex: `spiffe://[^/]+/ns/${glob}/.*` } };
}

/** `1.2.3.4` or `10.0.0.0/8` (or IPv6) as Envoy's CidrRange; undefined when malformed. */
function cidr(v: string): CidrRange | undefined {
  const [addr, len] = v.split('/');
  if (!addr || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  const v6 = addr.includes(':');
  if (!v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) return undefined;
  const max = v6 ? 128 : 32;
  const prefixLen = len === undefined ? max : Number(len);
  return prefixLen > max ? undefined : { addressPrefix: addr, prefixLen };
}

/** The boolean forms, for principals and for permissions. */
const IDS = {
  or: (list: Principal[]): Principal => (list.length === 1 ? list[0]! : { orIds: { ids: list } }),
  and: (list: Principal[]): Principal | undefined => (list.length === 0 ? undefined : list.length === 1 ? list[0]! : { andIds: { ids: list } }),
  not: (p: Principal): Principal => ({ notId: p }),
};
const PERMS = {
  or: (list: Permission[]): Permission => (list.length === 1 ? list[0]! : { orRules: { rules: list } }),
  and: (list: Permission[]): Permission | undefined => (list.length === 0 ? undefined : list.length === 1 ? list[0]! : { andRules: { rules: list } }),
  not: (p: Permission): Permission => ({ notRule: p }),
};

/** Builds one rule's principals and permissions, tracking whether it can be evaluated on this kind of port. */
class RuleBuilder {
  /** The rule uses something that cannot be evaluated here; for ALLOW it must never match. */
  unusable = false;

  constructor(
    private readonly kind: PortKind,
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

  /** `values` ORed, `notValues` negated, in the boolean forms of `forms`. */
  add<T>(forms: { or: (l: T[]) => T; not: (t: T) => T }, values: string[] | undefined, notValues: string[] | undefined, build: (v: string) => T | undefined): T[] {
    const out: T[] = [];
    const built = (list: string[]) => {
      const parts = list.map(build);
      if (parts.some((p) => p === undefined)) this.unknown();
      return parts.filter((p): p is T => p !== undefined);
    };
    if (values?.length) {
      const parts = built(values);
      if (parts.length) out.push(forms.or(parts));
    }
    if (notValues?.length) {
      const parts = built(notValues);
      if (parts.length) out.push(forms.not(forms.or(parts)));
    }
    return out;
  }
}

const authenticated = (m: StringMatcher): Principal => ({ authenticated: { principalName: m } });

/** A service account `ns/sa`, or `sa` in the namespaces the regex `namespaceRe` matches, as a SPIFFE match. */
function serviceAccount(v: string, namespaceRe: string): Principal {
  const [first, second] = v.split('/', 2);
  const ns = second === undefined ? namespaceRe : escapeRe(first!);
  const sa = second ?? first!;
  return authenticated({ safeRegex: { regex: `spiffe://[^/]+/ns/${ns}/sa/${escapeRe(sa)}` } });
}
const authnMetadata = (key: string, path: string[], stringMatch: StringMatcher): MetadataMatcher => ({ filter: AUTHN_METADATA, path: [{ key }, ...path.map((k) => ({ key: k }))], value: { stringMatch } });
const requestPrincipal = (v: string): Principal => ({ metadata: authnMetadata('request.auth.principal', [], matcher(v)) });
const ipId = (field: 'directRemoteIp' | 'remoteIp') => (v: string): Principal | undefined => {
  const c = cidr(v);
  return c ? { [field]: c } : undefined;
};

function sourceIds(b: RuleBuilder, s: Source, policyNamespace: string): Principal[] {
  const ids: Principal[] = [];
  ids.push(...b.add(IDS, s.principals, s.notPrincipals, (v) => authenticated(spiffe(v))));
  if (s.requestPrincipals?.length || s.notRequestPrincipals?.length) {
    if (b.httpOnly()) ids.push(...b.add(IDS, s.requestPrincipals, s.notRequestPrincipals, requestPrincipal));
  }
  ids.push(...b.add(IDS, s.namespaces, s.notNamespaces, (v) => authenticated(namespaceMatcher(v))));
  ids.push(...b.add(IDS, s.ipBlocks, s.notIpBlocks, ipId('directRemoteIp')));
  ids.push(...b.add(IDS, s.remoteIpBlocks, s.notRemoteIpBlocks, ipId('remoteIp')));
  // serviceAccounts (Istio 1.24+): `ns/sa`, or `sa` in the policy's own namespace.
  ids.push(...b.add(IDS, s.serviceAccounts, s.notServiceAccounts, (v) => serviceAccount(v, escapeRe(policyNamespace))));
  return ids;
}

function operationPerms(b: RuleBuilder, o: Operation): Permission[] {
  const perms: Permission[] = [];
  const httpField = (values?: string[], notValues?: string[]) => (values?.length || notValues?.length ? b.httpOnly() : false);
  if (httpField(o.methods, o.notMethods)) perms.push(...b.add(PERMS, o.methods, o.notMethods, (v) => ({ header: { name: ':method', stringMatch: matcher(v) } })));
  if (httpField(o.paths, o.notPaths)) perms.push(...b.add(PERMS, o.paths, o.notPaths, (v) => ({ urlPath: { path: pathMatcher(v) } })));
  if (httpField(o.hosts, o.notHosts)) {
    // Hosts match the authority case-insensitively, with or without a port.
    perms.push(
      ...b.add(PERMS, o.hosts, o.notHosts, (v) =>
        PERMS.or([{ header: { name: ':authority', stringMatch: matcher(v, { ignoreCase: true }) } }, ...(v.includes('*') || v.includes(':') ? [] : [{ header: { name: ':authority', stringMatch: { prefix: `${v}:`, ignoreCase: true } } }])]),
      ),
    );
  }
  perms.push(...b.add(PERMS, o.ports, o.notPorts, (v) => (/^\d{1,5}$/.test(v) ? { destinationPort: Number(v) } : undefined)));
  return perms;
}

/** A `when` condition on the side of the rule Envoy can express it on. */
function condition(b: RuleBuilder, c: Condition): { ids: Principal[]; perms: Permission[] } {
  const key = c.key ?? '';
  const none = { ids: [], perms: [] };
  const ids = (build: (v: string) => Principal | undefined) => ({ ids: b.add(IDS, c.values, c.notValues, build), perms: [] });
  const perms = (build: (v: string) => Permission | undefined) => ({ ids: [], perms: b.add(PERMS, c.values, c.notValues, build) });
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) return b.httpOnly() ? ids((v) => ({ header: { name: header[1]!.toLowerCase(), stringMatch: matcher(v) } })) : none;
  const claims = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claims) {
    const path = [...claims[1]!.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
    return b.httpOnly() ? ids((v) => ({ metadata: authnMetadata('request.auth.claims', path, matcher(v)) })) : none;
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
      return b.httpOnly() ? ids((v) => ({ metadata: authnMetadata(key, [], matcher(v)) })) : none;
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
export function rbacPolicy(rule: Rule, kind: PortKind, action: Action, policyNamespace = 'default'): RbacPolicy {
  const b = new RuleBuilder(kind, action);
  const froms = (rule.from ?? []).map((f) => IDS.and(sourceIds(b, f.source ?? {}, policyNamespace)) ?? { any: true });
  const tos = (rule.to ?? []).map((t) => PERMS.and(operationPerms(b, t.operation ?? {})) ?? { any: true });
  const whenIds: Principal[] = [];
  const whenPerms: Permission[] = [];
  for (const c of rule.when ?? []) {
    const r = condition(b, c);
    whenIds.push(...r.ids);
    whenPerms.push(...r.perms);
  }
  if (b.unusable) return { permissions: [NEVER_RULE], principals: [NEVER] };
  const ids = IDS.and([...(froms.length ? [IDS.or(froms)] : []), ...whenIds]) ?? { any: true };
  const perms = PERMS.and([...(tos.length ? [PERMS.or(tos)] : []), ...whenPerms]) ?? { any: true };
  return { permissions: [perms], principals: [ids] };
}

const dryRun = (r: Resource<unknown>) => String(r.metadata.annotations?.['istio.io/dry-run'] ?? '') === 'true';

/** Istio's RBAC policy names: `ns[<ns>]-policy[<name>]-rule[<i>]` (with a prefix for CUSTOM's shadow rules). */
export function rbacPolicies(list: ReadonlyArray<Resource<AuthorizationPolicySpec>>, kind: PortKind, action: Action, prefix = ''): Record<string, RbacPolicy> {
  const out: Record<string, RbacPolicy> = {};
  for (const p of list) {
    (p.spec.rules ?? []).forEach((rule, i) => {
      out[`${prefix}ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]`] = rbacPolicy(rule, kind, action, p.metadata.namespace);
    });
  }
  return out;
}

/** An RBAC filter for the kind of port: the HTTP filter, or the network filter (which carries a stat prefix). */
export function rbacFilter(kind: PortKind, config: Rbac): TypedExtension {
  return kind === 'http' ? { name: 'envoy.filters.http.rbac', typedConfig: typed(TYPE.httpRbac, config) } : { name: 'envoy.filters.network.rbac', typedConfig: typed(TYPE.networkRbac, { statPrefix: 'tcp.', ...config }) };
}

/** The authorization filters for a workload port: [CUSTOM (RBAC shadow + ext_authz)], [AUDIT (LOG)], DENY, then ALLOW; none when no policy applies. */
export function authorizationFilters(policies: PolicyIndex, mesh: Pick<MeshConfig, 'extensionProviders'>, w: WorkloadRef, kind: PortKind = 'http'): TypedExtension[] {
  return policyFilters(policies.authorizationPoliciesFor(w), mesh, kind);
}

/** The authorization filters for the policies that apply (a workload's, or a waypoint's for one service). */
export function policyFilters(applying: ReadonlyArray<Resource<AuthorizationPolicySpec>>, mesh: Pick<MeshConfig, 'extensionProviders'>, kind: PortKind = 'http'): TypedExtension[] {
  // CUSTOM (external authorization) goes first: Istio evaluates CUSTOM, then DENY, then ALLOW.
  const out: TypedExtension[] = customAuthorizationFilters(applying, mesh.extensionProviders, kind);
  for (const action of ['AUDIT', 'DENY', 'ALLOW'] as const) {
    const mine = applying.filter((p) => (p.spec.action ?? 'ALLOW') === action);
    if (!mine.length) continue;
    const enforced = mine.filter((p) => !dryRun(p));
    const shadow = mine.filter(dryRun);
    const envoyAction = action === 'AUDIT' ? 'LOG' : action;
    out.push(
      rbacFilter(kind, {
        // Only dry-run policies of this action: nothing is enforced (no `rules`), the result is recorded.
        ...(enforced.length ? { rules: { action: envoyAction, policies: rbacPolicies(enforced, kind, action) } } : {}),
        ...(shadow.length ? { shadowRules: { action: envoyAction, policies: rbacPolicies(shadow, kind, action) }, shadowRulesStatPrefix: 'istio_dry_run_' } : {}),
      }),
    );
  }
  return out;
}
