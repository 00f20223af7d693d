// Transparent capture of every protocol in `trellis up --network netns`: clients inside a pod's namespace with no proxy
// setting at all — a raw TCP client, a gRPC client, TLS clients — go through their sidecar, and VirtualService `tcp`
// and `tls` routes and DestinationRule TLS origination apply, as they do on Istio's sidecars.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { istioSamplesDir } from '../../samples.js';
import { LocalMesh } from '../local-mesh.js';
import { netnsAvailability } from '../network-mode.js';

const netns = netnsAvailability();
const EXT_AUTHZ_PROTO = fileURLToPath(new URL('../../apps/ext-authz-proto.js', import.meta.url));

const tcpEcho = (version: string, prefix: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: tcp-echo-${version}}
spec:
  selector: {matchLabels: {app: tcp-echo, version: ${version}}}
  template:
    metadata: {labels: {app: tcp-echo, version: ${version}}}
    spec:
      containers:
      - name: tcp-echo
        image: docker.io/istio/tcp-echo-server:1.2
        args: ["9000", "${prefix}"]
        ports: [{containerPort: 9000}]
`;

/** A TLS server outside the mesh (no sidecar): the tcp-echo stand-in with a certificate, naming the SNI it saw. */
const tlsBackend = (name: string, certDir: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  ports: [{name: tls, port: 8443}]
  selector: {app: ${name}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
      annotations: {sidecar.istio.io/inject: "false"}
    spec:
      containers:
      - name: server
        image: docker.io/istio/tcp-echo-server:1.2
        args: ["8443", "${name}"]
        env: [{name: TLS_CERT_FILE, value: ${certDir}/cert.pem}, {name: TLS_KEY_FILE, value: ${certDir}/key.pem}]
        ports: [{containerPort: 8443}]
`;

/** A WebSocket-style server (the upgrade, then every byte echoed), run as a pod through the image map. */
const WS_ECHO = `require('http').createServer((q, s) => s.end('use an upgrade')).on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  socket.pipe(socket);
}).listen(8080, '0.0.0.0', () => console.log('ws-echo: listening on 0.0.0.0:8080'));
`;

const WS_MANIFESTS = `apiVersion: v1
kind: Service
metadata: {name: ws-echo}
spec:
  ports: [{name: http, port: 8080}]
  selector: {app: ws-echo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ws-echo}
spec:
  selector: {matchLabels: {app: ws-echo}}
  template:
    metadata: {labels: {app: ws-echo}}
    spec: {containers: [{name: ws-echo, image: example.com/ws-echo:1, ports: [{containerPort: 8080}]}]}
`;

