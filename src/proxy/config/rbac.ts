// Envoy's RBAC rules (what Istio's AuthorizationPolicy becomes) compiled into predicates, shared by the HTTP filter
// (envoy.filters.http.rbac) and the network filter (envoy.filters.network.rbac). A rule form this proxy does not
// know is a config error, and its predicate is fail-closed for the action it sits in: it never lets an ALLOW
// policy match and always lets a DENY policy match, so a misunderstood policy denies rather than allows.

import { compileCidr, cidrContains, type Cidr } from './cidr.js';
import type { HeaderMatcher, StringMatcher } from '../../xds/envoy/index.js';
import { compileHeaderMatcher } from './header-matcher.js';
import { compileStringMatcher } from './string-matcher.js';
import { ConfigCode, type IssueSink } from '../errors.js';
import type { ConnectionInfo, HttpStream } from '../http/http-stream.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a rule looks at: the connection always, the request when the rule runs in the HTTP filter. */
export interface RbacInput {
  readonly conn: ConnectionInfo;
  readonly stream?: HttpStream;
}
export type RbacCheck = (input: RbacInput) => boolean;

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface RbacPolicy {
  readonly name: string;
  readonly matches: RbacCheck;
}

export interface CompiledRbac {
  readonly action: RbacAction;
  readonly policies: readonly RbacPolicy[];
  /** No `rules` at all: Envoy enforces nothing. */
  readonly none: boolean;
  /** Rules evaluated without enforcement (Istio's dry-run and CUSTOM selection); their result goes to metadata. */
  readonly shadow: { readonly action: RbacAction; readonly policies: readonly RbacPolicy[] } | undefined;
}

/** The first policy that matches `input`, if any. */
export function matchingPolicy(policies: readonly RbacPolicy[], input: RbacInput): string | undefined {
  for (const p of policies) if (p.matches(input)) return p.name;
  return undefined;
}

/** Whether `rbac` lets `input` through. */
export function rbacAllows(rbac: CompiledRbac, input: RbacInput): boolean {
  if (rbac.none || rbac.action === 'LOG') return true;
  const matched = matchingPolicy(rbac.policies, input) !== undefined;
  return rbac.action === 'ALLOW' ? matched : !matched;
}

export function compileRbac(config: Json | undefined, sink: IssueSink, field: string): CompiledRbac {
  const rules = config?.rules as Json | undefined;
  const shadowRules = config?.shadowRules as Json | undefined;
  const policies = (r: Json | undefined, f: string, action: RbacAction) =>
    Object.entries((r?.policies ?? {}) as Record<string, Json>).map(([name, pol]) => compilePolicy(name, pol, action, sink, `${f}/policies/${name}`));
  const action = actionOf(rules?.action, sink, `${field}/rules/action`);
  const shadowAction = actionOf(shadowRules?.action, sink, `${field}/shadowRules/action`);
  return {
    action,
    policies: rules ? policies(rules, `${field}/rules`, action) : [],
    none: !rules,
    shadow: shadowRules ? { action: shadowAction, policies: policies(shadowRules, `${field}/shadowRules`, shadowAction) } : undefined,
  };
}

function actionOf(v: unknown, sink: IssueSink, field: string): RbacAction {
  if (v === undefined || v === 'ALLOW' || v === 0) return 'ALLOW';
  if (v === 'DENY' || v === 1) return 'DENY';
  if (v === 'LOG' || v === 2) return 'LOG';
  sink.error(ConfigCode.InvalidField, field, `unknown RBAC action ${JSON.stringify(v)}`);
  return 'DENY';
}

function compilePolicy(name: string, pol: Json, action: RbacAction, sink: IssueSink, field: string): RbacPolicy {
  // Fail closed: an unknown form inside an ALLOW policy never matches; inside a DENY policy it always matches.
  const unknown = action === 'DENY';
  const perms = ((pol.permissions ?? []) as Json[]).map((x, i) => permission(x, sink, `${field}/permissions/${i}`, unknown));
  const ids = ((pol.principals ?? []) as Json[]).map((x, i) => principal(x, sink, `${field}/principals/${i}`, unknown));
  if (!perms.length || !ids.length) sink.error(ConfigCode.InvalidField, field, 'an RBAC policy needs at least one permission and one principal');
  // A policy matches when any permission and any principal match (Envoy's semantics).
  return { name, matches: (input) => perms.some((p) => p(input)) && ids.some((p) => p(input)) };
}

const stringPredicate = (m: StringMatcher | undefined): ((v: string | undefined) => boolean) => {
  if (!m) return (v) => v !== undefined;
  const p = compileStringMatcher(m);
  return (v) => v !== undefined && p(v);
};

function cidrOf(r: Json | undefined, sink: IssueSink, field: string): Cidr | undefined {
  const c = r ? compileCidr(String(r.addressPrefix ?? ''), Number(r.prefixLen?.value ?? r.prefixLen ?? 0)) : undefined;
  if (!c) sink.error(ConfigCode.InvalidField, field, `invalid CIDR range ${JSON.stringify(r)}`);
  return c;
}

/** The client address as Envoy's `remote_ip` sees it: from X-Forwarded-For minus the trusted hops, else the peer. */
function remoteIp(input: RbacInput): string {
  const s = input.stream;
  const xff = s ? s.headers['x-forwarded-for'] : undefined;
  if (!s || !xff) return input.conn.remoteAddress;
  const list = String(xff).split(',').map((x) => x.trim()).filter(Boolean);
  const i = list.length - 1 - s.hcm.config.xffNumTrustedHops;
  return list[Math.max(0, i)] ?? input.conn.remoteAddress;
}

