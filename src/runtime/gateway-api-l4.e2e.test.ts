// TLSRoute and TCPRoute end to end on `trellis up`: a Kubernetes Gateway with a TCP listener, a TLS passthrough
// listener and a TLS terminating one, in front of Istio's TCP echo sample (two versions, prefixes "one" and "two", as
// Istio's TCP traffic-shifting task) and an echo backend that terminates TLS itself. Real connections through the
// Gateway's proxy: TCP weights within statistical tolerance, passthrough by SNI to the backend's own certificate, and
// the gateway's certificate in front of plain TCP.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { GatewayStatus, ObjectStatus, RouteStatus } from '../controlplane/translate/gateway-api/status.js';
import { tlsSecretYaml } from '../controlplane/translate/gateway-api/testing.js';
import { TestPki } from '../proxy/tls/pki-testing.js';
import { untilWith } from './bookinfo-testing.js';
import { LocalMesh } from './local-mesh.js';

let dir: string;
let mesh: LocalMesh;
let pki: TestPki;
const logs: string[] = [];
const until = untilWith(logs);

const tcpEcho = (version: string, prefix: string) => `apiVersion: v1
kind: Service
metadata: {name: tcp-echo-${version}, labels: {app: tcp-echo}}
spec: {ports: [{name: tcp, port: 9000}], selector: {app: tcp-echo, version: ${version}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tcp-echo-${version}}
spec:
  selector: {matchLabels: {app: tcp-echo, version: ${version}}}
  template:
    metadata: {labels: {app: tcp-echo, version: ${version}}}
    spec:
      containers:
      - name: tcp-echo
        image: docker.io/istio/tcp-echo-server:1.3
        args: ["9000", "${prefix}"]
        ports: [{containerPort: 9000}]
---
`;

function manifests(certs: string, gatewayCert: { cert: string; key: string }): string {
  return `apiVersion: v1
kind: Service
metadata: {name: tcp-echo, labels: {app: tcp-echo}}
spec: {ports: [{name: tcp, port: 9000}], selector: {app: tcp-echo}}
---
${tcpEcho('v1', 'one')}${tcpEcho('v2', 'two')}apiVersion: v1
kind: Service
metadata: {name: tls-backend}
spec: {ports: [{name: https, port: 443, targetPort: 8443}], selector: {app: tls-backend}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tls-backend}
spec:
  selector: {matchLabels: {app: tls-backend}}
  template:
    metadata: {labels: {app: tls-backend}}
    spec:
      containers:
      - name: tls-backend
        image: registry.k8s.io/gateway-api/conformance/echo-basic:v20240412-v1.0.0-394-g40c666fd
        env:
        - {name: TLS_SERVER_CERT, value: ${certs}/backend.crt}
        - {name: TLS_SERVER_PRIVKEY, value: ${certs}/backend.key}
        # 3000 (its plain HTTP) is declared but no Service sends to it: the mesh is ready without a listener for it.
        ports: [{containerPort: 8443}, {containerPort: 3000}]
---
${tlsSecretYaml('gateway-cert', 'default', gatewayCert)}apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: l4-gateway}
spec:
  gatewayClassName: istio
  listeners:
  - {name: tcp, port: 31400, protocol: TCP}
  - {name: passthrough, port: 443, protocol: TLS, hostname: "*.pass.example.com", tls: {mode: Passthrough}}
  - {name: terminate, port: 9443, protocol: TLS, hostname: tcp.example.com, tls: {mode: Terminate, certificateRefs: [{name: gateway-cert}]}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp-echo}
spec:
  parentRefs: [{name: l4-gateway, sectionName: tcp}]
  rules: [{backendRefs: [{name: tcp-echo-v1, port: 9000, weight: 80}, {name: tcp-echo-v2, port: 9000, weight: 20}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: secure}
spec:
  parentRefs: [{name: l4-gateway, sectionName: passthrough}]
  hostnames: [secure.pass.example.com]
  rules: [{backendRefs: [{name: tls-backend, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: terminated}
spec:
  parentRefs: [{name: l4-gateway, sectionName: terminate}]
  rules: [{backendRefs: [{name: tcp-echo, port: 9000}]}]
`;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-gwapi-l4-'));
  const certs = join(dir, '.certs');
  mkdirSync(certs);
  pki = await TestPki.create('L4 test CA');
  const backend = await pki.issue(['secure.pass.example.com']);
  writeFileSync(join(certs, 'backend.crt'), backend.cert);
  writeFileSync(join(certs, 'backend.key'), backend.key);
  writeFileSync(join(dir, 'l4.yaml'), manifests(certs, await pki.issue(['tcp.example.com'])));
  mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 54, log: (l) => logs.push(l) });
  await mesh.waitReady(60_000);
  await until('l4-gateway Programmed, its three routes Accepted', async () => {
    const all = (await (await fetch(`http://127.0.0.1:${mesh.debugPort}/debug/status`)).json()) as ObjectStatus[];
    const gw = all.find((o) => o.kind === 'Gateway' && o.name === 'l4-gateway')?.status as GatewayStatus | undefined;
    const routes = all.filter((o) => o.kind === 'TCPRoute' || o.kind === 'TLSRoute').map((o) => o.status as RouteStatus);
    return !!gw && gw.conditions.every((c) => c.status === 'True') && routes.length === 3 && routes.every((r) => r.parents[0]?.conditions.every((c) => c.status === 'True'));
  }, 30_000);
});

