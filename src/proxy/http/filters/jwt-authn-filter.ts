// envoy.filters.http.jwt_authn: verifies JSON Web Tokens against each provider's issuer, audiences and JWKS (what
// Istio's RequestAuthentication becomes). A request without a token passes when the rule allows it missing (Istio's
// behaviour: authorization decides); a token that is present but invalid gets 401. A verified token's claims go to
// dynamic metadata: under the provider's `payloadInMetadata` key in `envoy.filters.http.jwt_authn`, and as Istio's
// request.auth.* attributes in `istio_authn` (the role of Istio's authn filter), which RBAC rules match on.
// Signatures are checked by `jose`, loaded on the first token (an idle sidecar without JWT rules does not carry it);
// JWKS arrive inline (the control plane fetches `jwksUri`, as istiod does).

type Jose = typeof import('jose');
let jose: Jose | undefined;
const loadJose = async (): Promise<Jose> => (jose ??= await import('jose'));

import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Any } from '../../../xds/envoy/index.js';
import { ConfigCode, LocalReply, type IssueSink } from '../../errors.js';
import { registerHttpFilter } from '../filter-registry.js';
import { FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../http-stream.js';

export const JWT_AUTHN_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const AUTHN_METADATA = 'istio_authn';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Provider {
  name: string;
  issuer: string | undefined;
  audiences: string[];
  /** The JWK Set; undefined when it could not be read: every token fails (closed, never open). */
  jwks: { keys: unknown[] } | undefined;
  /** Built from `jwks` on first use. */
  keys: JWTVerifyGetKey | undefined;
  fromHeaders: Array<{ name: string; prefix: string }>;
  fromParams: string[];
  fromCookies: string[];
  forward: boolean;
  forwardPayloadHeader: string | undefined;
  payloadInMetadata: string | undefined;
  claimToHeaders: Array<{ header: string; claim: string }>;
  clockSkewSeconds: number;
}

/** A requirement tree (Envoy's JwtRequirement); Istio emits requires_any of every provider plus allow_missing. */
type Requirement = { provider: string } | { any: Requirement[] } | { all: Requirement[] } | { allowMissing: true } | { allowMissingOrFailed: true };

interface Rule {
  prefix: string | undefined;
  path: string | undefined;
  requires: Requirement | undefined;
}

interface JwtConfig {
  providers: Map<string, Provider>;
  rules: Rule[];
}

type Outcome = { ok: true; provider?: Provider; payload?: JWTPayload; location?: TokenLocation } | { ok: false; missing: boolean; reason: string };

interface TokenLocation {
  header?: string;
  token: string;
}

function parseProvider(name: string, p: Json, sink: IssueSink, field: string): Provider {
  let jwks: { keys: unknown[] } | undefined;
  const inline = p.localJwks?.inlineString as string | undefined;
  if (inline !== undefined) {
    try {
      const parsed = JSON.parse(inline) as { keys?: unknown[] };
      if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
      jwks = parsed as { keys: unknown[] };
    } catch (err) {
      sink.warn(ConfigCode.InvalidField, `${field}/localJwks/inlineString`, `JWKS is not valid (${(err as Error).message}); every token of this provider is rejected`);
    }
  } else {
    sink.warn(ConfigCode.UnsupportedField, `${field}`, 'only inline JWKS (localJwks) are supported; every token of this provider is rejected');
  }
  return {
    name,
    issuer: p.issuer || undefined,
    audiences: (p.audiences ?? []) as string[],
    jwks,
    keys: undefined,
    fromHeaders: ((p.fromHeaders ?? []) as Json[]).map((h) => ({ name: String(h.name).toLowerCase(), prefix: String(h.valuePrefix ?? '') })),
    fromParams: (p.fromParams ?? []) as string[],
    fromCookies: (p.fromCookies ?? []) as string[],
    forward: p.forward === true,
    forwardPayloadHeader: p.forwardPayloadHeader || undefined,
    payloadInMetadata: p.payloadInMetadata || undefined,
    claimToHeaders: ((p.claimToHeaders ?? []) as Json[]).map((c) => ({ header: String(c.headerName).toLowerCase(), claim: String(c.claimName) })),
    clockSkewSeconds: p.clockSkewSeconds ?? 60,
  };
}

function parseRequirement(r: Json | undefined, sink: IssueSink, field: string, providers: Map<string, Provider>): Requirement | undefined {
  if (!r) return undefined;
  if (r.providerName !== undefined) {
    if (!providers.has(r.providerName)) sink.error(ConfigCode.InvalidField, `${field}/providerName`, `unknown JWT provider "${r.providerName}"`);
    return { provider: String(r.providerName) };
  }
  if (r.requiresAny) return { any: ((r.requiresAny.requirements ?? []) as Json[]).map((x, i) => parseRequirement(x, sink, `${field}/requiresAny/requirements/${i}`, providers)!).filter(Boolean) };
  if (r.requiresAll) return { all: ((r.requiresAll.requirements ?? []) as Json[]).map((x, i) => parseRequirement(x, sink, `${field}/requiresAll/requirements/${i}`, providers)!).filter(Boolean) };
  if (r.allowMissing) return { allowMissing: true };
  if (r.allowMissingOrFailed) return { allowMissingOrFailed: true };
  sink.error(ConfigCode.UnsupportedField, field, `JWT requirement ${Object.keys(r).join(', ')} is not supported`);
  // Fail closed: a requirement nobody can meet.
  return { all: [{ provider: '' }] };
}

function parse(value: Any | undefined, sink: IssueSink, field: string): JwtConfig {
  const v = (value ?? {}) as Json;
  const providers = new Map<string, Provider>();
  for (const [name, p] of Object.entries((v.providers ?? {}) as Record<string, Json>)) providers.set(name, parseProvider(name, p, sink, `${field}/providers/${name}`));
  const rules = ((v.rules ?? []) as Json[]).map((r, i) => ({
    prefix: r.match?.prefix as string | undefined,
    path: r.match?.path as string | undefined,
    requires: parseRequirement(r.requires, sink, `${field}/rules/${i}/requires`, providers),
  }));
  return { providers, rules };
}

/** Where a provider looks for its token; by default `Authorization: Bearer` and the `access_token` parameter. */
function extract(p: Provider, s: HttpStream): TokenLocation | undefined {
  const headers = p.fromHeaders.length || p.fromParams.length || p.fromCookies.length ? p.fromHeaders : [{ name: 'authorization', prefix: 'Bearer ' }];
  for (const h of headers) {
    const v = s.header(h.name);
    if (v !== undefined && v.startsWith(h.prefix)) {
      const token = v.slice(h.prefix.length).trim();
      if (token) return { header: h.name, token };
    }
  }
  const params = p.fromHeaders.length || p.fromParams.length || p.fromCookies.length ? p.fromParams : ['access_token'];
  if (params.length && s.query) {
    const q = s.queryParams();
    for (const name of params) {
      const token = q.get(name);
      if (token) return { token };
    }
  }
  if (p.fromCookies.length) {
    const cookies = s.header('cookie') ?? '';
    for (const part of cookies.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && p.fromCookies.includes(part.slice(0, eq).trim())) return { token: part.slice(eq + 1).trim() };
    }
  }
  return undefined;
}

