// Test helper: a throwaway PKI (root CA, server and client certificates with DNS SANs) for tests that need real TLS
// peers with certificates outside the mesh CA — external HTTPS services, gateway certificates, client certificates.

import { randomBytes } from 'node:crypto';
import { ECDSA_P256, exportKeyPem, subtle, x509, type CryptoKey } from '../../ca/x509.js';

export interface Issued {
  cert: string;
  key: string;
}

export class TestPki {
  private constructor(
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: CryptoKey,
  ) {}

  static async create(name = 'Test Root CA'): Promise<TestPki> {
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(8).toString('hex'),
      name: `CN=${name}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 864e5),
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true)],
    });
    return new TestPki(cert, keys.privateKey);
  }

  get ca(): string {
    return this.caCert.toString('pem') + '\n';
  }

  /** A leaf for `names` (DNS SANs, or IP SANs for addresses); the first name is also the CN. */
  async issue(names: string[], usage: 'server' | 'client' | 'both' = 'server'): Promise<Issued> {
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const eku = usage === 'server' ? [x509.ExtendedKeyUsage.serverAuth] : usage === 'client' ? [x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(8).toString('hex'),
      subject: `CN=${names[0]}`,
      issuer: this.caCert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 864e5),
      signingKey: this.caKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.SubjectAlternativeNameExtension(names.map((n) => (/^[\d.]+$/.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
        new x509.ExtendedKeyUsageExtension(eku),
        new x509.BasicConstraintsExtension(false, undefined, true),
      ],
    });
    return { cert: leaf.toString('pem') + '\n', key: await exportKeyPem(keys.privateKey) };
  }
}
