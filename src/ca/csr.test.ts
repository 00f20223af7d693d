import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCsr } from './csr.js';
import { x509 } from './x509.js';

const id = { trustDomain: 'cluster.local', namespace: 'bookinfo', serviceAccount: 'bookinfo-reviews' };

test('the agent CSR parses and verifies with @peculiar/x509 and carries exactly the SPIFFE URI SAN', async () => {
  const { keyPem, csrPem } = await createCsr(id);
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  assert.ok(await csr.verify(), 'signature verifies');
  assert.equal(csr.subject, 'O=cluster.local');
  const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension) as x509.SubjectAlternativeNameExtension | undefined;
  assert.deepEqual(san?.names.toJSON(), [{ type: 'url', value: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews' }]);
  assert.equal((csr.signatureAlgorithm as { name?: string }).name, 'ECDSA');
  // the key in the CSR is the public half of the key handed back
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(csr.publicKey.rawData), fromKey);
  assert.equal(createPrivateKey(keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('openssl accepts the agent CSR (signature and the requested extension)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-csr-'));
  try {
    const { csrPem } = await createCsr({ ...id, trustDomain: 'a-long-trust-domain.example.com'.repeat(4) });
    writeFileSync(join(dir, 'req.pem'), csrPem);
    const text = execFileSync('openssl', ['req', '-in', join(dir, 'req.pem'), '-noout', '-verify', '-text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(text, /X509v3 Subject Alternative Name:\s*\n\s*URI:spiffe:\/\/(a-long-trust-domain\.example\.com){4}\/ns\/bookinfo\/sa\/bookinfo-reviews/);
    assert.match(text, /Public-Key: \(256 bit\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
