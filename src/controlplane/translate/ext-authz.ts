// AuthorizationPolicy action CUSTOM → external authorization, as Istio translates it: an RBAC filter that only
// evaluates the CUSTOM policies' rules as shadow rules (stat prefix `istio_ext_authz_`, so the matching policy's
// name lands in dynamic metadata), then envoy.filters.http.ext_authz enabled only when that name starts with
// `istio-ext-authz`. The provider (envoyExtAuthzHttp / envoyExtAuthzGrpc) comes from the mesh config's
// extensionProviders. A policy that cannot be honoured (unknown provider, several providers on one workload, a bad
// provider) denies every request to the workload, as Istio does: an authorization policy must fail closed.

import type { Resource } from '../../config/resource.js';
import type { AuthorizationPolicySpec } from '../../config/types/security.js';
import type { ServiceMeshControlPlaneSpec } from '../../config/types/maistra.js';
import { meshTelemetry } from '../../telemetry/telemetry-api.js';
import { policyApplies, rbacPolicy } from './authorization.js';
import { outboundCluster } from './names.js';
import { istioToProtoDuration } from '../../duration.js';

type Json = Record<string, unknown>;

const HTTP_RBAC = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NETWORK_RBAC = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const EXT_AUTHZ = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
/** Istio's names: shadow-rule stat prefix, policy name prefix, the metadata key ext_authz reads. */
export const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';
export const EXT_AUTHZ_POLICY_PREFIX = 'istio-ext-authz';
const DENY_ALL_POLICY = 'default-deny-all-due-to-bad-CUSTOM-action';
/** Istio's default when a provider sets no timeout. */
const DEFAULT_TIMEOUT = '600s';

interface BodyInCheck {
  maxRequestBytes?: number;
  allowPartialMessage?: boolean;
  packAsBytes?: boolean;
}

/** The fields of Istio's MeshConfig.ExtensionProvider.EnvoyExternalAuthorization{Http,Grpc}Provider. */
export interface ExtAuthzProviderSpec {
  service?: string;
  port?: number;
  timeout?: string;
  pathPrefix?: string;
  failOpen?: boolean;
  statusOnError?: string;
  includeRequestHeadersInCheck?: string[];
  /** Deprecated spelling of includeRequestHeadersInCheck. */
  includeHeadersInCheck?: string[];
  includeAdditionalHeadersInCheck?: Record<string, string>;
  includeRequestBodyInCheck?: BodyInCheck;
  headersToUpstreamOnAllow?: string[];
  headersToDownstreamOnDeny?: string[];
  headersToDownstreamOnAllow?: string[];
}

export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp?: ExtAuthzProviderSpec;
  envoyExtAuthzGrpc?: ExtAuthzProviderSpec;
  [other: string]: unknown;
}

/** The mesh config as far as CUSTOM needs it. */
export interface MeshExtensions {
  extensionProviders: readonly ExtensionProvider[];
}

/** Why a CUSTOM policy cannot be translated (what the control plane logs and the analyzer reports). */
export class ExtAuthzError extends Error {}

// ---------------------------------------------------------------- mesh config

const providerCache = new WeakMap<readonly Resource[], Map<string, MeshExtensions>>();

/**
 * extensionProviders from the mesh config: the telemetry reader's (the `istio` ConfigMap in the root namespace),
 * then a ServiceMeshControlPlane's spec.meshConfig (Maistra), which that reader does not look at. Cached per
 * resource list, since every workload port asks.
 */
export function meshExtensions(resources: readonly Resource[], rootNamespace: string): MeshExtensions {
  let byRoot = providerCache.get(resources);
  if (!byRoot) providerCache.set(resources, (byRoot = new Map()));
  let mesh = byRoot.get(rootNamespace);
  if (mesh) return mesh;
  const fromConfigMap = meshTelemetry(resources, rootNamespace).extensionProviders as unknown as ExtensionProvider[];
  const smcp = resources.find((r) => r.group === 'maistra.io' && r.kind === 'ServiceMeshControlPlane');
  const fromSmcp = ((smcp?.spec as ServiceMeshControlPlaneSpec | undefined)?.meshConfig?.extensionProviders ?? []) as unknown as ExtensionProvider[];
  const names = new Set(fromConfigMap.map((p) => p.name));
  mesh = { extensionProviders: [...fromConfigMap, ...fromSmcp.filter((p) => typeof p?.name === 'string' && !names.has(p.name))] };
  byRoot.set(rootNamespace, mesh);
  return mesh;
}

// ---------------------------------------------------------------- provider → ext_authz config

