// Test helpers: two sidecars (client and server Trellis proxies) doing mutual TLS with certificates their agents
// fetch from Istio's CA API and keep rotating, wired the way `trellis proxy --ca-address` wires them (SDS names
// `default` and `ROOTCA` in the proxy's secret store), in front of a real upstream app.

import tls from 'node:tls';
import type { HttpRequestRecord } from '../proxy/records.js';
import { cla, edsCluster, httpListener, routeConfig, routeTo, startProxy, startUpstream, vhost } from '../proxy/testing.js';
import type { TrellisProxy } from '../proxy/proxy.js';
import type { Identity } from './ca.js';
import type { WorkloadTokens } from './token.js';
import { WorkloadIdentity } from './workload-identity.js';
import type { ClientStackName } from '../xds/client/grpc-channel.js';

const TLS = 'envoy.transport_sockets.tls';
const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

export const productpage: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bookinfo-productpage' };
export const reviews: Identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bookinfo-reviews' };

export interface MtlsPair {
  /** The client sidecar's outbound HTTP listener port (plaintext from the app, mTLS onwards). */
  outboundPort: number;
  /** The server sidecar's inbound port (mTLS only, client certificate required). */
  inboundPort: number;
  client: TrellisProxy;
  server: TrellisProxy;
  clientIdentity: WorkloadIdentity;
  serverIdentity: WorkloadIdentity;
  /** Requests as the server sidecar saw them (peer principal, connection security). */
  records: HttpRequestRecord[];
  close(): Promise<void>;
}

/** Wire a proxy's secret store to a rotating workload identity, as the proxy's agent does. */
export async function attachIdentity(proxy: TrellisProxy, o: { identity: Identity; caAddress: string; caRootPem: string; tokens: WorkloadTokens; ttlSeconds: number; stack?: ClientStackName }): Promise<WorkloadIdentity> {
  const wi = new WorkloadIdentity({
    identity: o.identity,
    caAddress: o.caAddress,
    rootPem: o.caRootPem,
    token: () => o.tokens.issue(o.identity.namespace, o.identity.serviceAccount),
    ttlSeconds: o.ttlSeconds,
    serverName: 'istiod.istio-system.svc',
    stack: o.stack,
  });
  wi.on('rotated', (c) => {
    proxy.secrets.set('default', { certChain: c.certChain, privateKey: c.privateKey });
    proxy.secrets.set('ROOTCA', { trustedCa: c.rootCert });
  });
  await wi.start();
  return wi;
}

export async function startMtlsPair(o: { caAddress: string; caRootPem: string; tokens: WorkloadTokens; ttlSeconds?: number; maxRequestsPerConnection?: number; stack?: ClientStackName }): Promise<MtlsPair> {
  const ttlSeconds = o.ttlSeconds ?? 3600;
  const app = await startUpstream('reviews');
  const inbound = httpListener('inbound', routeConfig('in', [vhost('in', ['*'], [routeTo('inbound|9080||')])]));
  inbound.filterChains![0]!.transportSocket = {
    name: TLS,
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } },
      requireClientCertificate: true,
    },
  };
  const server = await startProxy({ listeners: [inbound], clusters: [edsCluster('inbound|9080||')], endpoints: [cla('inbound|9080||', [{ port: app.port }])] });
  const records: HttpRequestRecord[] = [];
  server.proxy.observe({ onHttpRequest: (r) => records.push(r) });
  const upstreamTls = {
    name: TLS,
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni: 'outbound_.9080_._.reviews.default.svc.cluster.local',
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [{ name: 'default' }],
        combinedValidationContext: { defaultValidationContext: { matchSubjectAltNames: [{ exact: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews' }] }, validationContextSdsSecretConfig: { name: 'ROOTCA' } },
      },
    },
  };
  const client = await startProxy({
    listeners: [httpListener('outbound', routeConfig('out', [vhost('out', ['*'], [routeTo(CLUSTER)])]))],
    clusters: [edsCluster(CLUSTER, { transportSocket: upstreamTls, ...(o.maxRequestsPerConnection ? { maxRequestsPerConnection: o.maxRequestsPerConnection } : {}) })],
    endpoints: [cla(CLUSTER, [{ port: server.port('inbound') }])],
  });
  const opened: Array<{ stop(): void }> = [];
  const close = async () => {
    for (const wi of opened) wi.stop();
    await client.proxy.close();
    await server.proxy.close();
    await app.close();
  };
  try {
    const serverIdentity = await attachIdentity(server.proxy, { ...o, identity: reviews, ttlSeconds });
    opened.push(serverIdentity);
    const clientIdentity = await attachIdentity(client.proxy, { ...o, identity: productpage, ttlSeconds });
    opened.push(clientIdentity);
    return { outboundPort: client.port('outbound'), inboundPort: server.port('inbound'), client: client.proxy, server: server.proxy, clientIdentity, serverIdentity, records, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * One request to the server sidecar straight over TLS, as a mesh client: the certificate chain it served. (The
 * request, with `connection: close`, lets the sidecar close the connection itself.)
 */
export function servedChain(port: number, client: { certChain: string; privateKey: string; rootCert: string }): Promise<tls.DetailedPeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, cert: client.certChain, key: client.privateKey, ca: client.rootCert, servername: 'outbound_.9080_._.reviews.default.svc.cluster.local', checkServerIdentity: () => undefined, ALPNProtocols: ['http/1.1'] }, () => {
      const peer = s.getPeerCertificate(true);
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString()));
      s.on('end', () => (/^HTTP\/1\.1 200/.test(got) ? resolve(peer) : reject(new Error(`unexpected answer: ${got.slice(0, 100)}`))));
      s.write('GET / HTTP/1.1\r\nhost: reviews\r\nconnection: close\r\n\r\n');
    });
    s.on('error', reject);
    s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
  });
}
