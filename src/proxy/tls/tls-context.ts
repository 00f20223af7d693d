// TLS for the proxy: Envoy's Downstream/UpstreamTlsContext read once per snapshot, certificates and trust bundles from
// the secret store by SDS name (Istio's `default` and `ROOTCA`) or inline, and secure contexts rebuilt on rotation.

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { ConfigCode, type IssueSink } from '../errors.js';
import type { DataSource, Secret } from '../../xds/envoy/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface TlsSecret {
  /** PEM chain (leaf first) and key, for a certificate secret. */
  certChain?: string;
  privateKey?: string;
  /** PEM roots, for a validation context secret. */
  trustedCa?: string;
}

/** Secrets by SDS name; the proxy's agent updates `default` on rotation and `ROOTCA` when the bundle changes. */
export class SecretStore extends EventEmitter<{ change: [string] }> {
  private readonly secrets = new Map<string, TlsSecret>();
  private readonly contexts = new Map<string, tls.SecureContext>();

  set(name: string, secret: TlsSecret): void {
    this.secrets.set(name, secret);
    this.contexts.clear(); // new connections take the new certificate; open ones keep theirs
    this.emit('change', name);
  }

  get(name: string): TlsSecret | undefined {
    return this.secrets.get(name);
  }

  /**
   * Secrets from SDS (the control plane's `kubernetes://<name>` resources, Envoy's Secret messages). Only changed
   * ones are set, so an unrelated config push does not throw away the cached secure contexts.
   */
  applySds(secrets: readonly Secret[]): void {
    for (const s of secrets) {
      const name = typeof s.name === 'string' ? s.name : undefined;
      const secret = name ? secretFromSds(s) : undefined;
      if (!name || !secret) continue;
      const old = this.secrets.get(name);
      if (old && old.certChain === secret.certChain && old.privateKey === secret.privateKey && old.trustedCa === secret.trustedCa) continue;
      this.set(name, secret);
    }
  }

  /** A secure context for a certificate + trust bundle pair, cached until a secret changes. */
  context(c: { certSecret?: string; caSecret?: string; inline?: TlsSecret; minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion; ciphers?: string }): tls.SecureContext {
    // Inline material is keyed by object identity (compiled once per snapshot): two different certificates of the same
    // size must not share a context.
    const key = `${c.certSecret ?? ''}|${c.caSecret ?? ''}|${c.minVersion ?? ''}|${c.maxVersion ?? ''}|${c.ciphers ?? ''}|${c.inline ? inlineId(c.inline) : ''}`;
    let ctx = this.contexts.get(key);
    if (ctx) return ctx;
    const cert = c.inline?.certChain ? c.inline : c.certSecret ? this.secrets.get(c.certSecret) : undefined;
    const ca = c.inline?.trustedCa ?? (c.caSecret ? this.secrets.get(c.caSecret)?.trustedCa : undefined);
    if (c.certSecret && !cert?.certChain) throw new Error(`secret "${c.certSecret}" is not available yet`);
    if (c.caSecret && !ca) throw new Error(`secret "${c.caSecret}" is not available yet`);
    ctx = tls.createSecureContext({ cert: cert?.certChain, key: cert?.privateKey, ca, minVersion: c.minVersion ?? 'TLSv1.2', maxVersion: c.maxVersion, ...(c.ciphers ? { ciphers: c.ciphers } : {}) });
    this.contexts.set(key, ctx);
    return ctx;
  }
}

const inlineIds = new WeakMap<TlsSecret, number>();
let nextInlineId = 0;
function inlineId(s: TlsSecret): number {
  let id = inlineIds.get(s);
  if (id === undefined) inlineIds.set(s, (id = ++nextInlineId));
  return id;
}

/** Envoy's Secret message (proto3 JSON) → the store's form: a certificate + key, or a trust bundle, or both. */
export function secretFromSds(s: Secret): TlsSecret | undefined {
  const cert = s.tlsCertificate;
  const vc = s.validationContext;
  const out: TlsSecret = {};
  if (cert) {
    out.certChain = dataSource(cert.certificateChain);
    out.privateKey = dataSource(cert.privateKey);
  }
  if (vc) out.trustedCa = dataSource(vc.trustedCa);
  return out.certChain || out.trustedCa ? out : undefined;
}

