// Workload-to-workload transport security: PeerAuthentication with Istio's precedence (workload, namespace, mesh;
// port-level overrides), auto mTLS and DestinationRule TLS modes for clients, and the TLS contexts Istio uses (SDS
// secrets `default` and `ROOTCA`, SPIFFE SAN checks, the mesh's minimum TLS version).

import type { Resource } from '../../config/resource.js';
import type { DestinationRule } from '../../config/types/networking.js';
import type { Endpoint } from '../registry/service-registry.js';

type Json = Record<string, unknown>;
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

interface PeerAuthSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: string };
  portLevelMtls?: Record<string, { mode?: string }>;
}

const TLS = 'envoy.transport_sockets.tls';
const DOWNSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** The effective mode for a workload port: a selecting policy (port level first), then the namespace's, then the mesh's. */
export function peerAuthenticationMode(resources: readonly Resource[], rootNamespace: string, namespace: string, labels: Record<string, string>, port: number): MtlsMode {
  const pas = resources.filter((r) => r.group === 'security.istio.io' && r.kind === 'PeerAuthentication');
  const spec = (r: Resource) => r.spec as PeerAuthSpec;
  const selects = (r: Resource) => {
    const sel = spec(r).selector?.matchLabels;
    return !!sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
  };
  const unselected = (r: Resource) => !spec(r).selector?.matchLabels || Object.keys(spec(r).selector!.matchLabels!).length === 0;
  const mode = (m: string | undefined): MtlsMode | undefined => (m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : undefined);
  const workload = pas.find((r) => r.metadata.namespace === namespace && selects(r));
  const fromWorkload = workload ? (mode(spec(workload).portLevelMtls?.[String(port)]?.mode) ?? mode(spec(workload).mtls?.mode)) : undefined;
  const ns = pas.find((r) => r.metadata.namespace === namespace && unselected(r));
  const mesh = pas.find((r) => r.metadata.namespace === rootNamespace && unselected(r));
  return fromWorkload ?? mode(ns && spec(ns).mtls?.mode) ?? mode(mesh && spec(mesh).mtls?.mode) ?? 'PERMISSIVE';
}

const VERSION: Record<string, string> = { TLSV1_2: 'TLSv1_2', TLSV1_3: 'TLSv1_3' };

function common(minVersion: string | undefined, sans?: string[]): Json {
  return {
    tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } }],
    ...(sans
      ? { combinedValidationContext: { defaultValidationContext: { matchSubjectAltNames: sans.map((exact) => ({ exact })) }, validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } } } }
      : { validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } } }),
    tlsParams: { tlsMinimumProtocolVersion: VERSION[minVersion ?? ''] ?? 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
    alpnProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'],
  };
}

/** The server side of mutual TLS on an inbound chain. */
export function downstreamMtls(minVersion: string | undefined): Json {
  return { name: TLS, typedConfig: { '@type': DOWNSTREAM, commonTlsContext: common(minVersion), requireClientCertificate: true } };
}

/** The client side of ISTIO_MUTUAL to a service port: workload certificate, mesh roots, the servers' identities. */
export function upstreamMtls(sni: string, sans: string[], minVersion: string | undefined): Json {
  return { name: TLS, typedConfig: { '@type': UPSTREAM, sni, commonTlsContext: common(minVersion, sans) } };
}

/**
 * Should a client use Istio mutual TLS to these endpoints? DestinationRule `tls.mode` decides when set
 * (ISTIO_MUTUAL yes, DISABLE no; SIMPLE/MUTUAL with user certificates are not translated yet); otherwise auto mTLS:
 * yes when every endpoint has a sidecar that accepts it (its PeerAuthentication is not DISABLE).
 */
export function clientUsesMtls(dr: DestinationRule | undefined, tlsMode: string | undefined, endpoints: Endpoint[], serverMode: (e: Endpoint) => MtlsMode): boolean {
  if (tlsMode === 'ISTIO_MUTUAL') return true;
  if (tlsMode) return false;
  void dr;
  return endpoints.length > 0 && endpoints.every((e) => e.workload?.meshed && serverMode(e) !== 'DISABLE');
}

/** The mesh's minimum TLS version (`meshMTLS.minProtocolVersion` in the mesh config). */
export function meshMinTls(resources: readonly Resource[], rootNamespace: string, parse: (text: string) => unknown): string | undefined {
  const cm = resources.find((r) => r.group === '' && r.kind === 'ConfigMap' && r.metadata.name === 'istio' && r.metadata.namespace === rootNamespace);
  const text = (cm?.raw.data as Record<string, string> | undefined)?.mesh;
  if (!text) return undefined;
  try {
    return ((parse(text) as { meshMTLS?: { minProtocolVersion?: string } } | null)?.meshMTLS?.minProtocolVersion) ?? undefined;
  } catch {
    return undefined;
  }
}
