// Istio's HBONE plumbing in the Envoy-shaped proxy, between two real proxies with certificates from the mesh CA: the
// originator's endpoint is an internal address whose internal listener tunnels the connection (tcp_proxy's
// tunneling_config, CONNECT over HTTP/2 and mutual TLS, the endpoint's address as authority); the terminator's route
// terminates CONNECT into an internal listener that sees the authority as its destination and the client's identity as
// its peer. What sidecars and waypoints use to reach ambient pods and to be reached by them.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CertificateAuthority, createCsr } from '../../ca/ca.js';
import type { Cluster, Listener } from '../../xds/envoy/index.js';
import { typed, TYPE } from '../../xds/envoy/index.js';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { defaultHttpFilters, http2Options, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, T, vhost, type Upstream } from '../testing.js';

const sds = { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } };
/** The pod address the originator's endpoint names and the terminator's internal listener must see as its destination. */
const POD = { address: '10.244.0.7', port: 9080 };

let dir: string;
let ca: CertificateAuthority;
let app: Upstream;
let terminator: { proxy: TrellisProxy; port: (l: string) => number };
const seen: HttpRequestRecord[] = [];

async function issue(sa: string) {
  const id = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: sa };
  const { keyPem, csrPem } = await createCsr(id);
  return { certChain: (await ca.sign(csrPem, id, 3600_000)).join(''), privateKey: keyPem };
}

const internalEndpoint = (listener: string, local?: string) => ({
  endpoints: [{ lbEndpoints: [{ endpoint: { address: { envoyInternalAddress: { serverListenerName: listener } } }, ...(local ? { metadata: { filterMetadata: { 'envoy.filters.listener.original_dst': { local } } } } : {}) }] }],
});

/** The terminating side (Istio's connect_terminate on 15008, then main_internal): only its pod's address is served. */
function terminatorSnapshot(): { listeners: Listener[]; clusters: Cluster[] } {
  const connectRoute = { match: { connectMatcher: {} }, route: { cluster: 'main_internal', upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } };
  const terminate = httpListener('connect_terminate', routeConfig('connect', [vhost('connect', ['*'], [connectRoute])]), { http2ProtocolOptions: { allowConnect: true }, upgradeConfigs: [{ upgradeType: 'CONNECT' }] });
  terminate.filterChains![0]!.transportSocket = { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', commonTlsContext: { ...sds, alpnProtocols: ['h2'] }, requireClientCertificate: true } };
  const hcm = { statPrefix: 'main_internal', routeConfig: routeConfig('pod', [vhost('pod', ['*'], [routeTo('app')])]), httpFilters: defaultHttpFilters() };
  const mainInternal: Listener = {
    name: 'main_internal',
    internalListener: {},
    filterChains: [{ filterChainMatch: { destinationPort: POD.port, prefixRanges: [{ addressPrefix: POD.address, prefixLen: 32 }] }, filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: typed(TYPE.hcm, hcm) }] }],
  };
  const clusters: Cluster[] = [
    { name: 'main_internal', type: 'STATIC', connectTimeout: '1s', loadAssignment: { clusterName: 'main_internal', ...internalEndpoint('main_internal') } },
    { name: 'app', type: 'STATIC', connectTimeout: '1s', loadAssignment: { clusterName: 'app', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: app.port } } } }] }] } },
  ];
  return { listeners: [terminate, mainInternal], clusters };
}

/** The originating side: an outbound HTTP listener whose cluster's endpoint is `local` behind connect_originate. */
function originatorSnapshot(local: string, peerSan: string): { listeners: Listener[]; clusters: Cluster[] } {
  const originate: Listener = {
    name: 'connect_originate',
    internalListener: {},
    filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: 'connect_originate', cluster: 'connect_originate', tunnelingConfig: { hostname: '%DOWNSTREAM_LOCAL_ADDRESS%' } } }] }],
  };
  const upstreamTls = { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], alpnProtocols: ['h2'], combinedValidationContext: { defaultValidationContext: { matchSubjectAltNames: [{ exact: peerSan }] }, validationContextSdsSecretConfig: { name: 'ROOTCA' } } } } };
  const clusters: Cluster[] = [
    { name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'STATIC', connectTimeout: '1s', loadAssignment: { clusterName: 'reviews', ...internalEndpoint('connect_originate', local) } },
    {
      name: 'connect_originate',
      type: 'STATIC',
      connectTimeout: '1s',
      transportSocket: upstreamTls,
      typedExtensionProtocolOptions: http2Options(),
      loadAssignment: { clusterName: 'connect_originate', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: terminator.port('connect_terminate') } } } }] }] },
    },
  ];
  return { listeners: [httpListener('outbound', routeConfig('out', [vhost('out', ['*'], [routeTo('outbound|9080||reviews.default.svc.cluster.local')])])), originate], clusters };
}

async function originator(sa: string, local: string, peerSan = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews') {
  const o = await startProxy(originatorSnapshot(local, peerSan));
  o.proxy.secrets.set('default', await issue(sa));
  o.proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
  return o;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-hbone-listeners-'));
  ca = await CertificateAuthority.open({ stateDir: dir });
  app = await startUpstream('reviews');
  terminator = await startProxy(terminatorSnapshot());
  terminator.proxy.secrets.set('default', await issue('bookinfo-reviews'));
  terminator.proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
  terminator.proxy.observe({ onHttpRequest: (r) => seen.push(r) });
});

after(async () => {
  await terminator?.proxy.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a request crosses HBONE: tunnelled by the originator, terminated into an internal listener with the peer identity', async () => {
  const o = await originator('bookinfo-productpage', `${POD.address}:${POD.port}`);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await request(o.port('outbound'), { path: `/reviews/${i}` });
      assert.equal(r.status, 200, r.body);
      assert.equal(app.requests.at(-1)!.url, `/reviews/${i}`);
    }
    const last = seen.at(-1)!;
    assert.equal(last.peerPrincipal, 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage', 'the internal listener sees the tunnel\'s client');
    assert.equal(last.connectionSecurity, 'mutual_tls');
    // One TLS session carried every tunnel (HBONE pools its connections).
    assert.equal(terminator.proxy.listenerList().find((l) => l.name === 'connect_terminate')!.counters.ssl_handshake, 1);
  } finally {
    await o.proxy.close();
  }
});

test('the authority is the destination: an address the terminator does not serve matches no chain', async () => {
  const o = await originator('bookinfo-productpage', '10.244.0.8:9080');
  try {
    const r = await request(o.port('outbound'), { path: '/reviews/0' });
    assert.equal(r.status, 503, 'the internal listener refused a destination it has no chain for');
  } finally {
    await o.proxy.close();
  }
});

test('the originator checks the terminator\'s identity: another expected SAN never connects', async () => {
  const o = await originator('bookinfo-productpage', `${POD.address}:${POD.port}`, 'spiffe://cluster.local/ns/default/sa/someone-else');
  try {
    const r = await request(o.port('outbound'), { path: '/reviews/0' });
    assert.equal(r.status, 503);
    assert.equal(o.proxy.cluster('connect_originate')!.counters.upstream_cx_connect_fail >= 1, true);
  } finally {
    await o.proxy.close();
  }
});
