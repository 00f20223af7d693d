// Mutual TLS between two proxies with certificates from the mesh CA, by SDS name, as sidecars use it: the server
// side sees the client's SPIFFE identity; plaintext and the wrong identity are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, createCsr } from '../../ca/ca.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, vhost } from '../testing.js';

const TLS = 'envoy.transport_sockets.tls';
const sds = { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } };

test('sidecar to sidecar over mutual TLS: identity on the server side, SAN checked on the client side', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-tls-'));
  const ca = await CertificateAuthority.open({ stateDir: dir });
  const issue = async (sa: string) => {
    const id = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: sa };
    const { keyPem, csrPem } = await createCsr(id);
    return { certChain: (await ca.sign(csrPem, id, 3600_000)).join(''), privateKey: keyPem };
  };
  const app = await startUpstream('reviews');
  // Server sidecar: TLS required, client certificate required.
  const serverListener = httpListener('inbound', routeConfig('in', [vhost('in', ['*'], [routeTo('inbound|9080||')])]));
  serverListener.filterChains![0]!.transportSocket = { name: TLS, typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', commonTlsContext: sds, requireClientCertificate: true } };
  const server = await startProxy({ listeners: [serverListener], clusters: [edsCluster('inbound|9080||')], endpoints: [cla('inbound|9080||', [{ port: app.port }])] });
  server.proxy.secrets.set('default', await issue('bookinfo-reviews'));
  server.proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
  const records: HttpRequestRecord[] = [];
  server.proxy.observe({ onHttpRequest: (r) => records.push(r) });
  const upstreamTls = (san: string) => ({ name: TLS, typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'outbound_.9080_._.reviews.default.svc.cluster.local', commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], combinedValidationContext: { defaultValidationContext: { matchSubjectAltNames: [{ exact: san }] }, validationContextSdsSecretConfig: { name: 'ROOTCA' } } } } });
  const clientSnapshot = (san: string) => ({
    listeners: [httpListener('outbound', routeConfig('out', [vhost('out', ['*'], [routeTo('outbound|9080||reviews.default.svc.cluster.local')])]))],
    clusters: [edsCluster('outbound|9080||reviews.default.svc.cluster.local', { transportSocket: upstreamTls(san) })],
    endpoints: [cla('outbound|9080||reviews.default.svc.cluster.local', [{ port: server.port('inbound') }])],
  });
  const client = await startProxy(clientSnapshot('spiffe://cluster.local/ns/default/sa/bookinfo-reviews'));
  client.proxy.secrets.set('default', await issue('bookinfo-productpage'));
  client.proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
  try {
    const ok = await request(client.port('outbound'), { path: '/reviews/0' });
    assert.equal(ok.status, 200);
    assert.equal(records.at(-1)!.connectionSecurity, 'mutual_tls');
    assert.equal(records.at(-1)!.peerPrincipal, 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
    // Plaintext straight to the server sidecar is refused.
    await assert.rejects(request(server.port('inbound'), { path: '/reviews/0' }));
    // So is a client whose certificate another CA signed (another mesh's workload), however well formed.
    const strangerDir = mkdtempSync(join(tmpdir(), 'trellis-tls-stranger-'));
    const stranger = await CertificateAuthority.open({ stateDir: strangerDir });
    const foreign = await startProxy(clientSnapshot('spiffe://cluster.local/ns/default/sa/bookinfo-reviews'));
    const foreignId = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bookinfo-productpage' };
    const foreignCsr = await createCsr(foreignId);
    foreign.proxy.secrets.set('default', { certChain: (await stranger.sign(foreignCsr.csrPem, foreignId, 3600_000)).join(''), privateKey: foreignCsr.keyPem });
    // It trusts the server's root, so only the server's check of the client's certificate can stop it.
    foreign.proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
    try {
      const refused = await request(foreign.port('outbound'), { path: '/reviews/0' });
      assert.equal(refused.status, 503, 'a certificate from an untrusted CA is refused by the server');
    } finally {
      await foreign.proxy.close();
      rmSync(strangerDir, { recursive: true, force: true });
    }
    // A client that expects another identity does not talk to this server.
    const other = await startProxy(clientSnapshot('spiffe://cluster.local/ns/default/sa/someone-else'));
    other.proxy.secrets.set('default', await issue('bookinfo-productpage'));
    other.proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
    try {
      const wrong = await request(other.port('outbound'), { path: '/reviews/0' });
      assert.equal(wrong.status, 503);
      assert.match(wrong.body, /upstream connect error/);
    } finally {
      await other.proxy.close();
    }
  } finally {
    await client.proxy.close();
    await server.proxy.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
