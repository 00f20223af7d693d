// AuthorizationPolicy action CUSTOM → external authorization, as Istio translates it: an RBAC filter that only
// evaluates the CUSTOM policies' rules as shadow rules (stat prefix `istio_ext_authz_`, so the matching policy's
// name lands in dynamic metadata), then envoy.filters.http.ext_authz enabled only when that name starts with
// `istio-ext-authz`. The provider (envoyExtAuthzHttp / envoyExtAuthzGrpc) comes from the mesh config's
// extensionProviders. A policy that cannot be honoured (unknown provider, several providers on one workload, a bad
// provider) denies every request to the workload, as Istio does: an authorization policy must fail closed.

import type { ExtAuthzProvider, ExtensionProvider } from '../../config/mesh-config.js';
import type { Resource } from '../../config/resource.js';
import type { AuthorizationPolicySpec } from '../../config/types/security.js';
import { istioToProtoDuration } from '../../duration.js';
import { TYPE, typed, type ExtAuthz, type ListStringMatcher, type Rbac, type TypedExtension } from '../../xds/envoy/index.js';
import { rbacFilter, rbacPolicies, type PortKind } from './authorization.js';
import { outboundClusterName } from './names.js';

export type { ExtensionProvider } from '../../config/mesh-config.js';

/** Istio's names: shadow-rule stat prefix, policy name prefix, the metadata key ext_authz reads. */
export const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';
export const EXT_AUTHZ_POLICY_PREFIX = 'istio-ext-authz';
const DENY_ALL_POLICY = 'default-deny-all-due-to-bad-CUSTOM-action';
/** Istio's default when a provider sets no timeout. */
const DEFAULT_TIMEOUT = '600s';

type AuthorizationPolicy = Resource<AuthorizationPolicySpec>;

/** Why a CUSTOM policy cannot be translated (what the control plane logs and the analyzer reports). */
export class ExtAuthzError extends Error {}

// ---------------------------------------------------------------- provider → ext_authz config

/** `[namespace/]host` → the outbound cluster Istio points ext_authz at. */
function clusterFor(p: ExtAuthzProvider, providerName: string): { cluster: string; host: string } {
  const service = p.service ?? '';
  const host = service.includes('/') ? service.slice(service.indexOf('/') + 1) : service;
  if (!host) throw new ExtAuthzError(`extension provider ${providerName} has no service`);
  if (!Number.isInteger(p.port) || p.port! <= 0 || p.port! > 65535) throw new ExtAuthzError(`extension provider ${providerName} has no valid port`);
  return { cluster: outboundClusterName({ port: p.port!, subset: '', host }), host };
}

function statusOnError(p: ExtAuthzProvider, providerName: string): Pick<ExtAuthz, 'statusOnError'> {
  if (p.statusOnError === undefined || p.statusOnError === '') return {};
  const code = Number(p.statusOnError);
  if (!/^\d{3}$/.test(p.statusOnError) || code < 200 || code >= 600) throw new ExtAuthzError(`extension provider ${providerName} has an invalid statusOnError ${JSON.stringify(p.statusOnError)}`);
  return { statusOnError: { code } };
}

/** Istio's header globs: `x-*` prefix, `*-id` suffix, else exact; always case-insensitive. */
function headerList(headers: readonly string[] | undefined): ListStringMatcher | undefined {
  if (!headers?.length) return undefined;
  return { patterns: headers.map((h) => (h.startsWith('*') ? { suffix: h.slice(1), ignoreCase: true } : h.endsWith('*') ? { prefix: h.slice(0, -1), ignoreCase: true } : { exact: h, ignoreCase: true })) };
}

function withBody(b: ExtAuthzProvider['includeRequestBodyInCheck']): Pick<ExtAuthz, 'withRequestBody'> {
  if (!b) return {};
  return { withRequestBody: { maxRequestBytes: b.maxRequestBytes ?? 0, allowPartialMessage: b.allowPartialMessage === true, packAsBytes: b.packAsBytes === true } };
}

/** The object without its undefined fields (proto3 JSON has no nulls). */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function httpProvider(p: ExtAuthzProvider, name: string): Pick<ExtAuthz, 'httpService' | 'allowedHeaders'> {
  const { cluster, host } = clusterFor(p, name);
  if (p.pathPrefix && !p.pathPrefix.startsWith('/')) throw new ExtAuthzError(`extension provider ${name}: pathPrefix must start with /`);
  const added = Object.keys(p.includeAdditionalHeadersInCheck ?? {})
    .sort()
    .map((key) => ({ key, value: p.includeAdditionalHeadersInCheck![key]! }));
  return defined({
    httpService: defined({
      // The URI is required by Envoy but only the cluster is used.
      serverUri: { uri: `http://${host}`, cluster, timeout: istioToProtoDuration(p.timeout) ?? DEFAULT_TIMEOUT },
      pathPrefix: p.pathPrefix || undefined,
      authorizationRequest: added.length ? { headersToAdd: added } : undefined,
      authorizationResponse: defined({
        allowedUpstreamHeaders: headerList(p.headersToUpstreamOnAllow),
        allowedClientHeaders: headerList(p.headersToDownstreamOnDeny),
        allowedClientHeadersOnSuccess: headerList(p.headersToDownstreamOnAllow),
      }),
    }),
    allowedHeaders: headerList([...(p.includeRequestHeadersInCheck ?? []), ...(p.includeHeadersInCheck ?? [])]),
  });
}

