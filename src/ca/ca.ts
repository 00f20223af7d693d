// The mesh CA (istiod's role): a self-signed root created on first start and kept in the state directory (Istio's
// istio-ca-secret), or a plugged-in intermediate from `cacerts` files; signs workload CSRs for SPIFFE identities.

import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realClock, type Clock } from '../clock.js';
import { ECDSA_P256, exportKeyPem, importKeyPem, signingAlgorithm, subtle, x509, type CryptoKey } from './x509.js';
import { spiffeId, type Identity } from './identity.js';

export { spiffeId, type Identity } from './identity.js';
export { createCsr } from './csr.js';

/**
 * Signs a CSR for an authenticated identity: the built-in CA below, or an external signer (`CfsslSigner`; a
 * Kubernetes CSR, cert-manager CertificateRequest or ACME signer would implement the same two methods). The CA API
 * serves whichever it is given.
 */
export interface Signer {
  /** PEM certificates, leaf first, root last (Istio's cert_chain order). */
  sign(csrPem: string, identity: Identity, ttlMs: number): Promise<string[]>;
  /** The roots workloads trust. */
  trustBundle(): string;
}

export interface CaStatus {
  rootSubject: string;
  rootFingerprint: string;
  rootNotAfter: string;
  trustDomain: string;
  /** `external`: workloads are signed by an external CA (cfssl, directly or through an intermediate it issued). */
  source: 'self-signed' | 'plugged-in' | 'external';
}

export class CertificateAuthority implements Signer {
  private constructor(
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
    /** The signing cert, the intermediates above it, then the root (a self-signed CA: just the root). */
    private readonly chain: string[],
    private readonly root: string,
    readonly trustDomain: string,
    readonly source: CaStatus['source'],
    readonly maxTtlMs: number,
    /** Shorter requests are raised to this (60 s by default; tests of rotation lower it). */
    readonly minTtlMs = 60_000,
    /** Dates the certificates it issues; tests of rotation share one manual clock between the CA and its agents. */
    private readonly clock: Clock = realClock,
  ) {}

  /**
   * A CA around a signing certificate obtained elsewhere (an intermediate an external PKI issued to the mesh):
   * `chain` runs from `cert` up to and including `root`.
   */
  static async fromIssued(o: { cert: string; key: string; chain: string[]; root: string; trustDomain?: string; source?: CaStatus['source']; maxTtlMs?: number; minTtlMs?: number; clock?: Clock }): Promise<CertificateAuthority> {
    const cert = new x509.X509Certificate(o.cert);
    const chain = normalizeChain(o.cert, o.chain, o.root);
    await verifyChain(chain, 'the CA certificate');
    return new CertificateAuthority(cert, await importKeyPem(o.key), chain, o.root.trim() + '\n', o.trustDomain ?? 'cluster.local', o.source ?? 'external', o.maxTtlMs ?? 90 * 864e5, o.minTtlMs, o.clock);
  }

