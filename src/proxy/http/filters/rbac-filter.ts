// envoy.filters.http.rbac: Envoy's role-based access control on requests (what Istio's AuthorizationPolicy becomes).
// ALLOW rules let a request through only when a policy matches; DENY rules refuse a matching request with 403
// "RBAC: access denied". Shadow rules only record which policy matched, in dynamic metadata, for later filters
// (Istio's dry-run policies and the selection of requests for CUSTOM external authorization).

import type { Any } from '../../../xds/envoy/index.js';
import { compileRbac, matchingPolicy, rbacAllows, type CompiledRbac } from '../../config/rbac.js';
import { LocalReply, type IssueSink } from '../../errors.js';
import { registerHttpFilter } from '../filter-registry.js';
import { FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../http-stream.js';

export const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

interface RbacFilterConfig {
  rbac: CompiledRbac;
  /** Prefix of the shadow-rule metadata keys (Envoy's shadow_rules_stat_prefix). */
  shadowPrefix: string;
}

class RbacFilter implements HttpFilter {
  constructor(
    readonly name: string,
    private readonly config: RbacFilterConfig,
  ) {}

  decodeHeaders(stream: HttpStream): FilterStatus {
    const { rbac, shadowPrefix } = this.config;
    const input = { conn: stream.conn, stream };
    if (rbac.shadow) {
      const id = matchingPolicy(rbac.shadow.policies, input);
      const md = ((stream.dynamicMetadata ??= {})['envoy.filters.http.rbac'] ??= {});
      md[`${shadowPrefix}shadow_effective_policy_id`] = id ?? '';
      md[`${shadowPrefix}shadow_engine_result`] = (id !== undefined) === (rbac.shadow.action !== 'DENY') ? 'allowed' : 'denied';
    }
    if (rbacAllows(rbac, input)) return FilterStatus.Continue;
    stream.sendLocalReply(LocalReply.RbacDenied);
    return FilterStatus.Stop;
  }
}

registerHttpFilter<RbacFilterConfig, RbacFilterConfig>({
  names: ['envoy.filters.http.rbac'],
  configTypes: [RBAC_TYPE],
  parseConfig: (value: Any | undefined, sink: IssueSink, field: string) => {
    const v = value as Record<string, unknown> | undefined;
    return { rbac: compileRbac(v, sink, field), shadowPrefix: String(v?.shadowRulesStatPrefix ?? '') };
  },
  create: (config, name) => new RbacFilter(name, config),
});
