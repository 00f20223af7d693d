// RequestAuthentication → Envoy's jwt_authn filter on a workload's inbound side (and on gateways), as Istio
// translates it: one provider per JWT rule, required as "any of the providers, or no token at all", so a request
// without a token goes on to authorization and one with an invalid token gets 401.

import type { JWTRule } from '../../config/types/security.js';
import { TYPE, typed, type JwtProvider, type TypedExtension } from '../../xds/envoy/index.js';
import type { JwksSource } from '../jwks/jwks-resolver.js';
import type { PolicyIndex, WorkloadRef } from './policy-index.js';

/** Inlined while a JWKS is unknown or unreachable: no key verifies, so every token fails (closed, never open). */
export const UNAVAILABLE_JWKS = '{"keys":[]}';

/** Inline keys as a JWK Set: Istio also takes a single JWK. Unreadable keys verify nothing. */
function inlineKeys(text: string): string {
  try {
    const o = JSON.parse(text) as { keys?: unknown; kty?: unknown };
    if (Array.isArray(o.keys)) return text;
    if (typeof o.kty === 'string') return JSON.stringify({ keys: [o] });
  } catch {
    // fall through: validation reports it with its position
  }
  return UNAVAILABLE_JWKS;
}

function provider(rule: JWTRule, jwks: JwksSource | undefined): JwtProvider {
  const keys = rule.jwks !== undefined ? inlineKeys(rule.jwks) : (jwks?.jwks(rule.jwksUri, rule.jwksUri ? undefined : rule.issuer) ?? UNAVAILABLE_JWKS);
  const explicit = !!(rule.fromHeaders?.length || rule.fromParams?.length || rule.fromCookies?.length);
  return {
    ...(rule.issuer ? { issuer: rule.issuer } : {}),
    ...(rule.audiences?.length ? { audiences: rule.audiences } : {}),
    localJwks: { inlineString: keys },
    // Istio's defaults: `Authorization: Bearer <token>` and the `access_token` query parameter.
    ...(explicit
      ? {
          fromHeaders: (rule.fromHeaders ?? []).map((h) => ({ name: h.name, ...(h.prefix ? { valuePrefix: h.prefix } : {}) })),
          fromParams: rule.fromParams ?? [],
          fromCookies: rule.fromCookies ?? [],
        }
      : {}),
    forward: rule.forwardOriginalToken === true,
    ...(rule.outputPayloadToHeader ? { forwardPayloadHeader: rule.outputPayloadToHeader } : {}),
    ...(rule.outputClaimToHeaders?.length ? { claimToHeaders: rule.outputClaimToHeaders.map((c) => ({ headerName: c.header, claimName: c.claim })) } : {}),
    payloadInMetadata: rule.issuer ?? '',
  };
}

/** The jwt_authn filter for a workload, or none when no RequestAuthentication applies. */
export function requestAuthenticationFilters(policies: PolicyIndex, w: WorkloadRef, jwks?: JwksSource): TypedExtension[] {
  const providers: Record<string, JwtProvider> = {};
  for (const p of policies.requestAuthenticationsFor(w)) {
    (p.spec.jwtRules ?? []).forEach((rule, i) => {
      providers[`origins-${p.metadata.namespace}-${p.metadata.name}-${i}`] = provider(rule, jwks);
    });
  }
  const names = Object.keys(providers);
  if (!names.length) return [];
  return [
    {
      name: 'envoy.filters.http.jwt_authn',
      typedConfig: typed(TYPE.jwtAuthn, {
        providers,
        rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements: [...names.map((providerName) => ({ providerName })), { allowMissing: {} }] } } }],
      }),
    },
  ];
}