after(async () => {
  await mesh?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function address(): string {
  const d = mesh.gatewayApi!.deployments().find((x) => x.key === 'default/l4-gateway');
  assert.ok(d, 'l4-gateway is deployed');
  return d.address;
}

/** One exchange over a connection: send `text`, half-close, read everything back. */
function exchange(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.end(text);
  });
}

const tcp = (port: number, text: string) => exchange(net.connect({ host: address(), port }), text);

function tlsConnect(port: number, servername: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: address(), port, servername, ca: pki.ca });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

test('TCPRoute: connections through the Gateway\'s TCP listener reach tcp-echo v1 and v2 by weight (80/20 within 4σ of 120)', async () => {
  await until('tcp-echo answers through the gateway', async () => /^(one|two) world\n$/.test(await tcp(31400, 'world\n').catch(() => '')));
  const n = 120;
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const answer = await tcp(31400, 'world\n');
    const prefix = /^(one|two) world\n$/.exec(answer)?.[1] ?? `unexpected ${JSON.stringify(answer)}`;
    seen[prefix] = (seen[prefix] ?? 0) + 1;
  }
  assert.equal((seen.one ?? 0) + (seen.two ?? 0), n, JSON.stringify(seen));
  const share = (seen.two ?? 0) / n;
  const sd = Math.sqrt((0.2 * 0.8) / n);
  assert.ok(Math.abs(share - 0.2) <= 4 * sd, `v2 share ${share} not within 4σ (${(4 * sd).toFixed(3)}) of 0.2: ${JSON.stringify(seen)}`);
});

test('TLSRoute passthrough: the SNI picks the route, and the backend\'s own certificate terminates the connection', async () => {
  const socket = await tlsConnect(443, 'secure.pass.example.com');
  const peer = socket.getPeerCertificate();
  assert.match(peer.subjectaltname ?? '', /DNS:secure\.pass\.example\.com/, 'the backend\'s certificate, untouched by the gateway');
  // HTTP/1.0: the answer is the body up to the close, not chunks.
  const answer = await exchange(socket, 'GET /through HTTP/1.0\r\nhost: secure.pass.example.com\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.[01] 200/);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { path: string; pod: string; tls?: { serverName: string } };
  assert.equal(body.path, '/through');
  assert.match(body.pod, /^tls-backend-/);
  assert.equal(body.tls?.serverName, 'secure.pass.example.com', 'the backend saw the client\'s SNI');
  // A name the listener covers but no TLSRoute serves: no filter chain matches, the connection is closed.
  await assert.rejects(tlsConnect(443, 'other.pass.example.com'));
});

test('TLS Terminate with a TCPRoute: the gateway\'s certificate (from its Secret) in front, plain TCP to tcp-echo behind', async () => {
  const socket = await tlsConnect(9443, 'tcp.example.com');
  assert.match(socket.getPeerCertificate().subjectaltname ?? '', /DNS:tcp\.example\.com/);
  assert.match(await exchange(socket, 'world\n'), /^(one|two) world\n$/);
});
