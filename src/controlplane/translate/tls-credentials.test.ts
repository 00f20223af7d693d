// Translation of users' TLS settings: DestinationRule SIMPLE/MUTUAL (files, credentialName, per port), Gateway
// HTTPS/TLS servers (SNI chains, SDS names, versions, ISTIO_MUTUAL, PASSTHROUGH), Secrets served only to proxies of
// their namespace — and the output encodes to Envoy's protobuf and is accepted by Trellis's proxy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPaths, loadText } from '../../config/loader.js';
import type { Resource } from '../../config/resource.js';
import { TrellisProxy } from '../../proxy/proxy.js';
import type { EnvoySnapshot } from '../../xds/envoy/index.js';
import { istioSamplesDir } from '../../samples.js';
import { TypeUrl, type ProxyNode } from '../../xds/resource.js';
import { encodeResource } from '../../xds/wire.js';
import { ServiceRegistry } from '../registry/service-registry.js';
import { MeshConfigGenerator } from './generator.js';
import { pushContextOf } from './testing.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function generator(resources: Resource[]): MeshConfigGenerator {
  const registry = new ServiceRegistry();
  registry.setResources(resources);
  return new MeshConfigGenerator(pushContextOf(resources, registry));
}

function fromYaml(yaml: string): MeshConfigGenerator {
  const { resources, errors } = loadText(yaml, 'inline.yaml');
  assert.deepEqual(errors, []);
  return generator(resources);
}

const sidecar = (ns = 'default'): ProxyNode => ({ id: `sidecar~127.0.0.1~sleep-1.${ns}~${ns}.svc.cluster.local`, cluster: 'sleep', metadata: { NAMESPACE: ns, LABELS: { app: 'sleep' }, OUTBOUND_PORT: 0 } });
const gateway = (ns = 'istio-system'): ProxyNode => ({ id: `router~127.0.0.1~istio-ingressgateway-1.${ns}~${ns}.svc.cluster.local`, cluster: 'gw', metadata: { NAMESPACE: ns, LABELS: { istio: 'ingressgateway' }, GATEWAY_PORTS: { '80': 0, '443': 0 } } });

function output(gen: MeshConfigGenerator, node: ProxyNode) {
  const r = gen.generate(node);
  for (const list of r.values()) for (const x of list) encodeResource(x); // valid Envoy protobuf, Secrets included
  const list = (t: string) => (r.get(t) ?? []).map((x) => x.value as Json);
  return { listeners: list(TypeUrl.Listener), routes: list(TypeUrl.RouteConfiguration), clusters: list(TypeUrl.Cluster), endpoints: list(TypeUrl.ClusterLoadAssignment), secrets: list(TypeUrl.Secret) };
}

async function accepted(o: ReturnType<typeof output>): Promise<void> {
  const proxy = new TrellisProxy();
  try {
    proxy.secrets.applySds(o.secrets);
    await proxy.apply({ listeners: o.listeners, routes: o.routes, clusters: o.clusters, endpoints: o.endpoints } as unknown as EnvoySnapshot);
  } finally {
    await proxy.close();
  }
}

