// Istio's annotation catalogue (istio.io/api annotation/annotations.yaml, Istio 1.16–1.20): where each applies, its maturity, and value checks.

import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';

export type AnnotationTarget = 'Any' | 'Pod' | 'Service' | 'Namespace' | 'Deployment' | 'AuthorizationPolicy' | 'WorkloadEntry' | 'Ingress' | 'Gateway';

export interface KnownAnnotation {
  resources: readonly AnnotationTarget[];
  status: 'Alpha' | 'Beta' | 'Stable';
  /** Set when deprecated; the text is appended to "has been deprecated" (may be empty). */
  deprecated?: string;
  /** Returns a problem with the value, if any. */
  validate?: (value: string) => string | undefined;
}

const bool = (v: string) => (['true', 'false'].includes(v.toLowerCase()) ? undefined : `${JSON.stringify(v)} is not a boolean (true or false)`);
const uint32 = (v: string) => (/^\d+$/.test(v) && Number(v) <= 0xffffffff ? undefined : `${JSON.stringify(v)} is not a non-negative integer`);

function port(v: string): string | undefined {
  return /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : `${JSON.stringify(v)} is not a port number (1-65535)`;
}

/** Comma-separated ports; `*` allowed when `wildcard`. Empty means none. */
function ports(wildcard: boolean) {
  return (v: string): string | undefined => {
    if (wildcard && v.trim() === '*') return undefined;
    for (const p of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const problem = port(p);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** Comma-separated CIDRs; `*` allowed when `wildcard`. */
function cidrs(wildcard: boolean) {
  return (v: string): string | undefined => {
    if (wildcard && v.trim() === '*') return undefined;
    for (const c of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const [addr, bits, extra] = c.split('/');
      const family = isIP(addr ?? '');
      const max = family === 6 ? 128 : 32;
      if (extra !== undefined || family === 0 || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) return `${JSON.stringify(c)} is not a CIDR range`;
    }
    return undefined;
  };
}

const interceptionMode = (v: string) => (['REDIRECT', 'TPROXY', 'NONE'].includes(v) ? undefined : `${JSON.stringify(v)} is not one of REDIRECT, TPROXY, NONE`);

function proxyConfig(v: string): string | undefined {
  try {
    const parsed: unknown = parseYaml(v);
    if (parsed === null || parsed === undefined || (typeof parsed === 'object' && !Array.isArray(parsed))) return undefined;
  } catch {
    // fall through
  }
  return 'not a ProxyConfig mapping in YAML or JSON';
}

const pod = (status: KnownAnnotation['status'], extra: Partial<KnownAnnotation> = {}): KnownAnnotation => ({ resources: ['Pod'], status, ...extra });

export const KNOWN_ANNOTATIONS: ReadonlyMap<string, KnownAnnotation> = new Map<string, KnownAnnotation>([
  ['alpha.istio.io/canonical-serviceaccounts', { resources: ['Service'], status: 'Alpha', deprecated: '' }],
  ['alpha.istio.io/kubernetes-serviceaccounts', { resources: ['Service'], status: 'Alpha', deprecated: '' }],
  ['alpha.istio.io/identity', pod('Alpha', { deprecated: '' })],
  ['ambient.istio.io/redirection', pod('Alpha')],
  ['galley.istio.io/analyze-suppress', { resources: ['Any'], status: 'Alpha' }],
  // Istio's gateway controller writes this on the objects it owns.
  ['gateway.istio.io/controller-version', { resources: ['Any'], status: 'Stable' }],
  ['inject.istio.io/templates', pod('Alpha')],
  ['install.operator.istio.io/chart-owner', { resources: ['Any'], status: 'Alpha' }],
  ['install.operator.istio.io/owner-generation', { resources: ['Any'], status: 'Alpha' }],
  ['install.operator.istio.io/version', { resources: ['Any'], status: 'Alpha' }],
  ['istio.io/dry-run', { resources: ['AuthorizationPolicy'], status: 'Alpha' }],
  ['istio.io/rev', pod('Alpha')],
  ['istio.io/autoRegistrationGroup', { resources: ['WorkloadEntry'], status: 'Alpha' }],
  ['istio.io/connectedAt', { resources: ['WorkloadEntry'], status: 'Alpha' }],
  ['istio.io/disconnectedAt', { resources: ['WorkloadEntry'], status: 'Alpha' }],
  ['istio.io/workloadController', { resources: ['WorkloadEntry'], status: 'Alpha' }],
  ['kubernetes.io/ingress.class', { resources: ['Ingress'], status: 'Stable' }],
  ['networking.istio.io/exportTo', { resources: ['Service'], status: 'Alpha' }],
  ['networking.istio.io/service-type', { resources: ['Gateway'], status: 'Alpha' }],
  ['prometheus.istio.io/merge-metrics', pod('Alpha', { validate: bool })],
  ['proxy.istio.io/config', pod('Beta', { validate: proxyConfig })],
  ['proxy.istio.io/overrides', pod('Alpha')],
  ['readiness.status.sidecar.istio.io/applicationPorts', pod('Alpha', { validate: ports(false) })],
  ['readiness.status.sidecar.istio.io/failureThreshold', pod('Alpha', { validate: uint32 })],
  ['readiness.status.sidecar.istio.io/initialDelaySeconds', pod('Alpha', { validate: uint32 })],
  ['readiness.status.sidecar.istio.io/periodSeconds', pod('Alpha', { validate: uint32 })],
  ['sidecar.istio.io/agentLogLevel', pod('Alpha')],
  ['sidecar.istio.io/bootstrapOverride', pod('Alpha')],
  ['sidecar.istio.io/componentLogLevel', pod('Alpha')],
  ['sidecar.istio.io/controlPlaneAuthPolicy', pod('Alpha', { deprecated: '' })],
  ['sidecar.istio.io/discoveryAddress', pod('Alpha', { deprecated: '' })],
  ['sidecar.istio.io/enableCoreDump', pod('Alpha', { validate: bool })],
  ['sidecar.istio.io/extraStatTags', pod('Alpha')],
  ['sidecar.istio.io/inject', pod('Beta', { deprecated: ' in favor of the "sidecar.istio.io/inject" label' })],
  ['sidecar.istio.io/interceptionMode', pod('Alpha', { validate: interceptionMode })],
  ['sidecar.istio.io/logLevel', pod('Alpha')],
  ['sidecar.istio.io/nativeSidecar', pod('Alpha', { validate: bool })],
  ['sidecar.istio.io/proxyCPU', pod('Alpha')],
  ['sidecar.istio.io/proxyCPULimit', pod('Alpha')],
  ['sidecar.istio.io/proxyImage', pod('Alpha')],
  ['sidecar.istio.io/proxyImageType', pod('Alpha')],
  ['sidecar.istio.io/proxyMemory', pod('Alpha')],
  ['sidecar.istio.io/proxyMemoryLimit', pod('Alpha')],
  ['sidecar.istio.io/rewriteAppHTTPProbers', pod('Alpha', { validate: bool })],
  ['sidecar.istio.io/statsHistogramBuckets', pod('Alpha')],
  ['sidecar.istio.io/statsInclusionPrefixes', pod('Alpha', { deprecated: '' })],
  ['sidecar.istio.io/statsInclusionRegexps', pod('Alpha', { deprecated: '' })],
  ['sidecar.istio.io/statsInclusionSuffixes', pod('Alpha', { deprecated: '' })],
  ['sidecar.istio.io/status', pod('Alpha')],
  ['sidecar.istio.io/userVolume', pod('Alpha')],
  ['sidecar.istio.io/userVolumeMount', pod('Alpha')],
  ['status.sidecar.istio.io/port', pod('Alpha', { validate: port })],
  ['topology.istio.io/controlPlaneClusters', { resources: ['Any'], status: 'Alpha' }],
  ['traffic.sidecar.istio.io/excludeInboundPorts', pod('Alpha', { validate: ports(false) })],
  ['traffic.sidecar.istio.io/excludeInterfaces', pod('Alpha')],
  ['traffic.sidecar.istio.io/excludeOutboundIPRanges', pod('Alpha', { validate: cidrs(false) })],
  ['traffic.sidecar.istio.io/excludeOutboundPorts', pod('Alpha', { validate: ports(false) })],
  ['traffic.sidecar.istio.io/includeInboundPorts', pod('Alpha', { validate: ports(true) })],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', pod('Alpha', { validate: cidrs(true) })],
  ['traffic.sidecar.istio.io/includeOutboundPorts', pod('Alpha', { validate: ports(false) })],
  ['traffic.sidecar.istio.io/kubevirtInterfaces', pod('Alpha')],
]);

/** Whether Istio's analyzers consider an annotation theirs: any `*istio.io/` prefix, plus the Ingress class annotation Istio documents. */
export function isIstioAnnotation(key: string): boolean {
  if (key === 'kubernetes.io/ingress.class') return true;
  const slash = key.indexOf('/');
  return slash > 0 && key.slice(0, slash).endsWith('istio.io');
}
