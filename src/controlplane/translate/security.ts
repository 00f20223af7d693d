// Workload-to-workload transport security: auto mTLS and DestinationRule TLS modes for clients, the TLS contexts Istio
// uses (SDS secrets `default` and `ROOTCA`, SPIFFE SAN checks, the mesh's minimum TLS version); user certificates for
// DestinationRule SIMPLE/MUTUAL origination and Gateway server termination (files or Secrets over SDS). Which mode a
// server port accepts (PeerAuthentication with Istio's precedence) is the policy index's.

import type { MeshConfig, TlsVersion } from '../../config/mesh-config.js';
import type { ClientTLSSettings, ServerTLSSettings } from '../../config/types/networking.js';
import { ADS_SOURCE, TYPE, typed, type CommonTlsContext, type SdsSecretConfig, type StringMatcher, type TlsProtocolVersion, type TransportSocket } from '../../xds/envoy/index.js';
import type { Endpoint } from '../registry/service-registry.js';
import { sdsCaName, sdsCertName } from './credentials.js';
import type { PushContext } from './push-context.js';

export type { MtlsMode } from './policy-index.js';

/** A TLS transport socket and the Kubernetes Secrets (SDS names) it needs served. */
export interface BuiltTls {
  socket: TransportSocket;
  secrets: string[];
}

const TLS = 'envoy.transport_sockets.tls';
/** Istio's SDS names for the workload's own certificate and the mesh's roots, which the proxy's agent provides. */
export const WORKLOAD_CERT = 'default';
export const ROOT_CA = 'ROOTCA';

const sdsRef = (name: string): SdsSecretConfig => ({ name, sdsConfig: ADS_SOURCE });

/** Istio's TLS version names (`TLSV1_2`) → Envoy's (`TLSv1_2`); TLS_AUTO and unset leave Envoy's default. */
function envoyVersion(v: TlsVersion | string | undefined): TlsProtocolVersion | undefined {
  return v && v !== 'TLS_AUTO' ? (v.replace('TLSV', 'TLSv') as TlsProtocolVersion) : undefined;
}

/** The mesh's mutual TLS settings: `meshMTLS` (a ServiceMeshControlPlane's controlPlane.tls lands there). */
export type MeshTls = MeshConfig['meshMTLS'];

function istioMutual(tls: MeshTls, sans?: string[]): CommonTlsContext {
  return {
    tlsCertificateSdsSecretConfigs: [sdsRef(WORKLOAD_CERT)],
    ...(sans
      ? { combinedValidationContext: { defaultValidationContext: { matchSubjectAltNames: sans.map((exact) => ({ exact })) }, validationContextSdsSecretConfig: sdsRef(ROOT_CA) } }
      : { validationContextSdsSecretConfig: sdsRef(ROOT_CA) }),
    // Istio's floor is TLS 1.2 for mutual TLS between workloads, whatever is asked below it.
    tlsParams: {
      tlsMinimumProtocolVersion: tls.minProtocolVersion === 'TLSV1_3' ? 'TLSv1_3' : 'TLSv1_2',
      tlsMaximumProtocolVersion: tls.maxProtocolVersion === 'TLSV1_2' && tls.minProtocolVersion !== 'TLSV1_3' ? 'TLSv1_2' : 'TLSv1_3',
      ...(tls.cipherSuites?.length ? { cipherSuites: tls.cipherSuites } : {}),
    },
    alpnProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'],
  };
}

/** The server side of mutual TLS on an inbound chain. */
export function downstreamMtls(tls: MeshTls): TransportSocket {
  return { name: TLS, typedConfig: typed(TYPE.downstreamTls, { commonTlsContext: istioMutual(tls), requireClientCertificate: true }) };
}

/** The client side of ISTIO_MUTUAL to a service port: workload certificate, mesh roots, the servers' identities. */
export function upstreamMtls(sni: string, sans: string[], tls: MeshTls): TransportSocket {
  return { name: TLS, typedConfig: typed(TYPE.upstreamTls, { sni, commonTlsContext: istioMutual(tls, sans.length ? sans : undefined) }) };
}