function header(m: HeaderMatcher): RbacCheck {
  const h = compileHeaderMatcher(m);
  return (input) => !!input.stream && h(input.stream);
}

/** Dynamic metadata lookup (jwt_authn / istio_authn results): a string, or a list where any element may match. */
function metadata(m: Json, sink: IssueSink, field: string, unknown: boolean): RbacCheck {
  const filter = String(m.filter ?? '');
  const path = ((m.path ?? []) as Json[]).map((p) => String(p.key ?? ''));
  const value = (m.value ?? {}) as Json;
  let test: (v: unknown) => boolean;
  if (value.stringMatch) {
    const p = compileStringMatcher(value.stringMatch as StringMatcher);
    test = (v) => (Array.isArray(v) ? v.some((x) => typeof x === 'string' && p(x)) : typeof v === 'string' && p(v));
  } else if (value.listMatch?.oneOf?.stringMatch) {
    const p = compileStringMatcher(value.listMatch.oneOf.stringMatch as StringMatcher);
    test = (v) => Array.isArray(v) && v.some((x) => typeof x === 'string' && p(x));
  } else if (value.presentMatch !== undefined) {
    test = (v) => (v !== undefined) === !!value.presentMatch;
  } else if (value.boolMatch !== undefined) {
    test = (v) => v === value.boolMatch;
  } else {
    sink.error(ConfigCode.UnsupportedField, `${field}/value`, `metadata value matcher ${Object.keys(value).join(', ')} is not supported`);
    return () => unknown;
  }
  const invert = m.invert === true;
  return (input) => {
    let v: unknown = input.stream?.dynamicMetadata?.[filter];
    for (const k of path) v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    return test(v) !== invert;
  };
}

/** Envoy's field names for the boolean forms of permissions and principals. */
const PERMISSION_FORMS = { and: 'andRules', or: 'orRules', list: 'rules', not: 'notRule' } as const;
const PRINCIPAL_FORMS = { and: 'andIds', or: 'orIds', list: 'ids', not: 'notId' } as const;
type Forms = typeof PERMISSION_FORMS | typeof PRINCIPAL_FORMS;
type Compile = (p: Json, sink: IssueSink, field: string, unknown: boolean) => RbacCheck;

/**
 * The forms permissions and principals share: any, and/or/not of their own kind, header, urlPath, metadata.
 * undefined when `p` is none of them.
 */
function sharedForm(p: Json, sink: IssueSink, field: string, unknown: boolean, forms: Forms, self: Compile): RbacCheck | undefined {
  if (p.any) return () => true;
  const list = (key: string) => ((p[key]?.[forms.list] ?? []) as Json[]).map((r, i) => self(r, sink, `${field}/${key}/${forms.list}/${i}`, unknown));
  if (p[forms.and]) {
    const rules = list(forms.and);
    return (s) => rules.every((r) => r(s));
  }
  if (p[forms.or]) {
    const rules = list(forms.or);
    return (s) => rules.some((r) => r(s));
  }
  if (p[forms.not]) {
    // Inside a negation, failing closed means the opposite answer.
    const r = self(p[forms.not], sink, `${field}/${forms.not}`, !unknown);
    return (s) => !r(s);
  }
  if (p.header) return header(p.header as HeaderMatcher);
  if (p.urlPath) {
    const m = stringPredicate(p.urlPath.path);
    return (s) => !!s.stream && m(s.stream.pathOnly);
  }
  if (p.metadata) return metadata(p.metadata, sink, `${field}/metadata`, unknown);
  return undefined;
}

function permission(p: Json, sink: IssueSink, field: string, unknown: boolean): RbacCheck {
  const shared = sharedForm(p, sink, field, unknown, PERMISSION_FORMS, permission);
  if (shared) return shared;
  if (p.destinationPort !== undefined) return (s) => s.conn.localPort === Number(p.destinationPort);
  if (p.destinationPortRange) {
    const { start, end } = p.destinationPortRange as { start: number; end: number };
    return (s) => s.conn.localPort >= start && s.conn.localPort < end;
  }
  if (p.destinationIp) {
    const c = cidrOf(p.destinationIp, sink, `${field}/destinationIp`);
    return (s) => !!c && cidrContains(c, s.conn.localAddress);
  }
  if (p.requestedServerName) {
    const m = stringPredicate(p.requestedServerName);
    return (s) => m(s.conn.sni);
  }
  sink.error(ConfigCode.UnsupportedField, field, `RBAC permission ${Object.keys(p).join(', ')} is not supported`);
  return () => unknown;
}

function principal(p: Json, sink: IssueSink, field: string, unknown: boolean): RbacCheck {
  const shared = sharedForm(p, sink, field, unknown, PRINCIPAL_FORMS, principal);
  if (shared) return shared;
  if (p.authenticated) {
    // The peer's identity from its verified certificate (mutual TLS); a plaintext peer has none.
    const m = stringPredicate(p.authenticated.principalName);
    return (s) => !!s.conn.peerPrincipal && m(s.conn.peerPrincipal);
  }
  if (p.directRemoteIp || p.sourceIp) {
    const c = cidrOf(p.directRemoteIp ?? p.sourceIp, sink, `${field}/directRemoteIp`);
    return (s) => !!c && cidrContains(c, s.conn.remoteAddress);
  }
  if (p.remoteIp) {
    const c = cidrOf(p.remoteIp, sink, `${field}/remoteIp`);
    return (s) => !!c && cidrContains(c, remoteIp(s));
  }
  sink.error(ConfigCode.UnsupportedField, field, `RBAC principal ${Object.keys(p).join(', ')} is not supported`);
  return () => unknown;
}