  /**
   * Load `cacerts` (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) from `pluggedIn` when given, else the
   * self-signed root in `stateDir` (created on first start, key mode 0600).
   */
  static async open(o: { stateDir: string; trustDomain?: string; pluggedIn?: string; maxTtlMs?: number; minTtlMs?: number; clock?: Clock }): Promise<CertificateAuthority> {
    const td = o.trustDomain ?? 'cluster.local';
    const maxTtl = o.maxTtlMs ?? 90 * 864e5;
    if (o.pluggedIn) {
      const read = (f: string) => readFileSync(join(o.pluggedIn!, f), 'utf8');
      const certPem = read('ca-cert.pem');
      const cert = new x509.X509Certificate(certPem);
      const key = await importKeyPem(read('ca-key.pem'));
      const root = read('root-cert.pem');
      // Istio's cert-chain.pem runs from ca-cert.pem to the root. Workloads get all of it, ca-cert.pem included, so
      // that a peer holding only root-cert.pem can build the path through the intermediates.
      const chain = normalizeChain(certPem, existsSync(join(o.pluggedIn, 'cert-chain.pem')) ? splitPem(read('cert-chain.pem')) : [], root);
      await verifyChain(chain, `${o.pluggedIn}: ca-cert.pem`);
      return new CertificateAuthority(cert, key, chain, root.trim() + '\n', td, 'plugged-in', maxTtl, o.minTtlMs, o.clock);
    }
    mkdirSync(o.stateDir, { recursive: true });
    const certFile = join(o.stateDir, 'ca-cert.pem');
    const keyFile = join(o.stateDir, 'ca-key.pem');
    if (existsSync(certFile) && existsSync(keyFile)) {
      const cert = new x509.X509Certificate(readFileSync(certFile, 'utf8'));
      return new CertificateAuthority(cert, await importKeyPem(readFileSync(keyFile, 'utf8')), [cert.toString('pem')], cert.toString('pem'), td, 'self-signed', maxTtl, o.minTtlMs, o.clock);
    }
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const now = (o.clock ?? realClock).now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(16).toString('hex'),
      name: `O=${td}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 10 * 365 * 864e5),
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    writeFileSync(keyFile, await exportKeyPem(keys.privateKey), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    writeFileSync(certFile, cert.toString('pem'));
    return new CertificateAuthority(cert, keys.privateKey, [cert.toString('pem')], cert.toString('pem'), td, 'self-signed', maxTtl, o.minTtlMs, o.clock);
  }

  /** Sign: the SPIFFE URI comes from the authenticated identity, never from the CSR's own SANs. */
  async sign(csrPem: string, identity: Identity, ttlMs: number): Promise<string[]> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
    // Never past the signing certificate's own end: a peer would reject the chain from then on.
    const now = this.clock.now();
    const ttl = Math.min(Math.max(ttlMs, this.minTtlMs), this.maxTtlMs, this.cert.notAfter.getTime() - now);
    if (ttl <= 0) throw new Error(`the signing certificate ${this.cert.subject} expired at ${this.cert.notAfter.toISOString()}`);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString('hex'),
      subject: '',
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + ttl),
      signingKey: this.key,
      publicKey: csr.publicKey,
      signingAlgorithm: signingAlgorithm(this.key),
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId(identity) }], true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
      ],
    });
    return [leaf.toString('pem'), ...this.chain].map((c) => c.trim() + '\n').filter((c, i, a) => a.indexOf(c) === i);
  }

  /** A TLS certificate for a server (the CA API itself), with DNS and IP SANs; a year, or until the CA's end. */
  async serverCertificate(names: string[]): Promise<{ cert: string; key: string }> {
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const now = this.clock.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString('hex'),
      subject: `CN=${names[0]}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(Math.min(now + 365 * 864e5, this.cert.notAfter.getTime())),
      signingKey: this.key,
      publicKey: keys.publicKey,
      signingAlgorithm: signingAlgorithm(this.key),
      extensions: [
        new x509.SubjectAlternativeNameExtension(names.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    });
    return { cert: [leaf.toString('pem'), ...(this.source === 'self-signed' ? [] : this.chain.slice(0, -1))].map((c) => c.trim() + '\n').join(''), key: await exportKeyPem(keys.privateKey) };
  }

  trustBundle(): string {
    return this.root;
  }

  /** The end of the signing certificate (no certificate it signs outlives it). */
  get notAfter(): Date {
    return this.cert.notAfter;
  }

  status(): CaStatus {
    const root = new x509.X509Certificate(this.root);
    const fingerprint = createHash('sha256').update(Buffer.from(root.rawData)).digest('hex').replace(/(..)(?!$)/g, '$1:');
    return { rootSubject: root.subject, rootFingerprint: fingerprint, rootNotAfter: root.notAfter.toISOString(), trustDomain: this.trustDomain, source: this.source };
  }
}

export function splitPem(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((s) => s.trim());
}

const der = (pemText: string) => Buffer.from(new x509.X509Certificate(pemText).rawData).toString('base64');

/**
 * The path from `cert` to `root`, each entry once: `cert` first whether or not `given` starts with it (files differ
 * in line wrapping, so certificates are compared by DER), `root` last whether or not `given` ends with it.
 */
function normalizeChain(cert: string, given: string[], root: string): string[] {
  const out = [cert, ...given, root].map((c) => new x509.X509Certificate(c).toString('pem'));
  return out.filter((c, i) => out.findIndex((d) => der(d) === der(c)) === i);
}

/** Each certificate of `chain` is signed by the next, and the last is self-signed. */
async function verifyChain(chain: string[], what: string): Promise<void> {
  const certs = chain.map((c) => new x509.X509Certificate(c));
  for (let i = 0; i < certs.length; i++) {
    const issuer = certs[i + 1] ?? certs[i]!;
    if (!(await certs[i]!.verify({ publicKey: issuer.publicKey, signatureOnly: true }))) {
      throw new Error(`${what}: ${certs[i]!.subject} is not signed by ${issuer.subject}${i + 1 === certs.length ? ' (the root is not self-signed)' : ''}`);
    }
  }
}