/** `[namespace/]host` → the outbound cluster Istio points ext_authz at. */
function clusterFor(p: ExtAuthzProviderSpec, providerName: string): { cluster: string; host: string } {
  const service = p.service ?? '';
  const host = service.includes('/') ? service.slice(service.indexOf('/') + 1) : service;
  if (!host) throw new ExtAuthzError(`extension provider ${providerName} has no service`);
  if (!Number.isInteger(p.port) || p.port! <= 0 || p.port! > 65535) throw new ExtAuthzError(`extension provider ${providerName} has no valid port`);
  return { cluster: outboundCluster(p.port!, '', host), host };
}

function statusOnError(p: ExtAuthzProviderSpec, providerName: string): Json {
  if (p.statusOnError === undefined || p.statusOnError === '') return {};
  const code = Number(p.statusOnError);
  if (!/^\d{3}$/.test(p.statusOnError) || code < 200 || code >= 600) throw new ExtAuthzError(`extension provider ${providerName} has an invalid statusOnError ${JSON.stringify(p.statusOnError)}`);
  return { statusOnError: { code } };
}

/** Istio's header globs: `x-*` prefix, `*-id` suffix, else exact; always case-insensitive. */
function headerList(headers: readonly string[] | undefined): Json | undefined {
  if (!headers?.length) return undefined;
  const patterns = headers.map((h) => (h.startsWith('*') ? { suffix: h.slice(1), ignoreCase: true } : h.endsWith('*') ? { prefix: h.slice(0, -1), ignoreCase: true } : { exact: h, ignoreCase: true }));
  return { patterns };
}

function withBody(b: BodyInCheck | undefined): Json {
  if (!b) return {};
  return { withRequestBody: { maxRequestBytes: b.maxRequestBytes ?? 0, allowPartialMessage: b.allowPartialMessage === true, packAsBytes: b.packAsBytes === true } };
}

const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function httpProvider(p: ExtAuthzProviderSpec, name: string): Json {
  const { cluster, host } = clusterFor(p, name);
  if (p.pathPrefix && !p.pathPrefix.startsWith('/')) throw new ExtAuthzError(`extension provider ${name}: pathPrefix must start with /`);
  const added = Object.keys(p.includeAdditionalHeadersInCheck ?? {})
    .sort()
    .map((key) => ({ key, value: p.includeAdditionalHeadersInCheck![key]! }));
  return {
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
    ...defined({ allowedHeaders: headerList([...(p.includeRequestHeadersInCheck ?? []), ...(p.includeHeadersInCheck ?? [])]) }),
  };
}

function grpcProvider(p: ExtAuthzProviderSpec, name: string): Json {
  const { cluster, host } = clusterFor(p, name);
  return { grpcService: { envoyGrpc: { clusterName: cluster, authority: host }, timeout: istioToProtoDuration(p.timeout) ?? DEFAULT_TIMEOUT } };
}

/** The ext_authz typed config for a provider; throws ExtAuthzError when it cannot be used. */
export function extAuthzConfig(provider: ExtensionProvider): Json {
  const p = provider.envoyExtAuthzHttp ?? provider.envoyExtAuthzGrpc;
  if (!p) throw new ExtAuthzError(`extension provider ${provider.name} is not an envoyExtAuthzHttp or envoyExtAuthzGrpc provider`);
  return {
    '@type': EXT_AUTHZ,
    ...(provider.envoyExtAuthzHttp ? httpProvider(p, provider.name) : grpcProvider(p, provider.name)),
    ...statusOnError(p, provider.name),
    ...(p.failOpen ? { failureModeAllow: true } : {}),
    ...withBody(p.includeRequestBodyInCheck),
    transportApiVersion: 'V3',
    filterEnabledMetadata: {
      filter: 'envoy.filters.http.rbac',
      path: [{ key: `${EXT_AUTHZ_SHADOW_PREFIX}shadow_effective_policy_id` }],
      value: { stringMatch: { prefix: EXT_AUTHZ_POLICY_PREFIX } },
    },
  };
}

// ---------------------------------------------------------------- policies → filters

/** CUSTOM policies that apply to the workload (dry-run ones are skipped: Istio has no dry run for CUSTOM). */
export function customPolicies(resources: readonly Resource[], rootNamespace: string, namespace: string, labels: Record<string, string>): Resource[] {
  return resources
    .filter((r) => r.group === 'security.istio.io' && r.kind === 'AuthorizationPolicy' && (r.spec as AuthorizationPolicySpec).action === 'CUSTOM')
    .filter((r) => String(r.metadata.annotations?.['istio.io/dry-run'] ?? '') !== 'true')
    .filter((r) => policyApplies(r, rootNamespace, { namespace, labels }))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}

