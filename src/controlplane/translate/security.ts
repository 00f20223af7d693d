// Workload-to-workload transport security: PeerAuthentication with Istio's precedence (workload, namespace, mesh;
// port-level overrides), auto mTLS and DestinationRule TLS modes for clients, and the TLS contexts Istio uses (SDS
// secrets `default` and `ROOTCA`, SPIFFE SAN checks, the mesh's minimum TLS version); user certificates for
// DestinationRule SIMPLE/MUTUAL origination and Gateway server termination (files or Secrets over SDS).

import type { Resource } from '../../config/resource.js';
import type { ClientTLSSettings, DestinationRule, ServerTLSSettings } from '../../config/types/networking.js';
import { sdsCaName, sdsCertName } from './credentials.js';
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
 * (ISTIO_MUTUAL yes; DISABLE, SIMPLE and MUTUAL no: the last two are `upstreamUserTls`); otherwise auto mTLS:
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

// ---------------------------------------------------------------- user certificates (SIMPLE / MUTUAL)

const SDS = { ads: {}, resourceApiVersion: 'V3' };
const sdsRef = (name: string) => ({ name, sdsConfig: SDS });
const file = (filename: string) => ({ filename });

/** Istio's TLS version names (`TLSV1_2`) → Envoy's (`TLSv1_2`); TLS_AUTO and unset leave Envoy's default. */
function envoyVersion(v: string | undefined): string | undefined {
  return v && v !== 'TLS_AUTO' ? v.replace('TLSV', 'TLSv') : undefined;
}

/**
 * The client side of a DestinationRule's SIMPLE or MUTUAL mode (TLS origination to a server with its own PKI):
 * SNI (`sni`, else the service host), the server's roots from `caCertificates` or the `credentialName` Secret
 * (`kubernetes://<name>-cacert` over SDS), `subjectAltNames`, `insecureSkipVerify`; for MUTUAL the client certificate
 * from `clientCertificate`/`privateKey` files or the Secret (`kubernetes://<name>`). Without any CA the proxy verifies
 * against the system roots (Envoy would not verify at all; Istio later made verification the default too).
 */
export function upstreamUserTls(t: ClientTLSSettings, host: string): Json | undefined {
  if (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL') return undefined;
  const ctx: Json = {};
  const cred = t.credentialName;
  if (t.mode === 'MUTUAL') {
    if (cred) ctx.tlsCertificateSdsSecretConfigs = [sdsRef(sdsCertName(cred))];
    else if (t.clientCertificate && t.privateKey) ctx.tlsCertificates = [{ certificateChain: file(t.clientCertificate), privateKey: file(t.privateKey) }];
  }
  const sans = (t.subjectAltNames ?? []).map((exact) => ({ exact }));
  if (t.insecureSkipVerify) {
    ctx.validationContext = { trustChainVerification: 'ACCEPT_UNTRUSTED' };
  } else if (cred) {
    ctx.combinedValidationContext = { defaultValidationContext: sans.length ? { matchSubjectAltNames: sans } : {}, validationContextSdsSecretConfig: sdsRef(sdsCaName(cred)) };
  } else if (t.caCertificates || sans.length) {
    ctx.validationContext = { ...(t.caCertificates ? { trustedCa: file(t.caCertificates) } : {}), ...(sans.length ? { matchSubjectAltNames: sans } : {}) };
  }
  return { name: TLS, typedConfig: { '@type': UPSTREAM, sni: t.sni || host, commonTlsContext: ctx } };
}

/**
 * The server side of a Gateway server's TLS: SIMPLE (server certificate only), MUTUAL (clients must show a certificate
 * the CA vouches for), ISTIO_MUTUAL (the gateway's workload identity and the mesh roots). Certificates come from
 * `credentialName` over SDS or from `serverCertificate`/`privateKey`/`caCertificates` files; TLS versions and cipher
 * suites from the server. PASSTHROUGH and AUTO_PASSTHROUGH do not terminate (undefined).
 */
export function gatewayDownstreamTls(t: ServerTLSSettings): Json | undefined {
  const mode = t.mode ?? 'SIMPLE';
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL' && mode !== 'ISTIO_MUTUAL' && mode !== 'OPTIONAL_MUTUAL') return undefined;
  const ctx: Json = {};
  const cred = t.credentialName;
  const sans = (t.subjectAltNames ?? []).map((exact) => ({ exact }));
  if (mode === 'ISTIO_MUTUAL') {
    ctx.tlsCertificateSdsSecretConfigs = [sdsRef('default')];
    ctx.combinedValidationContext = { defaultValidationContext: sans.length ? { matchSubjectAltNames: sans } : {}, validationContextSdsSecretConfig: sdsRef('ROOTCA') };
  } else {
    if (cred) ctx.tlsCertificateSdsSecretConfigs = [sdsRef(sdsCertName(cred))];
    else if (t.serverCertificate && t.privateKey) ctx.tlsCertificates = [{ certificateChain: file(t.serverCertificate), privateKey: file(t.privateKey) }];
    if (mode !== 'SIMPLE') {
      if (cred) ctx.combinedValidationContext = { defaultValidationContext: sans.length ? { matchSubjectAltNames: sans } : {}, validationContextSdsSecretConfig: sdsRef(sdsCaName(cred)) };
      else ctx.validationContext = { ...(t.caCertificates ? { trustedCa: file(t.caCertificates) } : {}), ...(sans.length ? { matchSubjectAltNames: sans } : {}) };
    }
  }
  // Gateways accept TLS 1.2 and up unless the server says otherwise (Istio's default for gateways).
  ctx.tlsParams = {
    tlsMinimumProtocolVersion: envoyVersion(t.minProtocolVersion) ?? 'TLSv1_2',
    tlsMaximumProtocolVersion: envoyVersion(t.maxProtocolVersion) ?? 'TLSv1_3',
    ...(t.cipherSuites?.length ? { cipherSuites: t.cipherSuites } : {}),
  };
  ctx.alpnProtocols = ['h2', 'http/1.1'];
  return { name: TLS, typedConfig: { '@type': DOWNSTREAM, commonTlsContext: ctx, requireClientCertificate: mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL' } };
}
