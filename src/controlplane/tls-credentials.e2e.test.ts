// TLS with users' own certificates, end to end over real sockets: an in-process control plane fed YAML (Istio
// resources and Kubernetes Secrets), Trellis proxies connected to it over ADS (Secrets arriving over SDS), and real
// HTTPS servers with certificates from a throwaway PKI.
//   - DestinationRule SIMPLE / MUTUAL from a sidecar to external HTTPS services: CA files or credentialName, SNI,
//     subjectAltNames, insecureSkipVerify, client certificates; wrong CA / SAN / missing client certificate fail (503).
//   - Ingress gateway: HTTPS servers chosen by SNI with certificates from Secrets, MUTUAL, minProtocolVersion,
//     httpsRedirect (301), TLS PASSTHROUGH routed by sniHosts, and Secrets only from the gateway's namespace.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type http from 'node:http';
import type tls from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ControlPlane } from './control-plane.js';
import { MemoryStore } from './store/memory-store.js';
import { AdsClient } from '../xds/ads-client.js';
import { referencedNames } from '../xds/references.js';
import { nodeId } from '../xds/node.js';
import { TypeUrl } from '../xds/resource.js';
import { TrellisProxy } from '../proxy/proxy.js';
import type { EnvoySnapshot } from '../xds/envoy/index.js';
import { controlPlaneSecrets } from '../proxy/tls/sds-names.js';
import { TestPki, type Issued } from '../proxy/tls/pki-testing.js';
import { request, startUpstream, waitFor } from '../proxy/testing.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A real HTTPS server answering with what it saw of the TLS session: the SNI and the client certificate's CN. */
async function httpsBackend(name: string, id: Issued, clientCa?: string): Promise<number> {
  const server = https.createServer({ cert: id.cert, key: id.key, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, (req, res) => {
    const s = req.socket as tls.TLSSocket;
    const peer = s.getPeerCertificate();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ backend: name, sni: (s as unknown as { servername?: string }).servername ?? null, client: peer && 'subject' in peer && peer.subject ? peer.subject.CN : null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return (server.address() as AddressInfo).port;
}

/** A control plane on 127.0.0.1 with this YAML, and a way to connect Trellis proxies to it over ADS (with SDS). */
async function mesh(yaml: string) {
  const store = new MemoryStore();
  assert.deepEqual(store.applyYaml(yaml, 'test.yaml').map((d) => `${d.code} ${d.message}`), []);
  const cp = new ControlPlane({ store, debounceMs: 10, log: () => {} });
  const xds = await cp.listen('127.0.0.1', 0);
  cleanups.push(() => cp.close());
  const connect = async (role: 'sidecar' | 'router', pod: string, namespace: string, labels: Record<string, string>, metadata: Record<string, unknown>) => {
    const proxy = new TrellisProxy({ listenerDrainMs: 100 });
    const id = nodeId(role, '127.0.0.1', pod, namespace);
    const client = new AdsClient({
      address: `127.0.0.1:${xds}`,
      node: { id, cluster: pod, metadata: { NAMESPACE: namespace, LABELS: labels, NAME: pod, INSTANCE_IPS: '127.0.0.1', ...metadata } },
      log: () => {},
      completeTimeoutMs: 300,
      // As the proxy program does: `kubernetes://` secrets come from the control plane, the workload identity would not.
      follow: (s) => ({ ...referencedNames(s), secrets: controlPlaneSecrets(referencedNames(s).secrets) }),
      onUpdate: async (snap) => {
        proxy.secrets.applySds(snap.secrets);
        await proxy.apply(snap as unknown as EnvoySnapshot);
      },
    });
    client.start();
    cleanups.push(async () => (client.close(), await proxy.close()));
    await waitFor(() => client.applied > 0, 10_000, `${pod} configured`);
    return { proxy, id, client, port: (listener: string) => proxy.listenerAddress(listener)!.port };
  };
  return { cp, connect };
}

test('DestinationRule SIMPLE and MUTUAL: a sidecar originates TLS to external HTTPS services with CA files or Secrets over SDS', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-dr-tls-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await TestPki.create('External Root');
  const stranger = await TestPki.create('Some Other Root');
  const server = await pki.issue(['api.example.com']);
  const client = await pki.issue(['sleep.default'], 'client');
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const caFile = file('ca.pem', pki.ca);
  const otherCaFile = file('other-ca.pem', stranger.ca);
  const clientCert = file('client.pem', client.cert);
  const clientKey = file('client-key.pem', client.key);
  const simple = await httpsBackend('simple', server);
  const mutual = await httpsBackend('mutual', server, pki.ca);

  const hosts: Array<[string, number, string]> = [];
  const entry = (host: string, port: number, tlsYaml: string, level: 'rule' | 'port' = 'rule') => {
    hosts.push([host, port, tlsYaml]);
    const tp = level === 'rule' ? `  trafficPolicy:\n    tls:\n${tlsYaml}` : `  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 8443}\n      tls:\n${tlsYaml.replace(/^/gm, '  ')}`;
    return `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: ${host.split('.')[0]}, namespace: default}
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 8443, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${port}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ${host.split('.')[0]}, namespace: default}
spec:
  host: ${host}
${tp}
---
`;
  };
  const yaml = [
    entry('simple-file.example.com', simple, `      mode: SIMPLE\n      caCertificates: ${caFile}\n`),
    entry('simple-san.example.com', simple, `      mode: SIMPLE\n      caCertificates: ${caFile}\n      sni: api.example.com\n      subjectAltNames: [api.example.com]\n`, 'port'),
    entry('wrong-ca.example.com', simple, `      mode: SIMPLE\n      caCertificates: ${otherCaFile}\n`),
    entry('wrong-san.example.com', simple, `      mode: SIMPLE\n      caCertificates: ${caFile}\n      subjectAltNames: [billing.example.com]\n`),
    entry('skip-verify.example.com', simple, `      mode: SIMPLE\n      insecureSkipVerify: true\n`),
    entry('simple-cred.example.com', simple, `      mode: SIMPLE\n      credentialName: api-ca\n      sni: api.example.com\n`),
    entry('foreign-cred.example.com', simple, `      mode: SIMPLE\n      credentialName: foreign-ca\n`),
    entry('mutual-file.example.com', mutual, `      mode: MUTUAL\n      caCertificates: ${caFile}\n      clientCertificate: ${clientCert}\n      privateKey: ${clientKey}\n`),
    entry('mutual-cred.example.com', mutual, `      mode: MUTUAL\n      credentialName: client-cred\n`),
    entry('no-client-cert.example.com', mutual, `      mode: SIMPLE\n      caCertificates: ${caFile}\n`),
    // Secrets: a generic one with only a CA (stringData), a kubernetes.io/tls one with a client certificate, and one
    // in another namespace that a proxy in `default` must never receive.
    `apiVersion: v1
kind: Secret
metadata: {name: api-ca, namespace: default}
type: Opaque
stringData:
  cacert: |
${pki.ca.replace(/^/gm, '    ')}
---
apiVersion: v1
kind: Secret
metadata: {name: client-cred, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(client.cert)}
  tls.key: ${b64(client.key)}
  ca.crt: ${b64(pki.ca)}
---
apiVersion: v1
kind: Secret
metadata: {name: foreign-ca, namespace: other}
type: Opaque
data:
  cacert: ${b64(pki.ca)}
`,
  ].join('');
  const { cp, connect } = await mesh(yaml);
  const sleep = await connect('sidecar', 'sleep-1', 'default', { app: 'sleep' }, { OUTBOUND_PORT: 0 });
  const outbound = sleep.port('virtualOutbound');
  const get = (host: string) => request(outbound, { path: `http://${host}:8443/`, headers: { host: `${host}:8443` } });

  // Only the Secrets of the proxy's own namespace travel over SDS, under Istio's names.
  await waitFor(() => sleep.client.snapshot().secrets.length >= 3, 5_000, 'secrets over SDS');
  const sent = (cp.ads.configFor(sleep.id)!.resources.get(TypeUrl.Secret) ?? []).map((r) => r.name).sort();
  assert.deepEqual(sent, ['kubernetes://api-ca-cacert', 'kubernetes://client-cred', 'kubernetes://client-cred-cacert']);

  const ok = async (host: string, expect: { sni: string; client?: string }) => {
    const r = await get(host);
    assert.equal(r.status, 200, `${host}: ${r.status} ${r.body}`);
    const seen = JSON.parse(r.body) as { sni: string; client: string | null };
    assert.equal(seen.sni, expect.sni, host);
    assert.equal(seen.client, expect.client ?? null, host);
  };
  await ok('simple-file.example.com', { sni: 'simple-file.example.com' }); // SNI defaults to the host
  await ok('simple-san.example.com', { sni: 'api.example.com' }); // port-level settings, sni and a matching SAN
  await ok('skip-verify.example.com', { sni: 'skip-verify.example.com' });
  await ok('simple-cred.example.com', { sni: 'api.example.com' }); // CA from a Secret over SDS
  await ok('mutual-file.example.com', { sni: 'mutual-file.example.com', client: 'sleep.default' });
  await ok('mutual-cred.example.com', { sni: 'mutual-cred.example.com', client: 'sleep.default' });
  for (const host of ['wrong-ca.example.com', 'wrong-san.example.com', 'foreign-cred.example.com', 'no-client-cert.example.com']) {
    const r = await get(host);
    assert.equal(r.status, 503, `${host} should fail: ${r.status} ${r.body}`);
    assert.match(r.body, /upstream connect error|reset/, host);
  }
});

test('Ingress gateway: HTTPS servers by SNI with Secret certificates, MUTUAL, minProtocolVersion, httpsRedirect, PASSTHROUGH', { timeout: 60_000 }, async () => {
  const pki = await TestPki.create('Gateway Root');
  const a = await pki.issue(['a.example.com']);
  const b = await pki.issue(['b.example.com']);
  const m = await pki.issue(['m.example.com']);
  const p = await pki.issue(['p.example.com']);
  const x = await pki.issue(['x.example.com']);
  const user = await pki.issue(['user-1'], 'client');
  const web = await startUpstream('web');
  cleanups.push(() => web.close());
  const passthrough = await httpsBackend('passthrough', p);
  const yaml = `apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a.example.com]
    tls: {httpsRedirect: true}
  - port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-cred}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: SIMPLE, credentialName: b-cred, minProtocolVersion: TLSV1_3}
  - port: {number: 443, name: https-m, protocol: HTTPS}
    hosts: [m.example.com]
    tls: {mode: MUTUAL, credentialName: m-cred}
  - port: {number: 443, name: https-x, protocol: HTTPS}
    hosts: [x.example.com]
    tls: {mode: SIMPLE, credentialName: x-cred}
  - port: {number: 443, name: tls-p, protocol: TLS}
    hosts: [p.example.com]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [a.example.com, b.example.com, m.example.com, x.example.com]
  gateways: [istio-system/gw]
  http:
  - route:
    - destination: {host: web.internal, port: {number: 80}}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: passthrough, namespace: default}
spec:
  hosts: [p.example.com]
  gateways: [istio-system/gw]
  tls:
  - match: [{port: 443, sniHosts: [p.example.com]}]
    route:
    - destination: {host: p.internal, port: {number: 9443}}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: web, namespace: default}
spec:
  hosts: [web.internal]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${web.port}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: p, namespace: default}
spec:
  hosts: [p.internal]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 9443, name: tls, protocol: TLS}]
  endpoints: [{address: 127.0.0.1, ports: {tls: ${passthrough}}}]
---
apiVersion: v1
kind: Secret
metadata: {name: a-cred, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: ${b64(a.cert)}, tls.key: ${b64(a.key)}}
---
apiVersion: v1
kind: Secret
metadata: {name: b-cred, namespace: istio-system}
type: Opaque
data: {cert: ${b64(b.cert)}, key: ${b64(b.key)}}
---
apiVersion: v1
kind: Secret
metadata: {name: m-cred, namespace: istio-system}
type: kubernetes.io/tls
data: {tls.crt: ${b64(m.cert)}, tls.key: ${b64(m.key)}, ca.crt: ${b64(pki.ca)}}
---
apiVersion: v1
kind: Secret
metadata: {name: x-cred, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${b64(x.cert)}, tls.key: ${b64(x.key)}}
`;
  const { connect } = await mesh(yaml);
  const gw = await connect('router', 'istio-ingressgateway-1', 'istio-system', { istio: 'ingressgateway' }, { GATEWAY_PORTS: { '80': 0, '443': 0 } });
  const httpsPort = gw.port('0.0.0.0_443');
  const httpPort = gw.port('0.0.0.0_80');

  const call = (sni: string, opts: Partial<https.RequestOptions> = {}) =>
    new Promise<{ status: number; body: string; cn: string; protocol: string | null }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: httpsPort, servername: sni, ca: pki.ca, path: '/hello', headers: { host: sni }, agent: false, ...opts }, (res: http.IncomingMessage) => {
        const s = res.socket as tls.TLSSocket;
        const cn = String(s.getPeerCertificate().subject?.CN ?? '');
        const protocol = s.getProtocol();
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn, protocol }));
      });
      req.on('error', reject);
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.end();
    });

  // The certificate follows the SNI; the request is routed by the VirtualService behind the chain.
  const ra = await call('a.example.com');
  assert.deepEqual([ra.status, ra.body, ra.cn], [200, 'web', 'a.example.com']);
  const rb = await call('b.example.com');
  assert.deepEqual([rb.status, rb.body, rb.cn, rb.protocol], [200, 'web', 'b.example.com', 'TLSv1.3']);
  // minProtocolVersion TLSV1_3 on b: a TLS 1.2 client is refused, while a (TLS 1.2 ok) is still served over 1.2.
  await assert.rejects(call('b.example.com', { maxVersion: 'TLSv1.2' }));
  assert.equal((await call('a.example.com', { maxVersion: 'TLSv1.2' })).status, 200);
  // MUTUAL: no client certificate, no service; with one from the Secret's CA, served.
  await assert.rejects(call('m.example.com'));
  const rm = await call('m.example.com', { cert: user.cert, key: user.key });
  assert.deepEqual([rm.status, rm.cn], [200, 'm.example.com']);
  // A server name no server has: no filter chain, the connection is closed.
  await assert.rejects(call('nobody.example.com', { checkServerIdentity: () => undefined }));
  // x-cred lives in `default`, not in the gateway's namespace: the gateway never gets it and cannot serve x.
  await assert.rejects(call('x.example.com'));
  // PASSTHROUGH: the gateway does not terminate; the client talks TLS with the backend itself (its certificate).
  const rp = await call('p.example.com');
  assert.equal(rp.status, 200);
  assert.equal(rp.cn, 'p.example.com');
  assert.equal(JSON.parse(rp.body).backend, 'passthrough');
  assert.equal(JSON.parse(rp.body).sni, 'p.example.com');
  // httpsRedirect on the plaintext server: 301 to https, nothing forwarded.
  const before = web.requests.length;
  const redirect = await request(httpPort, { path: '/path?q=1', headers: { host: 'a.example.com' } });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, 'https://a.example.com/path?q=1');
  assert.equal(web.requests.length, before);
});