/** Envoy's messages for the ways a token fails. */
function failure(err: unknown, joseErrors: Jose['errors']): string {
  if (err instanceof joseErrors.JWTExpired) return 'Jwt is expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'Audiences in Jwt are not allowed';
    if (err.claim === 'iss') return 'Jwt issuer is not configured';
    if (err.claim === 'nbf') return 'Jwt not yet valid';
    return 'Jwt verification fails';
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) return "Jwks doesn't have key to match kid or alg from Jwt";
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections';
  return 'Jwt verification fails';
}

async function verifyWith(p: Provider, loc: TokenLocation): Promise<Outcome> {
  if (!p.jwks) return { ok: false, missing: false, reason: "Jwks doesn't have key to match kid or alg from Jwt" };
  const j = await loadJose();
  try {
    p.keys ??= j.createLocalJWKSet(p.jwks as Parameters<Jose['createLocalJWKSet']>[0]);
    const { payload } = await j.jwtVerify(loc.token, p.keys, {
      ...(p.issuer ? { issuer: p.issuer } : {}),
      ...(p.audiences.length ? { audience: p.audiences } : {}),
      clockTolerance: p.clockSkewSeconds,
    });
    return { ok: true, provider: p, payload, location: loc };
  } catch (err) {
    return { ok: false, missing: false, reason: failure(err, j.errors) };
  }
}

class JwtAuthnFilter implements HttpFilter {
  constructor(
    readonly name: string,
    private readonly config: JwtConfig,
  ) {}