const MANIFESTS = `apiVersion: v1
kind: Service
metadata: {name: tcp-echo, labels: {app: tcp-echo}}
spec:
  ports: [{name: tcp, port: 9000}]
  selector: {app: tcp-echo}
---
${tcpEcho('v1', 'one')}---
${tcpEcho('v2', 'two')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tcp-echo}
spec:
  host: tcp-echo
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

describe('capture of TCP, gRPC and TLS in network namespaces', { skip: netns.ok ? false : netns.reason }, () => {
  let dir: string;
  let certDir: string;
  let mesh: LocalMesh;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-capture-'));
    certDir = mkdtempSync(join(tmpdir(), 'trellis-capture-cert-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=tls-a', '-addext', 'subjectAltName=DNS:tls-a.default.svc.cluster.local,DNS:origin.example', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
    writeFileSync(join(dir, 'apps.yaml'), `${MANIFESTS}---\n${tlsBackend('tls-a', certDir)}---\n${tlsBackend('tls-b', certDir)}---\n${WS_MANIFESTS}`);
    writeFileSync(join(certDir, 'ws-echo.js'), WS_ECHO);
    writeFileSync(join(certDir, 'images.yaml'), `images:\n  ws-echo: {program: ${join(certDir, 'ws-echo.js')}}\n`);
    copyFileSync(join(istioSamplesDir(), 'extauthz', 'ext-authz.yaml'), join(dir, 'ext-authz.yaml'));
    copyFileSync(join(istioSamplesDir(), 'sleep', 'sleep.yaml'), join(dir, 'sleep.yaml'));
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: 40, network: 'netns', imageMapFile: join(certDir, 'images.yaml'), log: (l) => logs.push(l) });
    await mesh.waitReady(60_000);
  });

  after(async () => {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(certDir, { recursive: true, force: true });
  });

  const pod = (prefix: string) => mesh.podPlans().find((p) => p.name.startsWith(prefix))!;

  /** Runs a Node script inside the sleep pod's namespace with an environment of PATH only: no proxy variable. */
  async function inSleep(script: string): Promise<string> {
    const sleep = pod('sleep-');
    const c = mesh.net!.command(`${sleep.namespace}/${sleep.name}`, process.execPath, ['--input-type=module', '-e', script], 'app');
    try {
      return (await promisify(execFile)(c.command, c.args, { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })).stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`client failed: ${e.stderr || e.stdout || String(err)}\n${logs.slice(-20).join('\n')}`);
    }
  }

  async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const stats = async (prefix: string) => (await fetch(`http://${pod(prefix).podIP}:15020/stats/prometheus`)).text();

  /** Opens `n` TCP connections to tcp-echo:9000, each sending one line; the replies. */
  const tcpReplies = (n: number) =>
    inSleep(`import net from 'node:net';
const out = [];
for (let i = 0; i < ${n}; i++) {
  out.push(await new Promise((resolve, reject) => {
    const s = net.connect({ host: 'tcp-echo', port: 9000 }, () => s.write('ping\\n'));
    s.setEncoding('utf8');
    s.once('data', (d) => { resolve(d.trim()); s.destroy(); });
    s.once('error', reject);
  }));
}
console.log(JSON.stringify(out));`).then((o) => JSON.parse(o) as string[]);

  test('a raw TCP client reaches tcp-echo through both sidecars over mutual TLS; a VirtualService tcp route moves it to v2', async () => {
    const first = await tcpReplies(8);
    assert.ok(first.every((r) => r === 'one ping' || r === 'two ping'), JSON.stringify(first));
    // Counted by the server's sidecar: mutual TLS, the client's identity from its certificate.
    const fromSleep = /istio_tcp_connections_opened_total\{reporter="destination",[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep"[^}]*connection_security_policy="mutual_tls"/;
    await until('tcp-echo to count mutual TLS connections from sleep', async () => fromSleep.test((await stats('tcp-echo-v1')) + (await stats('tcp-echo-v2'))));
    writeFileSync(join(dir, 'tcp-route.yaml'), `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo}
spec:
  hosts: [tcp-echo]
  tcp:
  - match: [{port: 9000}]
    route: [{destination: {host: tcp-echo, port: {number: 9000}, subset: v2}}]
`);
    await until('the tcp route to v2', async () => (await tcpReplies(6)).every((r) => r === 'two ping'));
  });

  /** gRPC calls from sleep to ext-authz that sleep's sidecar counted (ext-authz, as Istio's sample has it, has no sidecar). */
  const grpcCalls = async () => {
    let n = 0;
    for (const l of (await stats('sleep-')).split('\n')) {
      if (l.startsWith('istio_requests_total{reporter="source"') && l.includes('request_protocol="grpc"') && l.includes('destination_service="ext-authz.default.svc.cluster.local"')) n += Number(l.slice(l.lastIndexOf(' ') + 1));
    }
    return n;
  };

  test('a gRPC client with no proxy settings calls ext-authz:9000 through its sidecar (HTTP/2 captured and routed)', async () => {
    const before = await grpcCalls();
    const out = await inSleep(`import * as grpc from '${join(fileURLToPath(new URL('../../../node_modules/@grpc/grpc-js/build/src/index.js', import.meta.url)))}';
const { authorizationService } = await import('${EXT_AUTHZ_PROTO}');
const Client = authorizationService();
const c = new Client('ext-authz:9000', grpc.credentials.createInsecure());
const check = (allow) => new Promise((resolve) => c.Check({ attributes: { request: { http: { method: 'GET', path: '/', host: 'x', headers: { 'x-ext-authz': allow } } } } }, (err, res) => resolve(err ? 'error ' + err.code + ' ' + err.details : String(res.status?.code ?? 0))));
console.log(await check('allow'), await check('deny'));
c.close();`);
    assert.equal(out.trim(), '0 7', 'allowed (OK), then denied (PERMISSION_DENIED) by the ext-authz server itself');
    await until("sleep's sidecar to count both gRPC calls", async () => (await grpcCalls()) >= before + 2);
  });

  test('a WebSocket upgrade goes through both sidecars and the upgraded stream carries bytes both ways', async () => {
    const out = await inSleep(`import net from 'node:net';
const s = net.connect({ host: 'ws-echo', port: 8080 }, () => s.write('GET /chat HTTP/1.1\\r\\nHost: ws-echo:8080\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'));
let got = '';
s.setEncoding('utf8');
s.on('data', (d) => {
  got += d;
  if (got.includes('\\r\\n\\r\\n') && !got.includes('ping-pong')) s.write('ping-pong');
  if (got.includes('ping-pong')) { console.log(JSON.stringify(got.split('\\r\\n')[0] + ' … ' + got.slice(got.indexOf('\\r\\n\\r\\n') + 4))); s.destroy(); }
});
s.on('error', (e) => console.log('error ' + e.code));`);
    assert.equal(JSON.parse(out), 'HTTP/1.1 101 Switching Protocols … ping-pong');
  });

  /** One TLS connection to tls-a:8443 (or another host) with a server name; the server's reply. */
  const tlsReply = (host: string, servername: string, port = 8443) =>
    inSleep(`import tls from 'node:tls';
const s = tls.connect({ host: '${host}', port: ${port}, servername: '${servername}', rejectUnauthorized: false }, () => s.write('hi\\n'));
s.setEncoding('utf8');
s.once('data', (d) => { console.log(d.trim()); s.destroy(); });
s.once('error', (e) => { console.log('error ' + e.code); });`).then((o) => o.trim());

  test('TLS passthrough by SNI: the sidecar routes a TLS client by its server name, and a VirtualService tls route by sniHosts', async () => {
    assert.equal(await tlsReply('tls-a', 'tls-a.default.svc.cluster.local'), 'tls-a sni=tls-a.default.svc.cluster.local hi');
    writeFileSync(join(dir, 'tls-route.yaml'), `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tls-a}
spec:
  hosts: [tls-a.default.svc.cluster.local, b.example.com]
  tls:
  - match: [{port: 8443, sniHosts: [b.example.com]}]
    route: [{destination: {host: tls-b.default.svc.cluster.local, port: {number: 8443}}}]
`);
    // The client still dials tls-a's ClusterIP; its server name alone sends it to tls-b.
    await until('the tls route', async () => (await tlsReply('tls-a', 'b.example.com')) === 'tls-b sni=b.example.com hi');
    assert.equal(await tlsReply('tls-a', 'tls-a.default.svc.cluster.local'), 'tls-a sni=tls-a.default.svc.cluster.local hi');
  });

  test('TLS origination: a plaintext client, a DestinationRule tls SIMPLE with the server CA and SNI, the sidecar speaks TLS', async () => {
    // The sidecar (uid 1337) reads the CA from the run's public folder.
    const ca = join(mesh.net!.publicDir(), 'origin-ca.pem');
    copyFileSync(join(certDir, 'cert.pem'), ca);
    writeFileSync(join(dir, 'origination.yaml'), `apiVersion: v1
kind: Service
metadata: {name: tls-a-plain}
spec:
  ports: [{name: tcp, port: 9443, targetPort: 8443}]
  selector: {app: tls-a}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tls-a-plain}
spec:
  host: tls-a-plain
  trafficPolicy:
    tls: {mode: SIMPLE, sni: origin.example, caCertificates: ${ca}}
`);
    const plain = () =>
      inSleep(`import net from 'node:net';
const s = net.connect({ host: 'tls-a-plain', port: 9443 }, () => s.write('hi\\n'));
s.setEncoding('utf8');
s.once('data', (d) => { console.log(d.trim()); s.destroy(); });
s.once('error', (e) => console.log('error ' + e.code));
s.once('close', () => process.exit(0));`).then((o) => o.trim());
    await until('TLS origination', async () => (await plain()) === 'tls-a sni=origin.example hi');
  });
});
