// The mesh CA (istiod's role): a self-signed root created on first start and kept in the state directory (Istio's
// istio-ca-secret), or a plugged-in intermediate from `cacerts` files; signs workload CSRs for SPIFFE identities.

import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ECDSA_P256, exportKeyPem, importKeyPem, subtle, x509, type CryptoKey } from './x509.js';

export interface Identity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export const spiffeId = (i: Identity) => `spiffe://${i.trustDomain}/ns/${i.namespace}/sa/${i.serviceAccount}`;

/** Signs a CSR for an authenticated identity; the seam for external signers (cfssl, cert-manager, ACME). */
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
  source: 'self-signed' | 'plugged-in';
}

export class CertificateAuthority implements Signer {
  private constructor(
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
    /** Intermediates between the signing cert and the root, then the root (plugged-in CAs). */
    private readonly chain: string[],
    private readonly root: string,
    readonly trustDomain: string,
    readonly source: CaStatus['source'],
    readonly maxTtlMs: number,
  ) {}

  /**
   * Load `cacerts` (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) from `pluggedIn` when given, else the
   * self-signed root in `stateDir` (created on first start, key mode 0600).
   */
  static async open(o: { stateDir: string; trustDomain?: string; pluggedIn?: string; maxTtlMs?: number }): Promise<CertificateAuthority> {
    const td = o.trustDomain ?? 'cluster.local';
    const maxTtl = o.maxTtlMs ?? 90 * 864e5;
    if (o.pluggedIn) {
      const read = (f: string) => readFileSync(join(o.pluggedIn!, f), 'utf8');
      const cert = new x509.X509Certificate(read('ca-cert.pem'));
      const key = await importKeyPem(read('ca-key.pem'));
      const root = read('root-cert.pem');
      const chain = existsSync(join(o.pluggedIn, 'cert-chain.pem')) ? splitPem(read('cert-chain.pem')).filter((c) => c !== cert.toString('pem').trim()) : [root];
      const ca = new CertificateAuthority(cert, key, chain, root, td, 'plugged-in', maxTtl);
      if (!(await cert.verify({ publicKey: new x509.X509Certificate(root).publicKey, signatureOnly: true })) && chain.length < 2) throw new Error(`${o.pluggedIn}: ca-cert.pem is not signed by root-cert.pem`);
      return ca;
    }
    mkdirSync(o.stateDir, { recursive: true });
    const certFile = join(o.stateDir, 'ca-cert.pem');
    const keyFile = join(o.stateDir, 'ca-key.pem');
    if (existsSync(certFile) && existsSync(keyFile)) {
      const cert = new x509.X509Certificate(readFileSync(certFile, 'utf8'));
      return new CertificateAuthority(cert, await importKeyPem(readFileSync(keyFile, 'utf8')), [cert.toString('pem')], cert.toString('pem'), td, 'self-signed', maxTtl);
    }
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(16).toString('hex'),
      name: `O=${td}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 10 * 365 * 864e5),
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
    return new CertificateAuthority(cert, keys.privateKey, [cert.toString('pem')], cert.toString('pem'), td, 'self-signed', maxTtl);
  }

  /** Sign: the SPIFFE URI comes from the authenticated identity, never from the CSR's own SANs. */
  async sign(csrPem: string, identity: Identity, ttlMs: number): Promise<string[]> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
    const ttl = Math.min(Math.max(ttlMs, 60_000), this.maxTtlMs);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString('hex'),
      subject: '',
      issuer: this.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + ttl),
      signingKey: this.key,
      publicKey: csr.publicKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId(identity) }], true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
      ],
    });
    const chain = this.source === 'self-signed' ? [this.root] : this.chain;
    return [leaf.toString('pem'), ...chain.filter((c, i) => i < chain.length - 1 || c.trim() !== this.root.trim()), this.root].map((c) => c.trim() + '\n').filter((c, i, a) => a.indexOf(c) === i);
  }

  /** A TLS certificate for a server (the CA API itself), with DNS and IP SANs. */
  async serverCertificate(names: string[]): Promise<{ cert: string; key: string }> {
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString('hex'),
      subject: `CN=${names[0]}`,
      issuer: this.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 365 * 864e5),
      signingKey: this.key,
      publicKey: keys.publicKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.SubjectAlternativeNameExtension(names.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ],
    });
    return { cert: [leaf.toString('pem'), ...(this.source === 'self-signed' ? [] : this.chain.slice(0, -1))].join('\n'), key: await exportKeyPem(keys.privateKey) };
  }

  trustBundle(): string {
    return this.root;
  }

  status(): CaStatus {
    const root = new x509.X509Certificate(this.root);
    const fingerprint = createHash('sha256').update(Buffer.from(root.rawData)).digest('hex').replace(/(..)(?!$)/g, '$1:');
    return { rootSubject: root.subject, rootFingerprint: fingerprint, rootNotAfter: root.notAfter.toISOString(), trustDomain: this.trustDomain, source: this.source };
  }
}

function splitPem(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((s) => s.trim());
}

/** A workload's key and CSR (what the proxy's agent sends to the CA). */
export async function createCsr(identity: Identity): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `O=${identity.trustDomain}`,
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId(identity) }])],
  });
  return { keyPem: await exportKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}
