// envoy.filters.http.cors: answers preflights for allowed origins and adds CORS headers to responses.

import type { Any, CorsPolicy } from '../../../xds/envoy/index.js';
import type { HeaderMap } from '../../config/header-mutation.js';
import { compileStringMatcher, type StringPredicate } from '../../config/string-matcher.js';
import { runtimeFraction, sample } from '../../config/values.js';
import { ConfigCode, LocalReply, type IssueSink } from '../../errors.js';
import { registerHttpFilter } from '../filter-registry.js';
import { FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../http-stream.js';
import { DISABLED } from '../../config/route-table.js';

export const CORS_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

export interface CompiledCors {
  origins: StringPredicate[];
  allowMethods: string | undefined;
  allowHeaders: string | undefined;
  exposeHeaders: string | undefined;
  maxAge: string | undefined;
  allowCredentials: boolean;
  enabled: number;
  allowPrivateNetworkAccess: boolean;
  forwardNotMatchingPreflights: boolean;
}

function parsePolicy(value: Any, sink: IssueSink, field: string): CompiledCors {
  const p = value as CorsPolicy;
  const origins: StringPredicate[] = [];
  (p.allowOriginStringMatch ?? []).forEach((m, i) => {
    try {
      origins.push(compileStringMatcher(m));
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, `${field}/allowOriginStringMatch/${i}`, (e as Error).message);
    }
  });
  return {
    origins,
    allowMethods: p.allowMethods || undefined,
    allowHeaders: p.allowHeaders || undefined,
    exposeHeaders: p.exposeHeaders || undefined,
    maxAge: p.maxAge || undefined,
    allowCredentials: p.allowCredentials === true,
    enabled: runtimeFraction(p.filterEnabled, 1),
    allowPrivateNetworkAccess: p.allowPrivateNetworkAccess === true,
    forwardNotMatchingPreflights: p.forwardNotMatchingPreflights !== false,
  };
}

interface CorsState {
  origin: string;
  policy: CompiledCors;
}

class CorsFilter implements HttpFilter {
  constructor(readonly name: string) {}

  decodeHeaders(stream: HttpStream): FilterStatus {
    const policy = stream.filterConfig(this.name) as CompiledCors | typeof DISABLED | undefined;
    if (!policy || policy === DISABLED) return FilterStatus.Continue;
    const origin = stream.header('origin');
    if (!origin || !sample(policy.enabled)) return FilterStatus.Continue;
    const allowed = policy.origins.some((p) => p(origin));
    if (allowed) stream.hcm.counters['cors.origin_valid']++;
    else stream.hcm.counters['cors.origin_invalid']++;
    const preflight = stream.method === 'OPTIONS' && stream.header('access-control-request-method') !== undefined;
    if (preflight) {
      if (!allowed) {
        if (policy.forwardNotMatchingPreflights) return FilterStatus.Continue;
        stream.sendLocalReply(LocalReply.CorsPreflight, { status: 200 });
        return FilterStatus.Stop;
      }
      const headers: HeaderMap = { 'access-control-allow-origin': origin };
      if (policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      if (policy.allowMethods) headers['access-control-allow-methods'] = policy.allowMethods;
      if (policy.allowHeaders) headers['access-control-allow-headers'] = policy.allowHeaders;
      if (policy.maxAge) headers['access-control-max-age'] = policy.maxAge;
      if (policy.allowPrivateNetworkAccess && stream.header('access-control-request-private-network') === 'true') headers['access-control-allow-private-network'] = 'true';
      stream.sendLocalReply(LocalReply.CorsPreflight, { status: 200, headers });
      return FilterStatus.Stop;
    }
    if (allowed) (stream.filterState ??= {})[this.name] = { origin, policy } satisfies CorsState;
    return FilterStatus.Continue;
  }

  encodeHeaders(stream: HttpStream, _status: number, headers: HeaderMap): void {
    const st = stream.filterState?.[this.name] as CorsState | undefined;
    if (!st) return;
    headers['access-control-allow-origin'] = st.origin;
    if (st.policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
    if (st.policy.exposeHeaders) headers['access-control-expose-headers'] = st.policy.exposeHeaders;
  }
}

registerHttpFilter<Record<string, never>, CompiledCors>({
  names: ['envoy.filters.http.cors', 'envoy.cors'],
  configTypes: [CORS_FILTER_TYPE],
  perRouteTypes: [CORS_POLICY_TYPE],
  parseConfig: () => ({}),
  parsePerRoute: parsePolicy,
  create: (_cfg, name) => new CorsFilter(name),
});