test("Istio's egress sample (TLS origination for www.googleapis.com on 443) translates and is accepted", async () => {
  const { resources, errors } = await loadPaths([`${istioSamplesDir()}/bookinfo/networking/egress-rule-google-apis.yaml`]);
  assert.deepEqual(errors, []);
  const o = output(generator(resources as Resource[]), sidecar());
  const tls = o.clusters.find((c) => c.name === 'outbound|443||www.googleapis.com')!.transportSocket;
  assert.equal(tls.typedConfig['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
  assert.equal(tls.typedConfig.sni, 'www.googleapis.com');
  assert.equal(o.clusters.find((c) => c.name === 'outbound|80||www.googleapis.com')!.transportSocket, undefined);
  await accepted(o);
});

const secret = (name: string, ns: string) => `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${ns}}
type: kubernetes.io/tls
stringData: {tls.crt: "-----BEGIN CERTIFICATE-----", tls.key: "-----BEGIN PRIVATE KEY-----", ca.crt: "-----BEGIN CERTIFICATE-----"}
---
`;

test('DestinationRule credentialName: SDS names, per-port and per-subset modes, Secrets only from the proxy namespace', () => {
  const gen = fromYaml(`apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: db, namespace: istio-system}
spec:
  hosts: [db.example.com]
  resolution: DNS
  ports: [{number: 5443, name: tcp, protocol: TCP}, {number: 8443, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: db, namespace: istio-system}
spec:
  host: db.example.com
  trafficPolicy:
    tls: {mode: MUTUAL, credentialName: db-client, subjectAltNames: [db.example.com]}
    portLevelSettings:
    - port: {number: 8443}
      tls: {mode: SIMPLE, caCertificates: /etc/ca.pem, sni: api.db.example.com}
  subsets:
  - name: insecure
    trafficPolicy:
      tls: {mode: SIMPLE, insecureSkipVerify: true}
---
${secret('db-client', 'default')}${secret('db-client', 'team-b')}`);
  const o = output(gen, sidecar('default'));
  const ctx = (name: string) => o.clusters.find((c) => c.name === name)!.transportSocket.typedConfig;
  const mutual = ctx('outbound|5443||db.example.com');
  assert.equal(mutual.sni, 'db.example.com');
  assert.deepEqual(mutual.commonTlsContext.tlsCertificateSdsSecretConfigs.map((s: Json) => s.name), ['kubernetes://db-client']);
  assert.equal(mutual.commonTlsContext.combinedValidationContext.validationContextSdsSecretConfig.name, 'kubernetes://db-client-cacert');
  assert.deepEqual(mutual.commonTlsContext.combinedValidationContext.defaultValidationContext.matchSubjectAltNames, [{ exact: 'db.example.com' }]);
  const simple = ctx('outbound|8443||db.example.com');
  assert.equal(simple.sni, 'api.db.example.com');
  assert.deepEqual(simple.commonTlsContext, { validationContext: { trustedCa: { filename: '/etc/ca.pem' } } });
  assert.deepEqual(ctx('outbound|5443|insecure|db.example.com').commonTlsContext, { validationContext: { trustChainVerification: 'ACCEPT_UNTRUSTED' } });
  // The rule lives in istio-system; each client gets the Secret of its own namespace, and nobody else's.
  assert.deepEqual(o.secrets.map((s) => s.name).sort(), ['kubernetes://db-client', 'kubernetes://db-client-cacert']);
  assert.equal(Buffer.from(o.secrets.find((s) => s.name === 'kubernetes://db-client')!.tlsCertificate.certificateChain.inlineBytes, 'base64').toString(), '-----BEGIN CERTIFICATE-----');
  assert.deepEqual(output(gen, sidecar('team-c')).secrets, []);
});

test('Gateway servers: SNI filter chains per HTTPS server, SDS certificates, versions, ISTIO_MUTUAL, PASSTHROUGH, redirect', async () => {
  const gen = fromYaml(`apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: true}
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: ["default/a.example.com", "*.a.example.com"]
    tls: {mode: SIMPLE, credentialName: a-cred, minProtocolVersion: TLSV1_3, cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]}
  - port: {number: 443, name: https-m, protocol: HTTPS}
    hosts: [m.example.com]
    tls: {mode: MUTUAL, credentialName: m-cred}
  - port: {number: 443, name: https-i, protocol: HTTPS}
    hosts: [i.example.com]
    tls: {mode: ISTIO_MUTUAL}
  - port: {number: 443, name: tls-p, protocol: TLS}
    hosts: [p.example.com]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [a.example.com, m.example.com, i.example.com]
  gateways: [istio-system/gw]
  http:
  - route: [{destination: {host: web.example.com, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: p, namespace: default}
spec:
  hosts: [p.example.com]
  gateways: [istio-system/gw]
  tls:
  - match: [{sniHosts: [p.example.com]}]
    route: [{destination: {host: p.example.com, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec:
  hosts: [web.example.com, p.example.com]
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}]
---
${secret('a-cred', 'istio-system')}${secret('m-cred', 'istio-system')}`);
  const o = output(gen, gateway());
  const l443 = o.listeners.find((l) => l.name === '0.0.0.0_443')!;
  assert.deepEqual(l443.listenerFilters.map((f: Json) => f.name), ['envoy.filters.listener.tls_inspector']);
  const chains = l443.filterChains as Json[];
  assert.deepEqual(chains.map((c) => c.filterChainMatch?.serverNames), [['a.example.com', '*.a.example.com'], ['m.example.com'], ['i.example.com'], ['p.example.com']]);
  const [a, m, i, p] = chains.map((c) => c.transportSocket?.typedConfig);
  assert.equal(a.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name, 'kubernetes://a-cred');
  assert.deepEqual(a.commonTlsContext.tlsParams, { tlsMinimumProtocolVersion: 'TLSv1_3', tlsMaximumProtocolVersion: 'TLSv1_3', cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256'] });
  assert.equal(a.requireClientCertificate, false);
  assert.equal(m.requireClientCertificate, true);
  assert.equal(m.commonTlsContext.combinedValidationContext.validationContextSdsSecretConfig.name, 'kubernetes://m-cred-cacert');
  assert.deepEqual([i.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name, i.commonTlsContext.combinedValidationContext.validationContextSdsSecretConfig.name, i.requireClientCertificate], ['default', 'ROOTCA', true]);
  assert.equal(p, undefined); // passthrough: not terminated
  assert.equal(chains[3]!.filters[0].typedConfig.cluster, 'outbound|443||p.example.com');
  assert.equal(chains[0]!.filters[0].typedConfig.rds.routeConfigName, 'https.443.https-a.gw.istio-system');
  const https = o.routes.find((r) => r.name === 'https.443.https-a.gw.istio-system')!;
  assert.deepEqual(https.virtualHosts.map((v: Json) => v.name), ['a.example.com:443']);
  const http80 = o.routes.find((r) => r.name === 'http.80')!;
  assert.ok(http80.virtualHosts.every((v: Json) => v.routes.length === 1 && v.routes[0].redirect?.httpsRedirect === true));
  assert.deepEqual(o.secrets.map((s) => s.name).sort(), ['kubernetes://a-cred', 'kubernetes://m-cred', 'kubernetes://m-cred-cacert']);
  await accepted(o);
});
