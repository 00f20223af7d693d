// An external signer: a private PKI run with cfssl (`cfssl serve` or `multirootca`), used through its remote signing
// API the way cert-manager's istio-csr puts a corporate CA behind Istio's CA API. Two ways to use it:
//
// - `direct`: every workload CSR goes to cfssl (`/api/v1/cfssl/sign`, or `/authsign` with an HMAC key) with the
//   caller's SPIFFE ID as the only `hosts` entry. cfssl releases that know URI SANs issue it as one. Older ones
//   (Debian's 1.2.0+git20160825 is one) drop URIs from CSRs, turn a URI in `hosts` into a DNS name and ignore the
//   `extensions` field of API requests, so they cannot issue SPIFFE certificates at all: the check below refuses
//   their certificates, and `intermediate` is the way to use such a PKI.
// - `intermediate`: cfssl signs one CA certificate for the mesh (a profile with `ca_constraint.is_ca`), renewed at
//   half its lifetime; the mesh signs workload certificates with it, so every chain ends at the PKI's root. This is
//   Istio's plugged-in CA with the intermediate fetched from the PKI instead of copied into `cacerts` by hand.
//
// Either way, nothing reaches a workload before it is checked: the certificate is for the CSR's key, names exactly
// the authenticated SPIFFE identity and nothing else, is not a CA, is current, and chains to the trust bundle.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { CertificateAuthority, spiffeId, splitPem, type CaStatus, type Identity, type Signer } from './ca.js';
import { ECDSA_P256, exportKeyPem, subtle, x509 } from './x509.js';

export interface CfsslSignerOptions {
  /** Base URL of the cfssl API server, e.g. `http://127.0.0.1:8888`. */
  url: string;
  /** cfssl's "standard" auth key (hex, as in its `auth_keys`): requests go to `/authsign` with an HMAC token. */
  authKey?: string;
  /** The signing profile (a profile with `auth_key` needs `authKey`; `intermediate` needs `ca_constraint.is_ca`). */
  profile?: string;
  /** The signer to use behind `multirootca`. */
  label?: string;
  mode?: 'direct' | 'intermediate';
  /**
   * The roots workloads trust (PEM, one or more). Default: cfssl's own CA certificate (from `/api/v1/cfssl/info`),
   * which must then be self-signed; when cfssl signs with an intermediate, give its root here.
   */
  rootPem?: string;
  /** Roots for an `https://` URL (default: Node's). */
  tlsCaPem?: string;
  trustDomain?: string;
  /** Intermediate mode: bounds of workload certificate lifetimes (direct mode: cfssl's profile decides). */
  minTtlMs?: number;
  maxTtlMs?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** cfssl could not be reached, refused, or answered with a certificate that fails the checks. */
export class ExternalCaError extends Error {
  constructor(message: string, readonly reason: 'unreachable' | 'refused' | 'invalid-certificate') {
    super(message);
  }
}

interface CfsslReply {
  success?: boolean;
  result?: { certificate?: string } | null;
  errors?: Array<{ code?: number; message?: string }>;
}

const der = (c: x509.X509Certificate) => Buffer.from(c.rawData);
const pemOf = (c: x509.X509Certificate) => c.toString('pem').trim() + '\n';

/**
 * `Signer` is the whole contract between the CA API and whoever signs, so other external signers slot in the same
 * way: a Kubernetes CertificateSigningRequest signer or a cert-manager CertificateRequest signer (create the
 * object with the CSR, wait for its status certificate, run the same checks) or an ACME signer. This one is cfssl.
 */
export class CfsslSigner implements Signer {
  private intermediate: CertificateAuthority | undefined;
  private intermediateRenewAt = 0;
  private renewing: Promise<void> | undefined;

