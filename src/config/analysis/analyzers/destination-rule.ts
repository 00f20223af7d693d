// DestinationRule analyzers: unverified server certificates, hosts that match no service, subsets that select no workload.

import { resolveHost } from '../../hosts.js';
import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { ClientTLSSettings, DestinationRuleSpec, VirtualServiceSpec } from '../../types/networking.js';
import type { Analyzer } from '../analyzer.js';
import type { ConfigIndex, ServiceInfo, Typed, Workload } from '../config-index.js';
import { matchesLabels, selectorString, stringRecord } from '../../labels.js';
import { Messages } from '../messages.js';
import { arr, destinationsOf, fullName, isRecord, ofKind } from './util.js';

type DestinationRule = Typed<DestinationRuleSpec>;

/**
 * A client TLS setting that verifies nothing: SIMPLE or MUTUAL without a CA, unless the user opted out or a credential
 * secret carries the CA. Istio reads a credentialName for sidecars only in a rule with a workloadSelector; Trellis's own
 * runtime reads its `ca.crt` in every rule.
 */
function unverified(tls: ClientTLSSettings | undefined, credentialRead: boolean): string | undefined {
  if (!isRecord(tls)) return undefined;
  if (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL') return undefined;
  if (tls.caCertificates) return undefined;
  if ((tls.credentialName && credentialRead) || tls.insecureSkipVerify === true) return undefined;
  return tls.mode;
}

export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'Checks if caCertificates is set when TLS mode is SIMPLE/MUTUAL',
  analyze(ctx) {
    for (const dr of ofKind<DestinationRuleSpec>(ctx.resources, GROUPS.ISTIO_NET, 'DestinationRule')) {
      const host = String(dr.spec.host ?? '');
      const tp = dr.spec.trafficPolicy;
      const credentialRead = ctx.mode === 'local' || Object.keys(stringRecord(dr.spec.workloadSelector?.matchLabels)).length > 0;
      const mode = unverified(tp?.tls, credentialRead);
      if (mode) {
        ctx.report(Messages.NoServerCertificateVerificationDestinationLevel, dr, pointer('spec', 'trafficPolicy', 'tls', 'mode'), `DestinationRule ${fullName(dr)} in namespace ${dr.metadata.namespace} has TLS mode set to ${mode} but no caCertificates are set to validate server identity for host: ${host}`);
      }
      arr(tp?.portLevelSettings).forEach((p, i) => {
        const portMode = unverified(p?.tls, credentialRead);
        if (!portMode) return;
        ctx.report(
          Messages.NoServerCertificateVerificationPortLevel,
          dr,
          pointer('spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'mode'),
          `DestinationRule ${fullName(dr)} in namespace ${dr.metadata.namespace} has TLS mode set to ${portMode} but no caCertificates are set to validate server identity for host: ${host} at port ${p?.port?.number ?? ''}`,
        );
      });
    }
  },
};

export const destinationRuleHostAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'Checks that a DestinationRule host is a known service and that each subset selects some of its workloads',
  analyze(ctx) {
    const used = routedSubsets(ctx.index);
    for (const dr of ofKind<DestinationRuleSpec>(ctx.resources, GROUPS.ISTIO_NET, 'DestinationRule')) {
      const host = dr.spec.host;
      if (typeof host !== 'string' || host === '') continue;
      const ns = dr.metadata.namespace;
      const fqdn = resolveHost(host, ns);
      const services = ctx.index.servicesForHost(fqdn, ns);
      if (services.length === 0) {
        ctx.report(Messages.UnknownDestinationRuleHost, dr, '/spec/host', `The host ${host} defined in the DestinationRule does not match any services in the mesh.`);
        continue;
      }
      if (fqdn.includes('*')) continue; // a wildcard rule covers many services; its subsets need not exist in each
      checkSubsets(ctx.index, dr, host, services, (i, name, message) => {
        const at = pointer('spec', 'subsets', i, 'name');
        if (ctx.mode === 'istioctl') {
          ctx.report(Messages.DestinationRuleSubsetNotSelectPods, dr, at, `The Subset ${name} defined in the DestinationRule does not select any pods, which may lead to 503 UH (NoHealthyUpstream).`);
          return;
        }
        // Where Trellis runs the files, requests fail only once a route sends them to the subset: a subset declared
        // ahead of its version (as Bookinfo's destination-rule-all.yaml does) is harmless until then.
        const routed = used.has(`${fqdn}|${name}`);
        const type = routed ? Messages.SubsetSelectsNoWorkloads : { ...Messages.SubsetSelectsNoWorkloads, level: 'Info' as const };
        ctx.report(type, dr, at, routed ? `${message}; a VirtualService routes to it, and those requests fail with 503 UH (no healthy upstream).` : `${message}; no route uses it yet.`);
      });
    }
  },
};

/** `fqdn|subset` for every subset a VirtualService sends traffic to (routes and mirrors). */
function routedSubsets(index: ConfigIndex): Set<string> {
  const out = new Set<string>();
  for (const vs of index.list<VirtualServiceSpec>(GROUPS.ISTIO_NET, 'VirtualService')) {
    for (const d of destinationsOf(vs)) {
      if (typeof d.destination.host === 'string' && typeof d.destination.subset === 'string') out.add(`${resolveHost(d.destination.host, vs.metadata.namespace)}|${d.destination.subset}`);
    }
  }
  return out;
}

function checkSubsets(index: ConfigIndex, dr: DestinationRule, host: string, services: readonly ServiceInfo[], report: (i: number, name: string, message: string) => void): void {
  arr(dr.spec.subsets).forEach((subset, i) => {
    const labels = stringRecord(subset?.labels);
    let checkable = false;
    let selected = false;
    for (const s of services) {
      const verdict = subsetSelects(index, s, labels);
      if (verdict === undefined) continue;
      checkable = true;
      if (verdict) selected = true;
    }
    if (checkable && !selected) {
      report(i, String(subset?.name ?? ''), `The subset ${JSON.stringify(subset?.name ?? '')} defined in the DestinationRule selects no workload of host ${JSON.stringify(host)} (labels ${selectorString(labels)})`);
    }
  });
}

/** Whether a subset's labels pick a workload behind `s`; undefined when the registry cannot tell (external hosts, services without selectors). */
function subsetSelects(index: ConfigIndex, s: ServiceInfo, labels: Record<string, string>): boolean | undefined {
  if (s.endpointLabels) return s.endpointLabels.some((l) => matchesLabels(labels, l));
  if (!s.selector || Object.keys(s.selector).length === 0) return undefined;
  const merged = { ...s.selector, ...labels };
  return index.workloads.some((w) => w.namespace === s.namespace && w.kind !== 'WorkloadEntry' && matchesLabels(merged, { ...w.labels, ...nodeTopologyLabels(index, w) }));
}

/** The labels a pod's endpoints get from its node, as the service registry adds them: region, zone, subzone, hostname. */
const TOPOLOGY_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];

function nodeTopologyLabels(index: ConfigIndex, w: Workload): Record<string, string> {
  const nodeName = w.podSpec?.nodeName;
  if (typeof nodeName !== 'string' || nodeName === '') return {};
  const node = index.get('', 'Node', '', nodeName);
  const out: Record<string, string> = { 'kubernetes.io/hostname': nodeName };
  // An empty label on the node says nothing about where the pod runs.
  for (const key of TOPOLOGY_LABELS) if (node?.metadata.labels[key]) out[key] = node.metadata.labels[key]!;
  return out;
}
