// An external CA: a real cfssl (`cfssl serve`, its own root from `cfssl gencert -initca`) behind the mesh's CA API.
// Its certificates reach workloads only when they name exactly the authenticated SPIFFE identity; through the
// intermediate it issues to the mesh, two sidecars do mutual TLS and the server sees the client's identity.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaServer, requestCertificate } from './ca-api.js';
import { CertificateAuthority, createCsr, spiffeId } from './ca.js';
import { CfsslSigner, ExternalCaError } from './cfssl-signer.js';
import { cfsslInitCa, cfsslInstalled, cfsslSignOffline, INTERMEDIATE_PROFILE, startCfssl, USAGES_LEAF, type RunningCfssl } from './cfssl-testing.js';
import { productpage, reviews, servedChain, startMtlsPair } from './mesh-testing.js';
import { WorkloadTokens } from './token.js';
import { request } from '../proxy/testing.js';

const BIN = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
const AUTH_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const CONFIG = {
  signing: {
    default: { expiry: '1h', usages: USAGES_LEAF },
    profiles: {
      workload: { expiry: '1h', usages: USAGES_LEAF },
      intermediate: INTERMEDIATE_PROFILE,
      'mesh-ca': { ...INTERMEDIATE_PROFILE, auth_key: 'mesh' },
    },
  },
  auth_keys: { mesh: { type: 'standard', key: AUTH_KEY } },
};

const opensslInstalled = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/** Chain verification by OpenSSL, independent of Node's and @peculiar/x509's code (when openssl is installed). */
function assertOpensslVerifies(dir: string, chain: string[]): void {
  if (!opensslInstalled) return;
  writeFileSync(join(dir, 'v-leaf.pem'), chain[0]!);
  writeFileSync(join(dir, 'v-untrusted.pem'), chain.slice(1, -1).join('') || chain.at(-1)!);
  writeFileSync(join(dir, 'v-root.pem'), chain.at(-1)!);
  const r = spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(dir, 'v-root.pem'), '-untrusted', join(dir, 'v-untrusted.pem'), join(dir, 'v-leaf.pem')], { encoding: 'utf8' });
  assert.equal((r.stdout + r.stderr).trim(), `${join(dir, 'v-leaf.pem')}: OK`);
}

