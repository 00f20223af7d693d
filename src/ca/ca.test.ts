// The CA: a root made once and kept, SPIFFE certificates signed for the authenticated caller, Istio's CA API over TLS
// with token authentication, and issued certificates good for a mutual TLS handshake.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaServer, requestCertificate } from './ca-api.js';
import { CertificateAuthority, createCsr } from './ca.js';
import { WorkloadTokens } from './token.js';
import { CLIENT_STACKS } from '../xds/client/grpc-channel.js';

const reviews = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bookinfo-reviews' };

test('the root is created once (key 0600) and reused; a CSR becomes a 24 h SPIFFE certificate for the caller', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ca-'));
  try {
    const ca = await CertificateAuthority.open({ stateDir: dir });
    assert.equal(statSync(join(dir, 'ca-key.pem')).mode & 0o777, 0o600);
    const again = await CertificateAuthority.open({ stateDir: dir });
    assert.equal(again.trustBundle(), ca.trustBundle());
    // The CSR asks for another identity; the certificate still names the authenticated one.
    const { csrPem } = await createCsr({ ...reviews, serviceAccount: 'admin' });
    const chain = await ca.sign(csrPem, reviews, 24 * 3600_000);
    assert.equal(chain.length, 2, 'leaf and root');
    const leaf = new X509Certificate(chain[0]!);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    assert.ok(leaf.verify(new X509Certificate(ca.trustBundle()).publicKey));
    const hours = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 3600_000;
    assert.ok(hours > 23.9 && hours < 24.1, String(hours));
    assert.match(ca.status().rootSubject, /O=cluster\.local/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const stack of CLIENT_STACKS) {
test(`${stack} client: Istio's CA API over TLS: a valid token gets a chain; no, bad or expired tokens, foreign CSRs and a CA with the wrong name or root are refused`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ca-'));
  const ca = await CertificateAuthority.open({ stateDir: dir });
  const tokens = WorkloadTokens.open(join(dir, 'token-key'));
  const server = new CaServer({ signer: ca, authenticator: tokens, tls: await ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']) });
  const port = await server.listen('127.0.0.1', 0);
  try {
    const ask = async (token: string, csrFor = reviews, o: { serverName?: string; rootPem?: string } = {}) =>
      requestCertificate({ address: `127.0.0.1:${port}`, rootPem: o.rootPem ?? ca.trustBundle(), token, csrPem: (await createCsr(csrFor)).csrPem, ttlSeconds: 3600, stack, serverName: o.serverName });
    const chain = await ask(tokens.issue('default', 'bookinfo-reviews'));
    assert.equal(new X509Certificate(chain[0]!).subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    await assert.rejects(ask(''), /UNAUTHENTICATED/);
    await assert.rejects(ask(tokens.issue('default', 'bookinfo-reviews') + 'x'), /UNAUTHENTICATED: token signature is invalid/);
    await assert.rejects(ask(tokens.issue('default', 'bookinfo-reviews', -1000)), /UNAUTHENTICATED: token expired/);
    await assert.rejects(ask(tokens.issue('default', 'bookinfo-ratings')), /PERMISSION_DENIED/);
    // The CA must prove the name it is asked by, with a certificate from the roots given.
    assert.equal((await ask(tokens.issue('default', 'bookinfo-reviews'), reviews, { serverName: 'istiod.istio-system.svc' })).length, 2);
    await assert.rejects(ask(tokens.issue('default', 'bookinfo-reviews'), reviews, { serverName: 'istiod.elsewhere.svc' }), /UNAVAILABLE/);
    const other = await CertificateAuthority.open({ stateDir: mkdtempSync(join(dir, 'other-')) });
    await assert.rejects(ask(tokens.issue('default', 'bookinfo-reviews'), reviews, { rootPem: other.trustBundle() }), /UNAVAILABLE/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
}

test('two issued certificates make a mutual TLS connection that knows the peer SPIFFE identity', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-ca-'));
  try {
    const ca = await CertificateAuthority.open({ stateDir: dir });
    const issue = async (sa: string) => {
      const id = { ...reviews, serviceAccount: sa };
      const { keyPem, csrPem } = await createCsr(id);
      return { key: keyPem, cert: (await ca.sign(csrPem, id, 3600_000))[0]!, ca: ca.trustBundle() };
    };
    const server = await issue('bookinfo-ratings');
    const client = await issue('bookinfo-reviews');
    const srv = tls.createServer({ ...server, requestCert: true, rejectUnauthorized: true }, (s) => s.end(String(s.getPeerCertificate().subjectaltname)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const peer = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ ...client, host: '127.0.0.1', port, checkServerIdentity: (_h, cert) => (cert.subjectaltname === 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-ratings' ? undefined : new Error('wrong server')) });
      let got = '';
      s.on('data', (c) => (got += c));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    assert.equal(peer, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    srv.close();
    assert.ok(readFileSync(join(dir, 'ca-cert.pem'), 'utf8').includes('BEGIN CERTIFICATE'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