/** HBONE's mutual TLS (Istio's workload certificate and mesh roots; HTTP/2 is negotiated by the transport): server side. */
export function hboneDownstreamMtls(tls: MeshTls): TransportSocket {
  return { name: TLS, typedConfig: typed(TYPE.downstreamTls, { commonTlsContext: { ...istioMutual(tls), alpnProtocols: ['h2'] }, requireClientCertificate: true }) };
}

/** HBONE's mutual TLS, client side: any workload of the mesh's roots (the tunnel's authority says where it goes). */
export function hboneUpstreamMtls(tls: MeshTls): TransportSocket {
  return { name: TLS, typedConfig: typed(TYPE.upstreamTls, { commonTlsContext: { ...istioMutual(tls), alpnProtocols: ['h2'] } }) };
}

/**
 * Should a client use Istio mutual TLS to these endpoints? DestinationRule `tls.mode` decides when set (ISTIO_MUTUAL
 * yes; DISABLE, SIMPLE and MUTUAL no: the last two are `upstreamUserTls`); otherwise auto mTLS when the mesh config
 * enables it: yes when every endpoint has a sidecar that accepts it (its PeerAuthentication is not DISABLE).
 */
export function clientUsesMtls(tlsMode: string | undefined, endpoints: readonly Endpoint[], push: PushContext): boolean {
  if (tlsMode === 'ISTIO_MUTUAL') return true;
  if (tlsMode || !push.mesh.enableAutoMtls) return false;
  return endpoints.length > 0 && endpoints.every((e) => e.workload?.meshed && push.policies.peerAuthenticationMode(e.workload, e.port) !== 'DISABLE');
}

// ---------------------------------------------------------------- user certificates (SIMPLE / MUTUAL)

const file = (filename: string) => ({ filename });

/**
 * The client side of a DestinationRule's SIMPLE or MUTUAL mode (TLS origination to a server with its own PKI):
 * SNI (`sni`, else the service host), the server's roots from `caCertificates` or the `credentialName` Secret
 * (`kubernetes://<name>-cacert` over SDS), `subjectAltNames`, `insecureSkipVerify`; for MUTUAL the client certificate
 * from `clientCertificate`/`privateKey` files or the Secret (`kubernetes://<name>`). Without any CA the proxy verifies
 * against the system roots (Envoy would not verify at all; Istio later made verification the default too).
 */
export function upstreamUserTls(t: ClientTLSSettings, host: string): BuiltTls | undefined {
  if (t.mode !== 'SIMPLE' && t.mode !== 'MUTUAL') return undefined;
  const ctx: CommonTlsContext = {};
  const secrets: string[] = [];
  const cred = t.credentialName;
  if (t.mode === 'MUTUAL') {
    if (cred) {
      ctx.tlsCertificateSdsSecretConfigs = [sdsRef(sdsCertName(cred))];
      secrets.push(sdsCertName(cred));
    } else if (t.clientCertificate && t.privateKey) ctx.tlsCertificates = [{ certificateChain: file(t.clientCertificate), privateKey: file(t.privateKey) }];
  }
  const sans: StringMatcher[] = (t.subjectAltNames ?? []).map((exact) => ({ exact }));
  if (t.insecureSkipVerify) {
    ctx.validationContext = { trustChainVerification: 'ACCEPT_UNTRUSTED' };
  } else if (cred) {
    ctx.combinedValidationContext = { defaultValidationContext: sans.length ? { matchSubjectAltNames: sans } : {}, validationContextSdsSecretConfig: sdsRef(sdsCaName(cred)) };
    secrets.push(sdsCaName(cred));
  } else if (t.caCertificates || sans.length) {
    ctx.validationContext = { ...(t.caCertificates ? { trustedCa: file(t.caCertificates) } : {}), ...(sans.length ? { matchSubjectAltNames: sans } : {}) };
  }
  return { socket: { name: TLS, typedConfig: typed(TYPE.upstreamTls, { sni: t.sni || host, commonTlsContext: ctx }) }, secrets };
}