export interface DownstreamTls {
  certSecret?: string;
  caSecret?: string;
  inline?: TlsSecret;
  requireClientCert: boolean;
  alpn: string[];
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** OpenSSL cipher list from `tlsParams.cipherSuites` (Istio's `cipherSuites`). */
  ciphers?: string;
}

export interface UpstreamTls {
  certSecret?: string;
  caSecret?: string;
  inline?: TlsSecret;
  sni?: string;
  /** Accepted peer identities (URI or DNS SANs); empty accepts any certificate the roots vouch for. */
  sans: string[];
  /**
   * Envoy's `trustChainVerification: ACCEPT_UNTRUSTED` (Istio's `insecureSkipVerify`): the server's certificate is
   * not verified at all. Without it and without any CA, Node's default roots verify the server.
   */
  skipVerify?: boolean;
  alpn: string[];
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
}

const VERSIONS: Record<string, tls.SecureVersion> = { TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

function dataSource(d: DataSource | undefined): string | undefined {
  if (!d) return undefined;
  if (d.inlineString !== undefined) return d.inlineString;
  if (d.inlineBytes !== undefined) return Buffer.from(d.inlineBytes, 'base64').toString('utf8');
  if (d.filename) return readFileSync(d.filename, 'utf8');
  return undefined;
}

function common(ctx: Json | undefined, sink: IssueSink, field: string) {
  const c = (ctx ?? {}) as Json;
  const certSecret = c.tlsCertificateSdsSecretConfigs?.[0]?.name as string | undefined;
  const validation = c.combinedValidationContext?.validationContextSdsSecretConfig ?? c.validationContextSdsSecretConfig;
  const caSecret = validation?.name as string | undefined;
  const defaults = (c.combinedValidationContext?.defaultValidationContext ?? c.validationContext ?? {}) as Json;
  const sans = ((defaults.matchSubjectAltNames ?? []) as Json[]).map((m) => m.exact).filter((x): x is string => typeof x === 'string');
  let inline: TlsSecret | undefined;
  try {
    const ic = c.tlsCertificates?.[0];
    const ca = dataSource(defaults.trustedCa);
    if (ic || ca) inline = { certChain: dataSource(ic?.certificateChain), privateKey: dataSource(ic?.privateKey), trustedCa: ca };
  } catch (err) {
    sink.error(ConfigCode.InvalidField, field, `cannot read a TLS file: ${(err as Error).message}`);
  }
  const p = (c.tlsParams ?? {}) as Json;
  // Envoy lists ciphers as OpenSSL names, with BoringSSL's `[a|b]` equal-preference groups that OpenSSL lacks.
  const ciphers = Array.isArray(p.cipherSuites) && p.cipherSuites.length ? (p.cipherSuites as string[]).flatMap((x) => x.replace(/[[\]]/g, '').split('|')).join(':') : undefined;
  return {
    certSecret,
    caSecret,
    sans,
    inline,
    alpn: (c.alpnProtocols ?? []) as string[],
    minVersion: VERSIONS[p.tlsMinimumProtocolVersion],
    maxVersion: VERSIONS[p.tlsMaximumProtocolVersion],
    ...(ciphers ? { ciphers } : {}),
    ...(defaults.trustChainVerification === 'ACCEPT_UNTRUSTED' ? { skipVerify: true } : {}),
  };
}

const isTls = (ts: Json | undefined) => !!ts && !String(ts.name ?? '').includes('raw_buffer') && String(ts.typedConfig?.['@type'] ?? 'tls').toLowerCase().includes('tls');

export function compileDownstreamTls(ts: Json | undefined, sink: IssueSink, field: string): DownstreamTls | undefined {
  if (!isTls(ts)) return undefined;
  const tc = ts!.typedConfig ?? {};
  const c = common(tc.commonTlsContext, sink, field + '/typedConfig/commonTlsContext');
  if (!c.certSecret && !c.inline?.certChain) sink.error(ConfigCode.InvalidField, field, 'a downstream TLS context needs a certificate (SDS secret or inline)');
  return { ...c, requireClientCert: tc.requireClientCertificate === true };
}

export function compileUpstreamTls(ts: Json | undefined, sink: IssueSink, field: string): UpstreamTls | undefined {
  if (!isTls(ts)) return undefined;
  const tc = ts!.typedConfig ?? {};
  return { ...common(tc.commonTlsContext, sink, field + '/typedConfig/commonTlsContext'), sni: tc.sni };
}

/** The peer's SPIFFE identity (first URI SAN) of a TLS socket, if it showed a certificate. */
export function peerPrincipal(s: tls.TLSSocket): string | undefined {
  const san = s.getPeerCertificate()?.subjectaltname;
  const m = san && /URI:([^,\s]+)/.exec(san);
  return m?.[1];
}

/** Options for `tls.connect` to an upstream with this context: client certificate, roots, SNI and SAN check. */
export function upstreamConnectOptions(store: SecretStore, u: UpstreamTls): tls.ConnectionOptions {
  const servername = u.sni && !/^[\d.]+$/.test(u.sni) ? u.sni : undefined;
  let secureContext: tls.SecureContext;
  try {
    secureContext = store.context(u);
  } catch (err) {
    // A certificate or trust bundle that has not arrived (or does not exist): this connection fails during its
    // handshake, like any other TLS failure (503, UF) — never a crash of the pool, never plaintext, never weaker roots.
    return { servername, rejectUnauthorized: true, checkServerIdentity: () => err as Error };
  }
  return {
    secureContext,
    servername,
    ALPNProtocols: u.alpn.length ? u.alpn : undefined,
    rejectUnauthorized: !u.skipVerify,
    checkServerIdentity: (_host, cert) => {
      if (!u.sans.length || u.skipVerify) return undefined;
      const names = (cert.subjectaltname ?? '').split(/,\s*/).map((s) => s.replace(/^(URI|DNS|IP Address):/, ''));
      return u.sans.some((s) => names.includes(s)) ? undefined : new Error(`peer certificate ${cert.subjectaltname ?? '(no SAN)'} is not one of ${u.sans.join(', ')}`);
    },
  };
}

export type { net };