function grpcProvider(p: ExtAuthzProvider, name: string): Pick<ExtAuthz, 'grpcService'> {
  const { cluster, host } = clusterFor(p, name);
  return { grpcService: { envoyGrpc: { clusterName: cluster, authority: host }, timeout: istioToProtoDuration(p.timeout) ?? DEFAULT_TIMEOUT } };
}

/** The ext_authz config for a provider, and which protocol it speaks; throws ExtAuthzError when it cannot be used. */
export function extAuthzConfig(provider: ExtensionProvider): { config: ExtAuthz; protocol: 'http' | 'grpc' } {
  const p = provider.envoyExtAuthzHttp ?? provider.envoyExtAuthzGrpc;
  if (!p) throw new ExtAuthzError(`extension provider ${provider.name} is not an envoyExtAuthzHttp or envoyExtAuthzGrpc provider`);
  const protocol = provider.envoyExtAuthzHttp ? 'http' : 'grpc';
  return {
    protocol,
    config: {
      ...(protocol === 'http' ? httpProvider(p, provider.name) : grpcProvider(p, provider.name)),
      ...statusOnError(p, provider.name),
      ...(p.failOpen ? { failureModeAllow: true } : {}),
      ...withBody(p.includeRequestBodyInCheck),
      transportApiVersion: 'V3',
      filterEnabledMetadata: {
        filter: 'envoy.filters.http.rbac',
        path: [{ key: `${EXT_AUTHZ_SHADOW_PREFIX}shadow_effective_policy_id` }],
        value: { stringMatch: { prefix: EXT_AUTHZ_POLICY_PREFIX } },
      },
    },
  };
}

// ---------------------------------------------------------------- policies → filters

/** The CUSTOM policies among those that apply to a workload (dry-run ones are skipped: Istio has no dry run for CUSTOM). */
export function customPolicies(applying: readonly AuthorizationPolicy[]): AuthorizationPolicy[] {
  return applying.filter((r) => r.spec.action === 'CUSTOM' && String(r.metadata.annotations?.['istio.io/dry-run'] ?? '') !== 'true');
}

/** The one provider the workload's CUSTOM policies name; throws when there are several or it is not defined. */
export function resolveProvider(policies: readonly AuthorizationPolicy[], providers: readonly ExtensionProvider[]): ExtensionProvider {
  const names = [...new Set(policies.map((p) => p.spec.provider?.name ?? ''))];
  if (names.length > 1) throw new ExtAuthzError(`only one provider can be used per workload, found ${names.join(', ')}`);
  const provider = providers.find((p) => p.name === names[0]);
  if (!provider) throw new ExtAuthzError(`extension provider ${JSON.stringify(names[0])} is not defined in the mesh config`);
  return provider;
}

const denyAll = (kind: PortKind): TypedExtension => rbacFilter(kind, { rules: { action: 'DENY', policies: { [DENY_ALL_POLICY]: { permissions: [{ any: true }], principals: [{ any: true }] } } } });

/**
 * The filters (in order) for the CUSTOM policies among those that apply to a workload: [RBAC shadow rules, ext_authz]
 * on HTTP ports, or a deny-all RBAC filter when the policies cannot be honoured. On TCP ports Istio asks a gRPC provider
 * through the network ext_authz filter, which the proxy does not have: there the CUSTOM rules deny the connections they
 * match (fail closed).
 */
export function customAuthorizationFilters(applying: readonly AuthorizationPolicy[], providers: readonly ExtensionProvider[], kind: PortKind = 'http'): TypedExtension[] {
  const policies = customPolicies(applying);
  if (!policies.length) return [];
  let extAuthz: ReturnType<typeof extAuthzConfig>;
  try {
    extAuthz = extAuthzConfig(resolveProvider(policies, providers));
  } catch (err) {
    if (err instanceof ExtAuthzError) return [denyAll(kind)];
    throw err;
  }
  // Istio checks TCP connections only with gRPC providers (network ext_authz) and ignores HTTP providers there.
  if (kind === 'tcp') return extAuthz.protocol === 'grpc' ? [rbacFilter('tcp', { rules: { action: 'DENY', policies: rbacPolicies(policies, 'tcp', 'DENY', `${EXT_AUTHZ_POLICY_PREFIX}-`) } })] : [];
  const shadow: Rbac = { shadowRules: { action: 'ALLOW', policies: rbacPolicies(policies, 'http', 'ALLOW', `${EXT_AUTHZ_POLICY_PREFIX}-`) }, shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX };
  return [rbacFilter('http', shadow), { name: 'envoy.filters.http.ext_authz', typedConfig: typed(TYPE.extAuthz, extAuthz.config) }];
}

/** Why a CUSTOM policy would make the workloads it selects deny everything (for analysis), or undefined. */
export function customPolicyProblem(policy: AuthorizationPolicy, providers: readonly ExtensionProvider[]): string | undefined {
  if (policy.spec.action !== 'CUSTOM') return undefined;
  try {
    extAuthzConfig(resolveProvider([policy], providers));
    return undefined;
  } catch (err) {
    if (err instanceof ExtAuthzError) return err.message;
    throw err;
  }
}
