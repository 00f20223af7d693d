// Envoy's TLS types (envoy.extensions.transport_sockets.tls.v3) in proto3 JSON: the Secret resource served over SDS
// and the Downstream/Upstream TLS contexts that name secrets by SDS name.

import type { Any, ConfigSource, DataSource, StringMatcher } from './core.js';

export type TlsProtocolVersion = 'TLS_AUTO' | 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';

export interface TlsParameters {
  tlsMinimumProtocolVersion?: TlsProtocolVersion;
  tlsMaximumProtocolVersion?: TlsProtocolVersion;
  cipherSuites?: string[];
  ecdhCurves?: string[];
}

export interface TlsCertificate {
  certificateChain?: DataSource;
  privateKey?: DataSource;
}

export interface CertificateValidationContext {
  trustedCa?: DataSource;
  matchSubjectAltNames?: StringMatcher[];
  trustChainVerification?: 'VERIFY_TRUST_CHAIN' | 'ACCEPT_UNTRUSTED';
}

/** A secret named by SDS: Istio's `default` (workload certificate), `ROOTCA`, or `kubernetes://<secret>`. */
export interface SdsSecretConfig {
  name?: string;
  sdsConfig?: ConfigSource;
}

export interface CommonTlsContext {
  tlsParams?: TlsParameters;
  tlsCertificates?: TlsCertificate[];
  tlsCertificateSdsSecretConfigs?: SdsSecretConfig[];
  validationContext?: CertificateValidationContext;
  validationContextSdsSecretConfig?: SdsSecretConfig;
  combinedValidationContext?: { defaultValidationContext?: CertificateValidationContext; validationContextSdsSecretConfig?: SdsSecretConfig };
  alpnProtocols?: string[];
}

export interface DownstreamTlsContext {
  commonTlsContext?: CommonTlsContext;
  requireClientCertificate?: boolean;
}

export interface UpstreamTlsContext {
  commonTlsContext?: CommonTlsContext;
  sni?: string;
}

/** A transport socket (`envoy.transport_sockets.tls` with one of the contexts above as its typed config). */
export interface TransportSocket {
  name?: string;
  typedConfig?: Any;
}

/** The SDS resource (envoy.extensions.transport_sockets.tls.v3.Secret). */
export interface Secret {
  name?: string;
  tlsCertificate?: TlsCertificate;
  validationContext?: CertificateValidationContext;
}
