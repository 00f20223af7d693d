// `trellis up` (LocalMesh) with an external CA: a real cfssl signs the mesh's intermediate, every sidecar (real
// processes) gets its certificate through the CA API from it, Bookinfo answers through the ingress gateway, and a
// sidecar's inbound port serves a SPIFFE certificate chained to the cfssl root.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, spiffeId } from './ca.js';
import { CfsslSigner } from './cfssl-signer.js';
import { cfsslInstalled, INTERMEDIATE_PROFILE, startCfssl, USAGES_LEAF, type RunningCfssl } from './cfssl-testing.js';
import { istioSamplesDir } from '../samples.js';
import { LocalMesh } from '../runtime/local-mesh.js';

const AUTH_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
let dir: string;
let cfssl: RunningCfssl | undefined;
let mesh: LocalMesh | undefined;
const logs: string[] = [];

before(async () => {
  if (!cfsslInstalled) return;
  dir = mkdtempSync(join(tmpdir(), 'trellis-up-extca-'));
  cfssl = await startCfssl(dir, {
    signing: { default: { expiry: '1h', usages: USAGES_LEAF }, profiles: { 'mesh-ca': { ...INTERMEDIATE_PROFILE, auth_key: 'mesh' } } },
    auth_keys: { mesh: { type: 'standard', key: AUTH_KEY } },
  });
  const app = join(dir, 'app');
  mkdirSync(app);
  for (const f of ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml']) copyFileSync(`${istioSamplesDir()}/bookinfo/${f}`, join(app, f.split('/').pop()!));
  mesh = await LocalMesh.start({
    dir: app,
    stateDir: join(dir, '.trellis'),
    ingressPort: 0,
    xdsPort: 0,
    debugPort: 0,
    addressBase: 41,
    externalCa: { url: cfssl.url, mode: 'intermediate', profile: 'mesh-ca', authKey: AUTH_KEY },
    log: (l) => logs.push(l),
  });
  await mesh.waitReady(60_000);
});

after(async () => {
  await mesh?.stop();
  await cfssl?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('trellis up with an external CA (cfssl): Bookinfo over mutual TLS with certificates chained to the cfssl root', { skip: !cfsslInstalled && 'cfssl is not installed' }, async () => {
  const page = await fetch(`${mesh!.ingressUrl}/productpage`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Reviewer1/, 'productpage reached reviews through the sidecars');
  assert.match(mesh!.summary(), /ca +O=Example Corp.*CN=Example Corp Private Root, root valid until .*\(external CA\)/);
  // A mesh client (its certificate from the same PKI) handshakes with the details sidecar's inbound port.
  const signer = await CfsslSigner.open({ url: cfssl!.url, mode: 'intermediate', profile: 'mesh-ca', authKey: AUTH_KEY });
  const me = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'sleep' };
  const { keyPem, csrPem } = await createCsr(me);
  const chain = await signer.sign(csrPem, me, 600_000);
  const details = mesh!.podPlans().find((p) => p.name.startsWith('details-'))!;
  const peer = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    const s = tls.connect({ host: details.podIP, port: 9080, cert: chain.slice(0, -1).join(''), key: keyPem, ca: signer.trustBundle(), checkServerIdentity: () => undefined, ALPNProtocols: ['http/1.1'] }, () => {
      const p = s.getPeerCertificate(true);
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString()));
      s.on('end', () => (/^HTTP\/1\.1 200/.test(got) ? resolve(p) : reject(new Error(got.slice(0, 200)))));
      s.write('GET /details/0 HTTP/1.1\r\nhost: details:9080\r\nconnection: close\r\n\r\n');
    });
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
  });
  assert.equal(peer.subjectaltname, `URI:${spiffeId({ ...me, serviceAccount: 'bookinfo-details' })}`);
  assert.match(String(peer.issuerCertificate.subject.CN), /^Trellis mesh CA/);
  assert.equal(peer.issuerCertificate.issuerCertificate.fingerprint256, new X509Certificate(cfssl!.rootPem).fingerprint256);
});
