// mTLS conflicts: a DestinationRule's client TLS mode that the destination's PeerAuthentication rejects (STRICT vs plaintext, DISABLE vs mTLS).

import { resolveHost } from '../../hosts.js';
import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { ClientTLSSettings, DestinationRuleSpec } from '../../types/networking.js';
import type { MutualTLSMode, PeerAuthenticationSpec } from '../../types/security.js';
import type { Analyzer } from '../analyzer.js';
import type { ConfigIndex, ServiceInfo, Typed, Workload } from '../config-index.js';
import { matchesLabels, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { proxiedWorkloads } from './policies.js';
import { arr, fullName, isRecord, ofKind } from './util.js';

type PeerAuthentication = Typed<PeerAuthenticationSpec>;

interface EffectiveMode {
  mode: Exclude<MutualTLSMode, 'UNSET'>;
  /** The policy that decided it; undefined for the built-in default (PERMISSIVE). */
  policy?: PeerAuthentication;
}

/** Which PeerAuthentication decides the server side for `w` on `targetPort`: workload policy, then namespace, then mesh; PERMISSIVE by default. */
function effectiveMode(index: ConfigIndex, policies: readonly PeerAuthentication[], namespace: string, w: Workload | undefined, targetPort: string | undefined): EffectiveMode {
  const hasSelector = (p: PeerAuthentication) => Object.keys(stringRecord(p.spec.selector?.matchLabels)).length > 0;
  const layers: PeerAuthentication[][] = [
    w ? policies.filter((p) => p.metadata.namespace === namespace && hasSelector(p) && matchesLabels(stringRecord(p.spec.selector?.matchLabels), w.labels)) : [],
    policies.filter((p) => p.metadata.namespace === namespace && !hasSelector(p)),
    policies.filter((p) => p.metadata.namespace === index.rootNamespace && !hasSelector(p)),
  ];
  for (const [layer, candidates] of layers.entries()) {
    for (const p of candidates) {
      // Port-level modes exist only on workload-selecting policies, keyed by the workload (target) port.
      const portMode = layer === 0 && targetPort !== undefined && isRecord(p.spec.portLevelMtls) ? p.spec.portLevelMtls[targetPort]?.mode : undefined;
      const mode = portMode && portMode !== 'UNSET' ? portMode : p.spec.mtls?.mode;
      if (mode && mode !== 'UNSET') return { mode, policy: p };
    }
  }
  return { mode: 'PERMISSIVE' };
}

export const mtlsConflictAnalyzer: Analyzer = {
  name: 'auth.MTLSAnalyzer',
  description: "Checks that a DestinationRule's TLS mode is one the destination's PeerAuthentication accepts",
  analyze(ctx) {
    const policies = ctx.index.list<PeerAuthenticationSpec>(GROUPS.ISTIO_SEC, 'PeerAuthentication');
    if (policies.length === 0) return;
    const workloads = proxiedWorkloads(ctx.index);
    for (const dr of ofKind<DestinationRuleSpec>(ctx.resources, GROUPS.ISTIO_NET, 'DestinationRule')) {
      if (typeof dr.spec.host !== 'string') continue;
      const ns = dr.metadata.namespace;
      const services = ctx.index.servicesForHost(resolveHost(dr.spec.host, ns), ns).filter((s) => s.origin === 'Service');
      if (services.length === 0) continue;
      // Each place a client TLS mode can be set, with the subset labels and service port it is limited to.
      const sites: Array<{ tls: ClientTLSSettings | undefined; at: string; subset?: Record<string, string>; port?: number }> = [];
      const tp = dr.spec.trafficPolicy;
      sites.push({ tls: tp?.tls, at: pointer('spec', 'trafficPolicy', 'tls', 'mode') });
      arr(tp?.portLevelSettings).forEach((p, i) => sites.push({ tls: p?.tls, at: pointer('spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'mode'), port: p?.port?.number }));
      arr(dr.spec.subsets).forEach((s, i) => {
        const labels = stringRecord(s?.labels);
        sites.push({ tls: s?.trafficPolicy?.tls, at: pointer('spec', 'subsets', i, 'trafficPolicy', 'tls', 'mode'), subset: labels });
        arr(s?.trafficPolicy?.portLevelSettings).forEach((p, j) => sites.push({ tls: p?.tls, at: pointer('spec', 'subsets', i, 'trafficPolicy', 'portLevelSettings', j, 'tls', 'mode'), subset: labels, port: p?.port?.number }));
      });
      for (const site of sites) {
        const clientMode = site.tls?.mode;
        if (!clientMode) continue; // no explicit mode: auto mTLS follows the server
        const clientMtls = clientMode === 'ISTIO_MUTUAL';
        const conflict = services.map((s) => findConflict(ctx.index, policies, workloads, s, site.subset, site.port, clientMtls)).find((c) => c !== undefined);
        if (!conflict) continue;
        const policyName = conflict.policy ? fullName(conflict.policy) : '';
        ctx.report(
          Messages.MTLSPolicyConflict,
          dr,
          site.at,
          `A DestinationRule and PeerAuthentication are in conflict with regards to mTLS for host ${dr.spec.host}. The DestinationRule ${JSON.stringify(fullName(dr))} specifies that mTLS must be ${clientMtls} but the PeerAuthentication object ${JSON.stringify(policyName)} specifies ${conflict.mode}.`,
        );
      }
    }
  },
};

/** The server-side mode that refuses what the client sends: STRICT for a plaintext (or non-Istio TLS) client, DISABLE for an Istio mTLS one. */
function findConflict(index: ConfigIndex, policies: readonly PeerAuthentication[], workloads: readonly Workload[], s: ServiceInfo, subset: Record<string, string> | undefined, port: number | undefined, clientMtls: boolean): EffectiveMode | undefined {
  const selector = s.selector && Object.keys(s.selector).length ? { ...s.selector, ...(subset ?? {}) } : undefined;
  const backends = selector ? workloads.filter((w) => w.namespace === s.namespace && matchesLabels(selector, w.labels)) : [];
  const servicePorts = port === undefined ? s.ports : s.ports.filter((p) => p.number === port);
  const targets = servicePorts.length ? servicePorts.map((p) => (p.targetPort === undefined ? String(p.number) : String(p.targetPort))) : [undefined];
  const candidates: Array<Workload | undefined> = backends.length ? backends : [undefined];
  for (const w of candidates) {
    for (const target of targets) {
      const eff = effectiveMode(index, policies, s.namespace, w, target);
      if (!eff.policy) continue;
      if (!clientMtls && eff.mode === 'STRICT') return eff;
      if (clientMtls && eff.mode === 'DISABLE') return eff;
    }
  }
  return undefined;
}
