// Security policy analyzers: AuthorizationPolicy, PeerAuthentication and RequestAuthentication selectors that match no workload; unknown source namespaces.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { AuthorizationPolicySpec, PeerAuthenticationSpec, RequestAuthenticationSpec } from '../../types/security.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import type { ConfigIndex, Typed, Workload } from '../config-index.js';
import { matchesLabels, selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { INJECT, INJECTION_LABEL } from './injection-state.js';
import { podTemplateOf } from '../../types/kubernetes.js';
import { arr, isRecord, ofKind } from './util.js';

type Policy = Typed<AuthorizationPolicySpec | PeerAuthenticationSpec | RequestAuthenticationSpec>;

/**
 * Workloads a policy can act on: those that get a sidecar. Trellis runs every workload with one, unless its pod or its
 * namespace opts out (`sidecar.istio.io/inject: "false"`, `istio-injection=disabled`); a policy on those has no effect.
 */
export function proxiedWorkloads(index: ConfigIndex): Workload[] {
  return index.workloads.filter((w) => {
    const inject = w.labels[INJECT] ?? w.annotations[INJECT];
    if (inject !== undefined) return inject.toLowerCase() !== 'false';
    const namespaceLabel = index.namespaceResource(w.namespace)?.metadata.labels[INJECTION_LABEL];
    return namespaceLabel === undefined || namespaceLabel === 'enabled';
  });
}

/** Istio's AuthorizationPolicy rule, applied to every selector-based security policy kind. */
function checkPolicySelectors(ctx: AnalysisContext, policies: readonly Policy[]): void {
  const workloads = proxiedWorkloads(ctx.index);
  for (const p of policies) {
    if (isRecord((p.spec as AuthorizationPolicySpec).targetRef) || arr((p.spec as AuthorizationPolicySpec).targetRefs).length > 0) continue;
    const ns = p.metadata.namespace;
    const selector = stringRecord(p.spec.selector?.matchLabels);
    const hasSelector = Object.keys(selector).length > 0;
    if (ns === ctx.index.rootNamespace) {
      // A mesh-wide policy: without a selector it applies everywhere; with one, to matching workloads in any namespace.
      if (hasSelector && !workloads.some((w) => matchesLabels(selector, w.labels))) report(ctx, p, selector);
      continue;
    }
    const inNamespace = workloads.filter((w) => w.namespace === ns);
    if (!hasSelector) {
      if (inNamespace.length === 0) report(ctx, p, undefined);
      continue;
    }
    if (!inNamespace.some((w) => matchesLabels(selector, w.labels))) report(ctx, p, selector);
  }
}

function report(ctx: AnalysisContext, p: Policy, selector: Record<string, string> | undefined): void {
  ctx.report(Messages.NoMatchingWorkloadsFound, p, selector ? '/spec/selector' : '/metadata/name', `No matching workloads for this resource with the following labels: ${selectorString(selector)}`);
}

export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'Checks the validity of authorization policies',
  analyze(ctx) {
    const policies = ofKind<AuthorizationPolicySpec>(ctx.resources, GROUPS.ISTIO_SEC, 'AuthorizationPolicy');
    checkPolicySelectors(ctx, policies);
    checkCustomProviders(ctx, policies);
    const known = ctx.index.knownNamespaces;
    for (const ap of policies) {
      arr(ap.spec.rules).forEach((rule, i) => {
        arr(rule?.from).forEach((from, j) => {
          for (const field of ['namespaces', 'notNamespaces'] as const) {
            arr(from?.source?.[field]).forEach((value, k) => {
              if (typeof value !== 'string' || [...known].some((ns) => namespaceMatches(ns, value))) return;
              ctx.report(Messages.ReferencedResourceNotFound, ap, pointer('spec', 'rules', i, 'from', j, 'source', field, k), `Referenced namespace not found: ${JSON.stringify(value)}`);
            });
          }
        });
      });
    }
  },
};