  private constructor(
    private readonly o: CfsslSignerOptions & { mode: 'direct' | 'intermediate'; trustDomain: string },
    /** cfssl's signing certificate when it is not itself a root (empty when it is). */
    private readonly caChain: x509.X509Certificate[],
    private readonly roots: x509.X509Certificate[],
    /** The root the chains end at. */
    private readonly anchor: x509.X509Certificate,
  ) {}

  /** Reads cfssl's CA certificate (and, in intermediate mode, obtains the mesh's intermediate) before first use. */
  static async open(options: CfsslSignerOptions): Promise<CfsslSigner> {
    const o = { ...options, url: options.url.replace(/\/+$/, ''), mode: options.mode ?? 'direct', trustDomain: options.trustDomain ?? 'cluster.local' } as const;
    if (o.authKey !== undefined && !/^([0-9a-f]{2})+$/i.test(o.authKey.trim())) throw new Error('the cfssl auth key must be hex (as in cfssl\'s auth_keys)');
    const info = await post(o, '/api/v1/cfssl/info', Buffer.from(JSON.stringify({ profile: o.profile ?? '', label: o.label ?? '' })));
    if (!info.certificate) throw new ExternalCaError(`${o.url}: /api/v1/cfssl/info returned no certificate`, 'refused');
    const signing = new x509.X509Certificate(info.certificate);
    if (!o.rootPem && !(signing.subject === signing.issuer && (await signing.verify({ publicKey: signing.publicKey, signatureOnly: true })))) {
      throw new Error(`cfssl signs with ${signing.subject}, which is not self-signed: give its root (rootPem / --external-ca-root)`);
    }
    const roots = o.rootPem ? splitPem(o.rootPem).map((p) => new x509.X509Certificate(p)) : [signing];
    if (!roots.length) throw new Error('rootPem holds no certificate');
    // The path from cfssl's signing certificate to one of the roots: itself when it is a root, else its issuer.
    let caChain: x509.X509Certificate[] = [];
    let anchor = roots.find((r) => der(r).equals(der(signing)));
    if (!anchor) {
      const issuer = await findIssuer(signing, roots);
      if (!issuer) {
        throw new Error(`cfssl's CA certificate ${signing.subject} is not issued by any root in rootPem`);
      }
      caChain = [signing];
      anchor = issuer;
    }
    const signer = new CfsslSigner(o, caChain, roots, anchor);
    if (o.mode === 'intermediate') await signer.renewIntermediate();
    o.log?.(`ca: workloads are signed by cfssl at ${o.url} (${o.mode}${o.profile ? `, profile ${o.profile}` : ''}${o.authKey ? ', authenticated' : ''}), root ${anchor.subject}`);
    return signer;
  }

  trustBundle(): string {
    return this.roots.map(pemOf).join('');
  }

  async sign(csrPem: string, identity: Identity, ttlMs: number): Promise<string[]> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
    let chain: string[];
    if (this.o.mode === 'intermediate') {
      const ca = await this.currentIntermediate();
      chain = await ca.sign(csrPem, identity, ttlMs);
    } else {
      // The identity comes from the authenticated caller, as `hosts` (which overrides whatever SANs the CSR has).
      const leaf = await this.cfsslSign({ certificate_request: csrPem, hosts: [spiffeId(identity)] });
      chain = [leaf, ...this.caChain, this.anchor].map(pemOf);
    }
    await this.check(chain, csr, identity);
    return chain;
  }