/**
 * The server side of a Gateway server's TLS: SIMPLE (server certificate only), MUTUAL (clients must show a certificate
 * the CA vouches for), ISTIO_MUTUAL (the gateway's workload identity and the mesh roots). Certificates come from
 * `credentialName` over SDS or from `serverCertificate`/`privateKey`/`caCertificates` files; TLS versions and cipher
 * suites from the server. PASSTHROUGH and AUTO_PASSTHROUGH do not terminate (undefined).
 */
export function gatewayDownstreamTls(t: ServerTLSSettings): BuiltTls | undefined {
  const mode = t.mode ?? 'SIMPLE';
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL' && mode !== 'ISTIO_MUTUAL' && mode !== 'OPTIONAL_MUTUAL') return undefined;
  const ctx: CommonTlsContext = {};
  const secrets: string[] = [];
  const cred = t.credentialName;
  const sans: StringMatcher[] = (t.subjectAltNames ?? []).map((exact) => ({ exact }));
  if (mode === 'ISTIO_MUTUAL') {
    ctx.tlsCertificateSdsSecretConfigs = [sdsRef(WORKLOAD_CERT)];
    ctx.combinedValidationContext = { defaultValidationContext: sans.length ? { matchSubjectAltNames: sans } : {}, validationContextSdsSecretConfig: sdsRef(ROOT_CA) };
  } else {
    if (cred) {
      ctx.tlsCertificateSdsSecretConfigs = [sdsRef(sdsCertName(cred))];
      secrets.push(sdsCertName(cred));
    } else if (t.serverCertificate && t.privateKey) ctx.tlsCertificates = [{ certificateChain: file(t.serverCertificate), privateKey: file(t.privateKey) }];
    if (mode !== 'SIMPLE') {
      if (cred) {
        ctx.combinedValidationContext = { defaultValidationContext: sans.length ? { matchSubjectAltNames: sans } : {}, validationContextSdsSecretConfig: sdsRef(sdsCaName(cred)) };
        secrets.push(sdsCaName(cred));
      } else ctx.validationContext = { ...(t.caCertificates ? { trustedCa: file(t.caCertificates) } : {}), ...(sans.length ? { matchSubjectAltNames: sans } : {}) };
    }
  }
  // Gateways accept TLS 1.2 and up unless the server says otherwise (Istio's default for gateways).
  ctx.tlsParams = {
    tlsMinimumProtocolVersion: envoyVersion(t.minProtocolVersion) ?? 'TLSv1_2',
    tlsMaximumProtocolVersion: envoyVersion(t.maxProtocolVersion) ?? 'TLSv1_3',
    ...(t.cipherSuites?.length ? { cipherSuites: t.cipherSuites } : {}),
  };
  ctx.alpnProtocols = ['h2', 'http/1.1'];
  return { socket: { name: TLS, typedConfig: typed(TYPE.downstreamTls, { commonTlsContext: ctx, requireClientCertificate: mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL' }) }, secrets };
}

/**
 * The server side of a Gateway API listener that terminates TLS: its certificates (SDS names of the Secrets its
 * `certificateRefs` name, chosen by the client's SNI when several), TLS 1.2 and up, and the ALPN it offers (HTTPS
 * listeners offer h2 and http/1.1; TLS listeners carry an opaque stream).
 */
export function gatewayApiDownstreamTls(certificates: readonly string[], alpn: readonly string[]): TransportSocket {
  const ctx: CommonTlsContext = {
    tlsCertificateSdsSecretConfigs: certificates.map(sdsRef),
    tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
    ...(alpn.length ? { alpnProtocols: [...alpn] } : {}),
  };
  return { name: TLS, typedConfig: typed(TYPE.downstreamTls, { commonTlsContext: ctx }) };
}