/** The one provider the workload's CUSTOM policies name; throws when there are several or it is not defined. */
export function resolveProvider(policies: readonly Resource[], mesh: MeshExtensions): ExtensionProvider {
  const names = [...new Set(policies.map((p) => (p.spec as AuthorizationPolicySpec).provider?.name ?? ''))];
  if (names.length > 1) throw new ExtAuthzError(`only one provider can be used per workload, found ${names.join(', ')}`);
  const provider = mesh.extensionProviders.find((p) => p.name === names[0]);
  if (!provider) throw new ExtAuthzError(`extension provider ${JSON.stringify(names[0])} is not defined in the mesh config`);
  return provider;
}

function denyAll(kind: 'http' | 'tcp'): Json {
  const rules = { action: 'DENY', policies: { [DENY_ALL_POLICY]: { permissions: [{ any: true }], principals: [{ any: true }] } } };
  return kind === 'http'
    ? { name: 'envoy.filters.http.rbac', typedConfig: { '@type': HTTP_RBAC, rules } }
    : { name: 'envoy.filters.network.rbac', typedConfig: { '@type': NETWORK_RBAC, statPrefix: 'tcp.', rules } };
}

/** Istio's shadow-rule policy names for CUSTOM: `istio-ext-authz-ns[<ns>]-policy[<name>]-rule[<i>]`. */
function shadowPolicies(policies: readonly Resource[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const p of policies) {
    ((p.spec as AuthorizationPolicySpec).rules ?? []).forEach((rule, i) => {
      out[`${EXT_AUTHZ_POLICY_PREFIX}-ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]`] = rbacPolicy(rule, 'http', 'ALLOW', p.metadata.namespace);
    });
  }
  return out;
}

/**
 * The filters (in order) for the CUSTOM policies of a workload: [RBAC shadow rules, ext_authz] on HTTP ports, or a
 * deny-all RBAC filter when the policies cannot be honoured. On TCP ports Istio asks a gRPC provider through the
 * network ext_authz filter, which the proxy does not have: there the CUSTOM rules deny the connections they match
 * (fail closed).
 */
export function customAuthorizationFilters(resources: readonly Resource[], mesh: MeshExtensions, rootNamespace: string, namespace: string, labels: Record<string, string>, kind: 'http' | 'tcp' = 'http'): Json[] {
  const policies = customPolicies(resources, rootNamespace, namespace, labels);
  if (!policies.length) return [];
  let extAuthz: Json;
  try {
    extAuthz = extAuthzConfig(resolveProvider(policies, mesh));
  } catch (err) {
    if (err instanceof ExtAuthzError) return [denyAll(kind)];
    throw err;
  }
  // Istio checks TCP connections only with gRPC providers (network ext_authz) and ignores HTTP providers there.
  if (kind === 'tcp') return extAuthz.grpcService ? [tcpFallback(policies)] : [];
  return [
    { name: 'envoy.filters.http.rbac', typedConfig: { '@type': HTTP_RBAC, shadowRules: { action: 'ALLOW', policies: shadowPolicies(policies) }, shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX } },
    { name: 'envoy.filters.http.ext_authz', typedConfig: extAuthz },
  ];
}

/** Without a network ext_authz filter a TCP connection cannot be checked: the connections the rules select are denied. */
function tcpFallback(policies: readonly Resource[]): Json {
  const out: Record<string, Json> = {};
  for (const p of policies) {
    ((p.spec as AuthorizationPolicySpec).rules ?? []).forEach((rule, i) => {
      out[`${EXT_AUTHZ_POLICY_PREFIX}-ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]`] = rbacPolicy(rule, 'tcp', 'DENY', p.metadata.namespace);
    });
  }
  return { name: 'envoy.filters.network.rbac', typedConfig: { '@type': NETWORK_RBAC, statPrefix: 'tcp.', rules: { action: 'DENY', policies: out } } };
}

/** Problems with the CUSTOM policies in `resources` that would make a workload deny everything (for analysis). */
export function customPolicyProblem(policy: Resource, mesh: MeshExtensions): string | undefined {
  const spec = policy.spec as AuthorizationPolicySpec;
  if (spec.action !== 'CUSTOM') return undefined;
  try {
    extAuthzConfig(resolveProvider([policy], mesh));
    return undefined;
  } catch (err) {
    if (err instanceof ExtAuthzError) return err.message;
    throw err;
  }
}