describe('external CA: cfssl', { skip: !cfsslInstalled && 'cfssl is not installed (apt-get install golang-cfssl)' }, () => {
  let dir: string;
  let cfssl: RunningCfssl;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-cfssl-'));
    cfssl = await startCfssl(dir, CONFIG);
  });
  after(async () => {
    await cfssl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('direct signing: a certificate reaches a workload only if it carries exactly its SPIFFE URI SAN', async () => {
    const signer = await CfsslSigner.open({ url: cfssl.url, profile: 'workload' });
    assert.equal(new X509Certificate(signer.trustBundle()).fingerprint256, new X509Certificate(cfssl.rootPem).fingerprint256, 'the trust bundle is cfssl\'s root');
    // What does this cfssl do with a URI? Ask it directly, outside the signer.
    const { csrPem } = await createCsr(reviews);
    const raw = await fetch(`${cfssl.url}/api/v1/cfssl/sign`, { method: 'POST', body: JSON.stringify({ certificate_request: csrPem, profile: 'workload', hosts: [spiffeId(reviews)] }) });
    const rawSan = new X509Certificate(((await raw.json()) as { result: { certificate: string } }).result.certificate).subjectAltName;
    const result = await signer.sign(csrPem, reviews, 3600_000).catch((e: Error) => e);
    if (rawSan === `URI:${spiffeId(reviews)}`) {
      // A cfssl with URI SAN support: the workload gets its certificate, chained to cfssl's root.
      assert.ok(!(result instanceof Error), String(result));
      assert.equal(new X509Certificate(result[0]!).subjectAltName, `URI:${spiffeId(reviews)}`);
      assertOpensslVerifies(dir, result);
    } else {
      // Debian's cfssl (1.2.0+git20160825) writes the URI as a DNS name: the signer refuses to hand that out.
      assert.equal(rawSan, `DNS:${spiffeId(reviews)}`);
      assert.ok(result instanceof ExternalCaError, String(result));
      assert.equal(result.reason, 'invalid-certificate');
      assert.match(result.message, /names dns:spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews, not exactly URI:.*intermediate mode/);
      // Through the CA API the agent gets an error, never the wrong certificate.
      const tokens = WorkloadTokens.open(join(dir, 'token-key'));
      const server = new CaServer({ signer, authenticator: tokens, tls: await signer.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']) });
      const port = await server.listen('127.0.0.1', 0);
      try {
        await assert.rejects(
          requestCertificate({ address: `127.0.0.1:${port}`, rootPem: signer.trustBundle(), token: tokens.issue('default', 'bookinfo-reviews'), csrPem, ttlSeconds: 3600, serverName: 'istiod.istio-system.svc' }),
          /INTERNAL: the external CA's certificate for spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-reviews is refused/,
        );
      } finally {
        await server.close();
      }
    }
    // DNS and IP SANs (the CA API's own serving certificate) every cfssl issues.
    const served = await signer.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']);
    assert.equal(new X509Certificate(served.cert).subjectAltName, 'DNS:istiod.istio-system.svc, IP Address:127.0.0.1');
    assert.ok(new X509Certificate(served.cert).verify(new X509Certificate(cfssl.rootPem).publicKey));
  });

  test('intermediate mode over authenticated signing: SPIFFE certificates chained through a cfssl-issued intermediate to its root', async () => {
    const signer = await CfsslSigner.open({ url: cfssl.url, profile: 'mesh-ca', authKey: AUTH_KEY, mode: 'intermediate' });
    // The CSR asks for someone else; the certificate names the authenticated caller.
    const { csrPem } = await createCsr({ ...reviews, serviceAccount: 'admin' });
    const chain = await signer.sign(csrPem, reviews, 3600_000);
    assert.equal(chain.length, 3, 'leaf, intermediate, root');
    const [leaf, inter, root] = chain.map((c) => new X509Certificate(c));
    assert.equal(leaf!.subjectAltName, `URI:${spiffeId(reviews)}`);
    assert.ok(inter!.ca && !leaf!.ca);
    assert.match(inter!.subject, /O=cluster\.local\nCN=Trellis mesh CA/);
    assert.equal(root!.fingerprint256, new X509Certificate(cfssl.rootPem).fingerprint256);
    assert.ok(leaf!.checkIssued(inter!) && leaf!.verify(inter!.publicKey));
    assert.ok(inter!.checkIssued(root!) && inter!.verify(root!.publicKey));
    assertOpensslVerifies(dir, chain);
    assert.equal(signer.status().source, 'external');
    assert.match(signer.status().rootSubject, /CN=Example Corp Private Root/);

    // cfssl checks the HMAC: a wrong key, or no key for an authenticated profile, is refused.
    await assert.rejects(CfsslSigner.open({ url: cfssl.url, profile: 'mesh-ca', authKey: AUTH_KEY.replace(/^00/, 'ff'), mode: 'intermediate' }), (e: Error) => e instanceof ExternalCaError && /invalid token/.test(e.message));
    await assert.rejects(CfsslSigner.open({ url: cfssl.url, profile: 'mesh-ca', mode: 'intermediate' }), /authentication required/);
    // A profile that does not make CA certificates cannot serve the intermediate mode.
    await assert.rejects(CfsslSigner.open({ url: cfssl.url, profile: 'workload', mode: 'intermediate' }), /Policy violation.*must allow CA certificates/);
    // A CA that cannot be reached is "unreachable" (the CA API answers UNAVAILABLE, the agent retries).
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(CfsslSigner.open({ url: `http://127.0.0.1:${deadPort}` }), (e: Error) => e instanceof ExternalCaError && e.reason === 'unreachable');
  });

  test('traffic: two sidecars with certificates from the CA API backed by cfssl do mutual TLS; the server sees the client identity', async () => {
    const signer = await CfsslSigner.open({ url: cfssl.url, profile: 'mesh-ca', authKey: AUTH_KEY, mode: 'intermediate' });
    const tokens = WorkloadTokens.open(join(dir, 'token-key'));
    const server = new CaServer({ signer, authenticator: tokens, tls: await signer.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']) });
    const caAddress = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    try {
      const pair = await startMtlsPair({ caAddress, caRootPem: signer.trustBundle(), tokens });
      try {
        const res = await request(pair.outboundPort, { path: '/reviews/0' });
        assert.equal(res.status, 200);
        assert.equal(res.body, 'reviews');
        const rec = pair.records.at(-1)!;
        assert.equal(rec.connectionSecurity, 'mutual_tls');
        assert.equal(rec.peerPrincipal, spiffeId(productpage));
        // The server sidecar serves leaf + cfssl-issued intermediate; the client trusts only cfssl's root.
        const peer = await servedChain(pair.inboundPort, pair.clientIdentity.current!);
        assert.equal(peer.subjectaltname, `URI:${spiffeId(reviews)}`);
        assert.match(String(peer.issuerCertificate.subject.CN), /^Trellis mesh CA/);
        assert.equal(peer.issuerCertificate.issuerCertificate.fingerprint256, new X509Certificate(cfssl.rootPem).fingerprint256);
        assert.equal(pair.clientIdentity.current!.rootCert.trim(), cfssl.rootPem.trim());
      } finally {
        await pair.close();
      }
    } finally {
      await server.close();
    }
  });

  test('`trellis controlplane --ca-port --external-ca-url …` (a real process) serves the CA API with certificates from cfssl', async () => {
    const keyFile = join(dir, 'auth-key');
    writeFileSync(keyFile, AUTH_KEY + '\n', { mode: 0o600 });
    const state = join(dir, 'cp-state');
    const args = ['controlplane', '--config-dir', join(dir, 'cp-config'), '--state-dir', state, '--xds-port', '0', '--debug-port', '0', '--ca-port', '0'];
    const ext = ['--external-ca-url', cfssl.url, '--external-ca-mode', 'intermediate', '--external-ca-profile', 'mesh-ca', '--external-ca-auth-key-file', keyFile];
    // Without --ca-port the external CA options are a usage error.
    const usage = spawnSync(process.execPath, [BIN, 'controlplane', '--config-dir', join(dir, 'cp-config'), ...ext], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(usage.status, 0);
    assert.match(usage.stderr, /need --ca-port/);
    const child = spawn(process.execPath, [BIN, ...args, ...ext], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      const deadline = Date.now() + 20_000;
      let m: RegExpExecArray | null;
      while (!(m = /CA API on ([\d.]+):(\d+) \(signer: external; proxies' --ca-root: (.+?)\)/.exec(out))) {
        if (child.exitCode !== null) throw new Error(`trellis controlplane exited ${child.exitCode}: ${err}`);
        if (Date.now() > deadline) throw new Error(`trellis controlplane not ready: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      // --ca-root for proxies: the root of the CA API's own serving certificate (the control plane's CA).
      const rootPem = readFileSync(m[3]!, 'utf8');
      const tokens = WorkloadTokens.open(join(state, 'ca', 'token-key'));
      const chain = await requestCertificate({ address: `${m[1]}:${m[2]}`, rootPem, token: tokens.issue('default', 'bookinfo-reviews'), csrPem: (await createCsr(reviews)).csrPem, ttlSeconds: 3600, serverName: 'istiod.istio-system.svc' });
      assert.equal(new X509Certificate(chain[0]!).subjectAltName, `URI:${spiffeId(reviews)}`);
      assert.equal(new X509Certificate(chain.at(-1)!).fingerprint256, new X509Certificate(cfssl.rootPem).fingerprint256, 'workloads trust the PKI root');
      assertOpensslVerifies(dir, chain);
      assert.match(err, /workloads are signed by cfssl at http:\/\/127\.0\.0\.1:\d+ \(intermediate, profile mesh-ca, authenticated\)/);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    }
  });
});

// Debian's cfssl cannot issue URI SANs, so the direct mode's success path runs against a stand-in for the cfssl
// releases that can (a URI in `hosts` becomes a URI SAN): an HTTP server speaking cfssl's info/sign API, signing
// with an intermediate under a separate root, as a corporate PKI often does.
test('direct signing against a cfssl that issues URI SANs and signs with an intermediate: chain leaf, intermediate, root', { skip: !cfsslInstalled && 'cfssl is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-cfssl-'));
  const root = cfsslInitCa(dir, 'root', { CN: 'Corp Root', key: { algo: 'ecdsa', size: 256 } });
  const inter = cfsslInitCa(dir, 'inter', { CN: 'Corp Issuing CA', key: { algo: 'ecdsa', size: 256 } });
  const interCert = cfsslSignOffline(dir, 'root', inter.csr, { signing: { default: { expiry: '1h', usages: USAGES_LEAF }, profiles: { i: INTERMEDIATE_PROFILE } } }, 'i');
  mkdirSync(join(dir, 'cacerts'));
  writeFileSync(join(dir, 'cacerts', 'ca-cert.pem'), interCert);
  writeFileSync(join(dir, 'cacerts', 'ca-key.pem'), inter.key);
  writeFileSync(join(dir, 'cacerts', 'root-cert.pem'), root.cert);
  const issuing = await CertificateAuthority.open({ stateDir: join(dir, 'state'), pluggedIn: join(dir, 'cacerts') });
  const seen: Array<Record<string, unknown>> = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', async () => {
      const j = JSON.parse(body || '{}') as { certificate_request?: string; hosts?: string[] };
      seen.push({ path: req.url, ...j });
      let certificate = interCert;
      if (req.url === '/api/v1/cfssl/sign') {
        const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(j.hosts?.[0] ?? '');
        certificate = (await issuing.sign(j.certificate_request!, { trustDomain: m![1]!, namespace: m![2]!, serviceAccount: m![3]! }, 3600_000))[0]!;
      }
      res.end(JSON.stringify({ success: true, result: { certificate }, errors: [], messages: [] }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  try {
    // cfssl's CA certificate is not a root: without the root the signer cannot build chains, and says so.
    await assert.rejects(CfsslSigner.open({ url }), /not self-signed: give its root/);
    const signer = await CfsslSigner.open({ url, rootPem: root.cert, profile: 'workload' });
    const { csrPem } = await createCsr(reviews);
    const chain = await signer.sign(csrPem, reviews, 3600_000);
    assert.deepEqual(chain.map((c) => new X509Certificate(c).subject ?? ''), ['', 'CN=Corp Issuing CA', 'CN=Corp Root']);
    assert.equal(new X509Certificate(chain[0]!).subjectAltName, `URI:${spiffeId(reviews)}`);
    assertOpensslVerifies(dir, chain);
    assert.deepEqual(seen.at(-1), { path: '/api/v1/cfssl/sign', certificate_request: csrPem, hosts: [spiffeId(reviews)], profile: 'workload', label: '' });
    assert.equal(signer.trustBundle().trim(), root.cert.trim());
  } finally {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