  /** A TLS server certificate (the CA API's own) from the same PKI: DNS and IP SANs, which every cfssl issues. */
  async serverCertificate(names: string[]): Promise<{ cert: string; key: string }> {
    if (this.o.mode === 'intermediate') return (await this.currentIntermediate()).serverCertificate(names);
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${names[0]}`, keys, signingAlgorithm: ECDSA_P256 });
    const leaf = await this.cfsslSign({ certificate_request: csr.toString('pem'), hosts: names });
    if (!Buffer.from(leaf.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))) throw new ExternalCaError('cfssl returned a server certificate for another key', 'invalid-certificate');
    return { cert: [leaf, ...this.caChain].map(pemOf).join(''), key: await exportKeyPem(keys.privateKey) };
  }

  status(): CaStatus {
    const root = this.anchor;
    const fingerprint = createHash('sha256').update(der(root)).digest('hex').replace(/(..)(?!$)/g, '$1:');
    return { rootSubject: root.subject, rootFingerprint: fingerprint, rootNotAfter: root.notAfter.toISOString(), trustDomain: this.o.trustDomain, source: 'external' };
  }

  /** POST a sign request (authenticated when a key is configured) and parse the certificate. */
  private async cfsslSign(request: Record<string, unknown>): Promise<x509.X509Certificate> {
    const body = Buffer.from(JSON.stringify({ ...request, profile: this.o.profile ?? '', label: this.o.label ?? '' }));
    let reply;
    if (this.o.authKey) {
      // cfssl's standard provider: HMAC-SHA256 over the exact request bytes with the hex-decoded key; both travel
      // base64-encoded (Go's encoding of []byte) in an AuthenticatedRequest.
      const token = createHmac('sha256', Buffer.from(this.o.authKey.trim(), 'hex')).update(body).digest();
      reply = await post(this.o, '/api/v1/cfssl/authsign', Buffer.from(JSON.stringify({ token: token.toString('base64'), request: body.toString('base64') })));
    } else {
      reply = await post(this.o, '/api/v1/cfssl/sign', body);
    }
    if (!reply.certificate) throw new ExternalCaError(`${this.o.url}: the sign reply has no certificate`, 'refused');
    return new x509.X509Certificate(reply.certificate);
  }

  /** Hand out nothing that is not exactly what was asked for. */
  private async check(chain: string[], csr: x509.Pkcs10CertificateRequest, identity: Identity): Promise<void> {
    const bad = (why: string) => new ExternalCaError(`the external CA's certificate for ${spiffeId(identity)} is refused: ${why}`, 'invalid-certificate');
    const certs = chain.map((p) => new x509.X509Certificate(p));
    const leaf = certs[0]!;
    if (!Buffer.from(leaf.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))) throw bad('it is for another key than the CSR\'s');
    const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
    const names = san ? san.names.toJSON() : [];
    const want = spiffeId(identity);
    if (!(names.length === 1 && names[0]!.type === 'url' && names[0]!.value === want)) {
      const got = names.map((n) => `${n.type}:${n.value}`).join(', ') || 'no SAN';
      const hint = names.some((n) => n.type === 'dns' && n.value === want)
        ? ' (this cfssl turns URIs into DNS names and cannot issue SPIFFE certificates itself: use the intermediate mode)'
        : names.length === 0
          ? ' (this cfssl dropped the URI SAN: use a cfssl release with URI SAN support, or the intermediate mode)'
          : '';
      throw bad(`it names ${got}, not exactly URI:${want}${hint}`);
    }
    if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) throw bad('it is a CA certificate');
    const now = Date.now();
    if (leaf.notAfter.getTime() <= now || leaf.notBefore.getTime() > now + 60_000) throw bad(`it is not current (${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`);
    for (let i = 0; i < certs.length; i++) {
      const issuer = certs[i + 1] ?? certs[i]!;
      if (!(await certs[i]!.verify({ publicKey: issuer.publicKey, signatureOnly: true }))) throw bad(`${certs[i]!.subject} is not signed by ${issuer.subject}`);
    }
    if (!this.roots.some((r) => der(r).equals(der(certs.at(-1)!)))) throw bad('its chain does not end at a trusted root');
  }

  private async currentIntermediate(): Promise<CertificateAuthority> {
    if (Date.now() >= this.intermediateRenewAt) {
      this.renewing ??= this.renewIntermediate().finally(() => (this.renewing = undefined));
      try {
        await this.renewing;
      } catch (err) {
        // A failed renewal is not fatal while the current intermediate is still good; sign with it and retry later.
        if (!this.intermediate || this.intermediate.notAfter.getTime() <= Date.now()) throw err;
        this.o.log?.(`ca: renewing the intermediate from cfssl failed (${(err as Error).message}); the current one is good until ${this.intermediate.notAfter.toISOString()}`);
      }
    }
    return this.intermediate!;
  }

  /** A fresh key and a CA CSR (path length 0: it signs workloads only), signed by cfssl and checked. */
  private async renewIntermediate(): Promise<void> {
    const keys = await subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `O=${this.o.trustDomain},CN=Trellis mesh CA ${randomBytes(4).toString('hex')}`,
      keys,
      signingAlgorithm: ECDSA_P256,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    const asked = Date.now();
    const cert = await this.cfsslSign({ certificate_request: csr.toString('pem') }).catch((err: Error) => {
      // cfssl answers a CA CSR under a profile without `ca_constraint.is_ca` with a bare "policy violation".
      if (err instanceof ExternalCaError && /policy violation/i.test(err.message)) {
        throw new ExternalCaError(`${err.message}: the cfssl profile "${this.o.profile ?? 'default'}" must allow CA certificates ("ca_constraint": {"is_ca": true}) for the intermediate mode`, 'refused');
      }
      throw err;
    });
    const bad = (why: string) => new ExternalCaError(`the external CA's intermediate is refused: ${why}`, 'invalid-certificate');
    if (!Buffer.from(cert.publicKey.rawData).equals(Buffer.from(csr.publicKey.rawData))) throw bad('it is for another key');
    if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) throw bad(`it is not a CA certificate (the cfssl profile "${this.o.profile ?? 'default'}" needs "ca_constraint": {"is_ca": true})`);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) throw bad('its key usage lacks "cert sign" (add it to the cfssl profile\'s usages)');
    this.intermediate = await CertificateAuthority.fromIssued({
      cert: pemOf(cert),
      key: await exportKeyPem(keys.privateKey),
      chain: this.caChain.map(pemOf),
      root: pemOf(this.anchor),
      trustDomain: this.o.trustDomain,
      source: 'external',
      minTtlMs: this.o.minTtlMs,
      maxTtlMs: this.o.maxTtlMs,
    });
    const from = Math.max(cert.notBefore.getTime(), asked);
    this.intermediateRenewAt = from + (cert.notAfter.getTime() - from) / 2;
    this.o.log?.(`ca: intermediate ${cert.subject} from cfssl, valid until ${cert.notAfter.toISOString()}`);
  }
}