/**
 * CUSTOM policies must name an ext_authz provider of the mesh config: otherwise Istio (and Trellis) make every
 * workload the policy selects deny all requests, which is rarely what the author wanted.
 */
function checkCustomProviders(ctx: AnalysisContext, policies: readonly Typed<AuthorizationPolicySpec>[]): void {
  const providers = ctx.index.meshConfig.extensionProviders;
  for (const ap of policies) {
    if (ap.spec.action !== 'CUSTOM' || typeof ap.spec.provider?.name !== 'string' || ap.spec.provider.name === '') continue;
    const name = ap.spec.provider.name;
    const p = providers.find((x) => x.name === name);
    if (p && (isRecord(p.envoyExtAuthzHttp) || isRecord(p.envoyExtAuthzGrpc))) continue;
    const why = p ? 'is not an envoyExtAuthzHttp or envoyExtAuthzGrpc provider' : 'is not defined in the mesh config extensionProviders';
    ctx.report(Messages.UnknownExtAuthzProvider, ap, pointer('spec', 'provider', 'name'), `Extension provider ${JSON.stringify(name)} ${why}; the selected workloads deny all requests`);
  }
}

/** Istio's namespace match in policies: exact (case-insensitive), `*`, `prefix*` or `*suffix`. */
function namespaceMatches(ns: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return ns.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return ns.startsWith(pattern.slice(0, -1));
  return ns.toLowerCase() === pattern.toLowerCase();
}

export const peerAuthenticationSelectorAnalyzer: Analyzer = {
  name: 'auth.PeerAuthenticationSelectorAnalyzer',
  description: 'Checks that PeerAuthentication selectors match workloads (Istio has this check for AuthorizationPolicy only)',
  analyze(ctx) {
    checkPolicySelectors(ctx, ofKind<PeerAuthenticationSpec>(ctx.resources, GROUPS.ISTIO_SEC, 'PeerAuthentication'));
  },
};

export const requestAuthenticationSelectorAnalyzer: Analyzer = {
  name: 'auth.RequestAuthenticationSelectorAnalyzer',
  description: 'Checks that RequestAuthentication selectors match workloads (Istio has this check for AuthorizationPolicy only)',
  analyze(ctx) {
    checkPolicySelectors(ctx, ofKind<RequestAuthenticationSpec>(ctx.resources, GROUPS.ISTIO_SEC, 'RequestAuthentication'));
  },
};

/** The environment variable that keeps istiod from fetching JWKS from internal addresses. */
const BLOCKED_CIDRS = 'BLOCKED_CIDRS_IN_JWKS_URIS';

export const blockedCidrsAnalyzer: Analyzer = {
  name: 'authn.BlockedCIDRsAnalyzer',
  description: 'Checks that istiod restricts the addresses it fetches JWKS from when RequestAuthentications exist',
  analyze(ctx) {
    const authns = ofKind<RequestAuthenticationSpec>(ctx.resources, GROUPS.ISTIO_SEC, 'RequestAuthentication');
    if (authns.length === 0) return;
    // istiod fetches every jwksUri itself: without a block list, whoever writes a RequestAuthentication can make it
    // send requests to internal addresses.
    for (const istiod of ctx.index.list('apps', 'Deployment')) {
      if (istiod.metadata.name !== 'istiod' && istiod.metadata.labels.app !== 'istiod') continue;
      const containers = arr(podTemplateOf(istiod)?.spec?.containers);
      const discovery = containers.find((c) => c?.name === 'discovery') ?? containers[0];
      if (!discovery || arr(discovery.env).some((e) => e?.name === BLOCKED_CIDRS && typeof e.value === 'string' && e.value !== '')) continue;
      const names = authns.map((a) => `${a.metadata.namespace}/${a.metadata.name}`).sort();
      ctx.report(Messages.JwksUriFetchUnrestricted, istiod, '/metadata/name', `${BLOCKED_CIDRS} is not configured but ${names.length} RequestAuthentication resource(s) exist (${names.join(', ')}). Consider configuring it to restrict JWKS URI fetches to trusted networks.`);
    }
  },
};
