// A plugged-in CA (Istio's `cacerts`: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem) made by an outside
// tool (cfssl: a root and an intermediate it signs, keys in SEC1 / PKCS#1 as such tools write them). Workloads get
// certificates through the CA API, do mutual TLS, and the chain a sidecar serves carries the intermediate and
// verifies to root-cert.pem alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaServer } from './ca-api.js';
import { CertificateAuthority, createCsr, spiffeId } from './ca.js';
import { cfsslInitCa, cfsslInstalled, cfsslSignOffline, INTERMEDIATE_PROFILE, USAGES_LEAF } from './cfssl-testing.js';
import { productpage, reviews, servedChain, startMtlsPair } from './mesh-testing.js';
import { WorkloadTokens } from './token.js';
import { request } from '../proxy/testing.js';

for (const variant of [
  { algo: 'ecdsa', size: 256, certChainFile: true, keyHeader: 'EC PRIVATE KEY' },
  { algo: 'rsa', size: 2048, certChainFile: false, keyHeader: 'RSA PRIVATE KEY' },
]) {
  test(`plugged-in cacerts (${variant.algo} intermediate from cfssl${variant.certChainFile ? '' : ', no cert-chain.pem'}): mutual TLS, chains verify to root-cert.pem through the intermediate`, { skip: !cfsslInstalled && 'cfssl is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-cacerts-'));
    try {
      const key = { algo: variant.algo, size: variant.size };
      const root = cfsslInitCa(dir, 'root', { CN: 'Example Corp Root CA', key, names: [{ O: 'Example Corp' }] });
      const inter = cfsslInitCa(dir, 'inter', { CN: 'Mesh Intermediate CA', key, names: [{ O: 'Example Corp', OU: 'mesh' }] });
      const interCert = cfsslSignOffline(dir, 'root', inter.csr, { signing: { default: { expiry: '1h', usages: USAGES_LEAF }, profiles: { intermediate: INTERMEDIATE_PROFILE } } }, 'intermediate');
      assert.match(inter.key, new RegExp(`BEGIN ${variant.keyHeader}`), 'the key as cfssl writes it, not PKCS#8');
      const cacerts = join(dir, 'cacerts');
      mkdirSync(cacerts);
      writeFileSync(join(cacerts, 'ca-cert.pem'), interCert);
      writeFileSync(join(cacerts, 'ca-key.pem'), inter.key);
      writeFileSync(join(cacerts, 'root-cert.pem'), root.cert);
      if (variant.certChainFile) writeFileSync(join(cacerts, 'cert-chain.pem'), interCert + root.cert);

      const ca = await CertificateAuthority.open({ stateDir: join(dir, 'state'), pluggedIn: cacerts });
      assert.equal(ca.status().source, 'plugged-in');
      assert.match(ca.status().rootSubject, /CN=Example Corp Root CA/);
      // A chain straight from the CA: leaf, intermediate, root; OpenSSL (where installed) agrees it verifies to root-cert.pem.
      const chain = await ca.sign((await createCsr(reviews)).csrPem, reviews, 3600_000);
      assert.deepEqual(chain.map((c) => (new X509Certificate(c).subject ?? '').split('\n').at(-1)), ['', 'CN=Mesh Intermediate CA', 'CN=Example Corp Root CA']);
      writeFileSync(join(dir, 'leaf.pem'), chain[0]!);
      writeFileSync(join(dir, 'inter.pem'), chain[1]!);
      if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0) {
        const v = spawnSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(cacerts, 'root-cert.pem'), '-untrusted', join(dir, 'inter.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
        assert.equal((v.stdout + v.stderr).trim(), `${join(dir, 'leaf.pem')}: OK`);
      }

      // Two workloads through the CA API (its own serving certificate also from the intermediate), then traffic.
      const tokens = WorkloadTokens.open(join(dir, 'token-key'));
      const server = new CaServer({ signer: ca, authenticator: tokens, tls: await ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']) });
      const caAddress = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
      try {
        const pair = await startMtlsPair({ caAddress, caRootPem: root.cert, tokens });
        try {
          const res = await request(pair.outboundPort, { path: '/reviews/1' });
          assert.equal(res.status, 200);
          assert.equal(pair.records.at(-1)!.peerPrincipal, spiffeId(productpage));
          assert.equal(pair.records.at(-1)!.connectionSecurity, 'mutual_tls');
          const peer = await servedChain(pair.inboundPort, pair.clientIdentity.current!);
          assert.equal(peer.subjectaltname, `URI:${spiffeId(reviews)}`);
          assert.equal(peer.issuerCertificate.fingerprint256, new X509Certificate(interCert).fingerprint256, 'the served chain carries the intermediate');
          assert.equal(peer.issuerCertificate.issuerCertificate.fingerprint256, new X509Certificate(root.cert).fingerprint256);
          assert.equal(pair.clientIdentity.current!.rootCert.trim(), root.cert.trim(), 'workloads trust root-cert.pem');
        } finally {
          await pair.close();
        }
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('plugged-in cacerts whose ca-cert.pem is not under root-cert.pem are refused at start', { skip: !cfsslInstalled && 'cfssl is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-cacerts-'));
  try {
    const key = { algo: 'ecdsa', size: 256 };
    const root = cfsslInitCa(dir, 'root', { CN: 'Root A', key });
    const other = cfsslInitCa(dir, 'other', { CN: 'Root B', key });
    writeFileSync(join(dir, 'ca-cert.pem'), other.cert);
    writeFileSync(join(dir, 'ca-key.pem'), other.key);
    writeFileSync(join(dir, 'root-cert.pem'), root.cert);
    await assert.rejects(CertificateAuthority.open({ stateDir: join(dir, 'state'), pluggedIn: dir }), /CN=Root B is not signed by CN=Root A/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