async function findIssuer(cert: x509.X509Certificate, candidates: x509.X509Certificate[]): Promise<x509.X509Certificate | undefined> {
  for (const c of candidates) {
    if (c.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: c.publicKey, signatureOnly: true })) return c;
  }
  return undefined;
}

/** POST to cfssl; its envelope is `{success, result, errors, messages}`. */
function post(o: CfsslSignerOptions, path: string, body: Buffer): Promise<{ certificate?: string }> {
  const url = new URL(o.url + path);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length }, ...(o.tlsCaPem ? { ca: o.tlsCaPem } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new ExternalCaError(`${o.url}${path}: ${e.message}`, 'unreachable')));
        res.on('end', () => {
          let reply: CfsslReply;
          try {
            reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CfsslReply;
          } catch {
            return reject(new ExternalCaError(`${o.url}${path}: HTTP ${res.statusCode}, not a cfssl reply`, 'refused'));
          }
          if (!reply.success || !reply.result) {
            const why = (reply.errors ?? []).map((e) => `${e.message} (${e.code})`).join('; ') || `HTTP ${res.statusCode}`;
            return reject(new ExternalCaError(`${o.url}${path}: ${why}`, 'refused'));
          }
          resolve(reply.result);
        });
      },
    );
    req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(new ExternalCaError(`${o.url}${path}: ${e.message}`, 'unreachable')));
    req.end(body);
  });
}
