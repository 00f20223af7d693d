// Test helpers for translation: policy filters and push contexts straight from loaded resources, the way the control
// plane builds them (mesh config, policy index, registry snapshot).

import { meshModelOf } from '../../config/mesh-config.js';
import type { Resource } from '../../config/resource.js';
import type { TypedExtension } from '../../xds/envoy/index.js';
import type { JwksSource } from '../jwks/jwks-resolver.js';
import { ServiceRegistry } from '../registry/service-registry.js';
import { authorizationFilters, type PortKind } from './authorization.js';
import { customAuthorizationFilters } from './ext-authz.js';
import { PolicyIndex, type WorkloadRef } from './policy-index.js';
import { PushContext } from './push-context.js';
import { requestAuthenticationFilters } from './request-authentication.js';

/** The policy index of a set of resources, rooted where their mesh config says. */
export function policyIndexOf(resources: readonly Resource[]): PolicyIndex {
  const model = meshModelOf(resources);
  return new PolicyIndex(resources, model.config.rootNamespace, model.dataPlaneMtls ? 'STRICT' : 'PERMISSIVE');
}

export function authorizationFiltersOf(resources: readonly Resource[], w: WorkloadRef, kind: PortKind = 'http'): TypedExtension[] {
  return authorizationFilters(policyIndexOf(resources), meshModelOf(resources).config, w, kind);
}

export function customAuthorizationFiltersOf(resources: readonly Resource[], w: WorkloadRef, kind: PortKind = 'http'): TypedExtension[] {
  return customAuthorizationFilters(policyIndexOf(resources).authorizationPoliciesFor(w), meshModelOf(resources).config.extensionProviders, kind);
}

export function requestAuthenticationFiltersOf(resources: readonly Resource[], w: WorkloadRef, jwks?: JwksSource): TypedExtension[] {
  return requestAuthenticationFilters(policyIndexOf(resources), w, jwks);
}

/** A push context over these resources and a registry built from them (plus whatever `registry` already holds). */
export function pushContextOf(resources: readonly Resource[], registry = new ServiceRegistry(), jwks?: JwksSource): PushContext {
  return new PushContext(resources, registry.snapshot(), undefined, 0, jwks);
}

/** An AuthorizationPolicy document (with its `---`) whose spec is `spec`, indented under it; `metadata` adds fields. */
export function authorizationPolicyYaml(name: string, spec: string, o: { namespace?: string; metadata?: string } = {}): string {
  const indented = spec
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${o.namespace ?? 'default'}${o.metadata ?? ''}}\nspec:\n${indented}\n---\n`;
}