  decodeHeaders(stream: HttpStream): FilterStatus {
    const rule = this.config.rules.find((r) => (r.path !== undefined ? stream.pathOnly === r.path : stream.pathOnly.startsWith(r.prefix ?? '/')));
    if (!rule?.requires) return FilterStatus.Continue;
    // Extract first: with no token anywhere, most requests (allow_missing) continue without an async turn.
    const found = new Map<Provider, TokenLocation>();
    for (const p of this.config.providers.values()) {
      const loc = extract(p, stream);
      if (loc) found.set(p, loc);
    }
    const verdicts = new Map<string, Promise<Outcome>>();
    const check = (name: string): Promise<Outcome> => {
      let v = verdicts.get(name);
      if (!v) {
        const p = this.config.providers.get(name);
        const loc = p ? found.get(p) : undefined;
        v = !p || !loc ? Promise.resolve({ ok: false, missing: true, reason: 'Jwt is missing' }) : verifyWith(p, loc);
        verdicts.set(name, v);
      }
      return v;
    };
    const anyToken = found.size > 0;
    const evaluate = async (r: Requirement): Promise<Outcome> => {
      if ('provider' in r) return check(r.provider);
      if ('allowMissing' in r) return anyToken ? { ok: false, missing: false, reason: 'Jwt verification fails' } : { ok: true };
      if ('allowMissingOrFailed' in r) return { ok: true };
      if ('any' in r) {
        const results = await Promise.all(r.any.map(evaluate));
        const verified = results.find((x) => x.ok && x.payload);
        if (verified) return verified;
        if (results.some((x) => x.ok)) return { ok: true };
        // The most telling failure: a present-but-invalid token over a missing one.
        return results.find((x) => !x.ok && !x.missing) ?? results[0] ?? { ok: false, missing: true, reason: 'Jwt is missing' };
      }
      let last: Outcome = { ok: true };
      for (const x of r.all) {
        last = await evaluate(x);
        if (!last.ok) return last;
      }
      return last;
    };
    if (!anyToken && isSatisfiedWithoutToken(rule.requires)) return FilterStatus.Continue;
    void evaluate(rule.requires).then(
      (outcome) => this.finish(stream, outcome),
      () => this.finish(stream, { ok: false, missing: false, reason: 'Jwt verification fails' }),
    );
    return FilterStatus.Stop;
  }

  private finish(stream: HttpStream, outcome: Outcome): void {
    if (!outcome.ok) {
      const realm = `http://${stream.authority}${stream.pathOnly}`;
      const error = outcome.missing ? '' : ', error="invalid_token"';
      stream.sendLocalReply(
        { ...LocalReply.JwtDenied, details: `jwt_authn_access_denied{${outcome.reason.replace(/[^A-Za-z0-9]+/g, '_')}}` },
        { body: outcome.reason, headers: { 'www-authenticate': `Bearer realm="${realm}"${error}` } },
      );
      return;
    }
    if (outcome.provider && outcome.payload) apply(stream, outcome.provider, outcome.payload, outcome.location!);
    stream.continueDecoding();
  }
}

/** Whether a requirement holds for a request that carries no token at all (no verification needed). */
function isSatisfiedWithoutToken(r: Requirement): boolean {
  if ('allowMissing' in r || 'allowMissingOrFailed' in r) return true;
  if ('any' in r) return r.any.some(isSatisfiedWithoutToken);
  if ('all' in r) return r.all.every(isSatisfiedWithoutToken);
  return false;
}

/** A verified token: metadata for RBAC, payload and claim headers, and the token itself removed unless forwarded. */
function apply(stream: HttpStream, p: Provider, payload: JWTPayload, loc: TokenLocation): void {
  const md = (stream.dynamicMetadata ??= {});
  if (p.payloadInMetadata) (md['envoy.filters.http.jwt_authn'] ??= {})[p.payloadInMetadata] = payload;
  const authn = (md[AUTHN_METADATA] ??= {});
  if (payload.iss !== undefined && payload.sub !== undefined) authn['request.auth.principal'] = `${payload.iss}/${payload.sub}`;
  if (payload.aud !== undefined) authn['request.auth.audiences'] = payload.aud;
  if (payload.azp !== undefined) authn['request.auth.presenter'] = payload.azp;
  authn['request.auth.claims'] = payload;
  if (p.forwardPayloadHeader) stream.headers[p.forwardPayloadHeader.toLowerCase()] = Buffer.from(JSON.stringify(payload)).toString('base64url');
  for (const c of p.claimToHeaders) {
    const v = payload[c.claim];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') stream.headers[c.header] = String(v);
  }
  if (!p.forward && loc.header) delete stream.headers[loc.header];
}

registerHttpFilter<JwtConfig, JwtConfig>({
  names: ['envoy.filters.http.jwt_authn'],
  configTypes: [JWT_AUTHN_TYPE],
  parseConfig: parse,
  create: (config, name) => new JwtAuthnFilter(name, config),
});

