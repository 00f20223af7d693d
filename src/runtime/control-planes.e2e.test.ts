// Two OpenShift Service Mesh control planes side by side in one `trellis up` directory, through real processes and
// sockets: a MultiTenant one (member roll with Bookinfo's namespace and another, STRICT data plane, egress gateway,
// its own CA) and a ClusterWide one (discoverySelectors, the default member selector, REGISTRY_ONLY, certificates from
// a cert-manager-style CA API the test runs). Each proxy is configured only by its own control plane, members join
// and leave live, a namespace claimed twice is reported, and neither mesh trusts the other's certificates.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { CertificateAuthority } from '../ca/ca.js';
import { CaServer } from '../ca/ca-api.js';
import { requestCertificate } from '../ca/ca-client.js';
import { createCsr } from '../ca/csr.js';
import { WorkloadTokens } from '../ca/token.js';
import { BOOKINFO_EXAMPLE } from '../examples.js';
import { LocalMesh } from './local-mesh.js';

const BIN = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
let dir: string;
let stateDir: string;
let mesh: LocalMesh;
let externalCa: { server: CaServer; ca: CertificateAuthority; signed: string[] };
let outsideServer: http.Server;
let outsidePort = 0;
const logs: string[] = [];

/** Istio's Bookinfo from this repository's example, moved into `namespace` with OpenShift Service Mesh's opt-in. */
function bookinfoIn(namespace: string): string {
  const docs = YAML.parseAllDocuments(readFileSync(join(BOOKINFO_EXAMPLE, 'bookinfo.yaml'), 'utf8'));
  return docs
    .map((d) => {
      const o = d.toJS() as { kind: string; metadata: { namespace?: string }; spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
      o.metadata.namespace = namespace;
      if (o.kind === 'Deployment') o.spec!.template!.metadata = { ...o.spec!.template!.metadata, annotations: { 'sidecar.istio.io/inject': 'true' } };
      return YAML.stringify(o);
    })
    .join('---\n');
}

const ns = (name: string, labels: Record<string, string> = {}) => YAML.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }) + '---\n';

function workload(name: string, namespace: string, image: string, opts: { inject?: boolean; port?: number; command?: string[] } = {}): string {
  const labels = { app: name };
  const pod = { metadata: { labels, ...(opts.inject ? { annotations: { 'sidecar.istio.io/inject': 'true' } } : {}) }, spec: { serviceAccountName: name, containers: [{ name, image, ...(opts.command ? { command: opts.command } : {}), ...(opts.port ? { ports: [{ containerPort: opts.port }] } : {}) }] } };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
    ...(opts.port ? [{ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels }, spec: { selector: labels, ports: [{ name: 'http', port: 8000, targetPort: opts.port }] } }] : []),
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { selector: { matchLabels: labels }, template: pod } },
  ]
    .map((o) => YAML.stringify(o))
    .join('---\n');
}

const httpbin = (namespace: string, inject = false) => workload('httpbin', namespace, 'docker.io/mccutchen/go-httpbin:v2.15.0', { inject, port: 8080 });
const sleep = (namespace: string, inject = false) => workload('sleep', namespace, 'docker.io/curlimages/curl:8.16.0', { inject, command: ['/bin/sleep', 'infinity'] });

function meshA(members: string[]): string {
  return (
    ns('mesh-a') +
    YAML.stringify({ apiVersion: 'maistra.io/v2', kind: 'ServiceMeshControlPlane', metadata: { name: 'basic', namespace: 'mesh-a' }, spec: { version: 'v2.4', security: { dataPlane: { mtls: true } } } }) +
    '---\n' +
    YAML.stringify({ apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll', metadata: { name: 'default', namespace: 'mesh-a' }, spec: { members } })
  );
}

function meshB(caPort: number, rootPem: string): string {
  return (
    ns('mesh-b', { mesh: 'b' }) +
    YAML.stringify({
      apiVersion: 'maistra.io/v2',
      kind: 'ServiceMeshControlPlane',
      metadata: { name: 'cw', namespace: 'mesh-b' },
      spec: {
        version: 'v2.4',
        mode: 'ClusterWide',
        meshConfig: { discoverySelectors: [{ matchLabels: { mesh: 'b' } }] },
        security: { certificateAuthority: { type: 'cert-manager', certManager: { address: `127.0.0.1:${caPort}` } } },
        proxy: { networking: { trafficControl: { outbound: { policy: 'REGISTRY_ONLY' } } } },
        gateways: { egress: { enabled: false } },
      },
    }) +
    '---\n' +
    YAML.stringify({ apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll', metadata: { name: 'default', namespace: 'mesh-b' }, spec: { members: ['contested'] } }) +
    '---\n' +
    // What istio-csr publishes: the root workloads of this mesh trust.
    YAML.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: 'mesh-b' }, data: { 'root-cert.pem': rootPem } })
  );
}

/** Istio's egress task, for mesh A: `external.test` leaves through the egress gateway. */
function egressRouting(port: number): string {
  const docs = [
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'external', namespace: 'team-a' }, spec: { hosts: ['external.test'], location: 'MESH_EXTERNAL', resolution: 'STATIC', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: '127.0.0.1', ports: { http: port } }] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'egress', namespace: 'team-a' }, spec: { selector: { istio: 'egressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['external.test'] }] } },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'external-via-egress', namespace: 'team-a' },
      spec: {
        hosts: ['external.test'],
        gateways: ['egress', 'mesh'],
        http: [
          { match: [{ gateways: ['mesh'], port: 80 }], route: [{ destination: { host: 'istio-egressgateway.mesh-a.svc.cluster.local', port: { number: 80 } } }] },
          { match: [{ gateways: ['egress'], port: 80 }], route: [{ destination: { host: 'external.test', port: { number: 80 } } }] },
        ],
      },
    },
  ];
  return docs.map((d) => YAML.stringify(d)).join('---\n');
}

function writeApps(extra: { outsideLabels?: Record<string, string>; members?: string[] } = {}): void {
  const members = extra.members ?? ['bookinfo', 'team-a', 'contested'];
  writeFileSync(join(dir, 'mesh-a.yaml'), meshA(members));
  writeFileSync(join(dir, 'a-apps.yaml'), ns('bookinfo') + bookinfoIn('bookinfo') + '---\n' + ns('team-a') + sleep('team-a', true) + '---\n' + ns('contested', { 'istio-injection': 'enabled', mesh: 'b' }) + httpbin('contested', true) + '---\n' + (members.includes('late') ? ns('late') + sleep('late', true) : ''));
  writeFileSync(join(dir, 'b-apps.yaml'), ns('shop', { 'istio-injection': 'enabled', mesh: 'b' }) + httpbin('shop') + '---\n' + sleep('shop'));
  writeFileSync(join(dir, 'outside.yaml'), ns('outside', extra.outsideLabels ?? {}) + httpbin('outside'));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-two-meshes-'));
  stateDir = join(dir, '.trellis');
  // Mesh B's cert-manager: Istio's CA API with a root of its own, taking the run's workload tokens for mesh B (their
  // key is what `trellis up` gives that control plane, in its state directory).
  const caDir = join(dir, '.external-ca');
  mkdirSync(caDir, { recursive: true });
  const ca = await CertificateAuthority.open({ stateDir: caDir });
  mkdirSync(join(stateDir, 'controlplane-mesh-b', 'ca'), { recursive: true });
  const tokens = WorkloadTokens.open(join(stateDir, 'controlplane-mesh-b', 'ca', 'token-key'));
  const signed: string[] = [];
  const server = new CaServer({ signer: ca, authenticator: tokens, tls: await ca.serverCertificate(['istiod.istio-system.svc', '127.0.0.1']), onSigned: (id) => signed.push(`${id.namespace}/${id.serviceAccount}`), log: () => {} });
  const caPort = await server.listen('127.0.0.1', 0);
  externalCa = { server, ca, signed };
  // An "outside" server the egress gateway reaches.
  outsideServer = http.createServer((req, res) => res.end(JSON.stringify({ outside: true, host: req.headers.host })));
  await new Promise<void>((r) => outsideServer.listen(0, '127.0.0.1', r));
  outsidePort = (outsideServer.address() as AddressInfo).port;
  writeApps();
  writeFileSync(join(dir, 'mesh-b.yaml'), meshB(caPort, ca.trustBundle()));
  writeFileSync(join(dir, 'egress.yaml'), egressRouting(outsidePort));
  mesh = await LocalMesh.start({ dir, stateDir, ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: 50, log: (l) => logs.push(l) });
  await mesh.waitReady(120_000);
});

after(async () => {
  await mesh?.stop();
  await externalCa?.server.close();
  await new Promise<void>((r) => (outsideServer ? outsideServer.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const unit = (namespace: string) => mesh.controlPlanes().find((u) => u.namespace === namespace)!;
const debugUrl = (namespace: string) => `http://127.0.0.1:${unit(namespace).debugPort}`;
const pod = (namespace: string, app: string) => mesh.podPlans().find((p) => p.namespace === namespace && p.labels.app === app)!;

/** The CLI as a user runs it. Asynchronously: the control planes it asks live in this test's process. */
function trellis(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** A request as the pod's app makes it: through its sidecar's outbound port (HTTP_PROXY), or straight when it has none. */
function fromPod(p: { podIP: string; meshed: boolean }, url: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const opts = p.meshed ? { host: p.podIP, port: 15001, path: url } : { host: target.hostname, port: Number(target.port), path: target.pathname };
  return new Promise((resolve, reject) => {
    const req = http.get({ ...opts, headers: { host: target.host }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('each proxy is connected to, and configured by, its own control plane only', async () => {
  const a = await trellis(['proxy-status', '--controlplane', debugUrl('mesh-a')]);
  const b = await trellis(['proxy-status', '--controlplane', debugUrl('mesh-b')]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /productpage-v1-\S+\.bookinfo/);
  assert.match(a.stdout, /sleep-\S+\.team-a/);
  assert.match(a.stdout, /httpbin-\S+\.contested/, 'contested joined the control plane that claimed it first');
  assert.match(a.stdout, /istio-egressgateway-local\.mesh-a/);
  assert.doesNotMatch(a.stdout, /\.shop\b/);
  assert.match(b.stdout, /httpbin-\S+\.shop/);
  assert.match(b.stdout, /sleep-\S+\.shop/);
  assert.doesNotMatch(b.stdout, /\.bookinfo\b|\.team-a\b|egressgateway/);
  // What each proxy is configured with: its own mesh's services, none of the other's.
  const productpage = `${pod('bookinfo', 'productpage').name}.bookinfo`;
  const clustersA = await trellis(['proxy-config', 'clusters', productpage, '--controlplane', debugUrl('mesh-a')]);
  assert.match(clustersA.stdout, /reviews\.bookinfo\.svc\.cluster\.local/);
  assert.doesNotMatch(clustersA.stdout, /shop\.svc/);
  const shopSleep = `${pod('shop', 'sleep').name}.shop`;
  const clustersB = await trellis(['proxy-config', 'clusters', shopSleep, '--controlplane', debugUrl('mesh-b')]);
  assert.match(clustersB.stdout, /httpbin\.shop\.svc\.cluster\.local/);
  assert.doesNotMatch(clustersB.stdout, /bookinfo\.svc|team-a\.svc/);
});

test('Bookinfo serves in its member namespace; a workload outside both meshes has no sidecar and is reached in plain text', async () => {
  const sleepA = pod('team-a', 'sleep');
  assert.equal(sleepA.meshed, true);
  const reviews = await fromPod(sleepA, 'http://productpage.bookinfo:9080/api/v1/products/0/reviews');
  assert.equal(reviews.status, 200, reviews.body);
  const outside = pod('outside', 'httpbin');
  assert.equal(outside.meshed, false);
  assert.match(outside.injection, /not a member/);
  const plain = await fromPod({ podIP: '', meshed: false }, `http://${outside.podIP}:8080/headers`);
  assert.equal(plain.status, 200);
  // Mesh A lets unknown destinations through (ALLOW_ANY): its sidecar passes the call on in plain text.
  assert.equal((await fromPod(sleepA, `http://${outside.podIP}:8080/headers`)).status, 200);
  // Mesh B is REGISTRY_ONLY (outbound.policy on its control plane): the same call is refused by its sidecar.
  const blocked = await fromPod(pod('shop', 'sleep'), `http://${outside.podIP}:8080/headers`);
  assert.ok(blocked.status === 502 || blocked.status === 503, `REGISTRY_ONLY refuses an unknown destination (got ${blocked.status})`);
  assert.equal((await fromPod(pod('shop', 'sleep'), 'http://httpbin.shop:8000/headers')).status, 200, 'its own services still answer');
});

test("dataPlane.mtls: mesh A's sidecars refuse plain text; mesh B (no such setting) takes it beside mutual TLS", async () => {
  const details = pod('bookinfo', 'details');
  await assert.rejects(fromPod({ podIP: '', meshed: false }, `http://${details.podIP}:9080/details/0`), 'plain text into a STRICT sidecar is refused');
  const shop = pod('shop', 'httpbin');
  assert.equal((await fromPod({ podIP: '', meshed: false }, `http://${shop.podIP}:8080/headers`)).status, 200);
});

test("certificates: mesh B's come from its cert-manager CA API; neither mesh's sidecars accept the other's", async () => {
  assert.ok(externalCa.signed.includes('shop/httpbin') && externalCa.signed.includes('shop/sleep'), `the external CA signed mesh B's workloads: ${externalCa.signed.join(', ')}`);
  assert.ok(!externalCa.signed.some((s) => s.startsWith('bookinfo/')), "and none of mesh A's");
  assert.equal(unit('mesh-b').ca, undefined, "mesh B's own CA stays off");
  // A certificate from each mesh's CA, presented to a sidecar of mesh B.
  const certFrom = async (address: string, rootPem: string, token: string, id: { namespace: string; serviceAccount: string }) => {
    const { keyPem, csrPem } = await createCsr({ trustDomain: 'cluster.local', ...id });
    return { key: keyPem, cert: (await requestCertificate({ address, rootPem, token, csrPem, ttlSeconds: 600, serverName: 'istiod.istio-system.svc' })).join('') };
  };
  const a = unit('mesh-a');
  const fromA = await certFrom(a.caAddress, readFileSync(a.caRootFile, 'utf8'), a.token('team-a', 'sleep'), { namespace: 'team-a', serviceAccount: 'sleep' });
  const b = unit('mesh-b');
  const fromB = await certFrom(b.caAddress, readFileSync(b.caRootFile, 'utf8'), b.token('shop', 'sleep'), { namespace: 'shop', serviceAccount: 'sleep' });
  const handshake = (target: { podIP: string }, port: number, cred: { key: string; cert: string }, ca: string) =>
    new Promise<boolean>((resolve) => {
      const s = tls.connect({ host: target.podIP, port, key: cred.key, cert: cred.cert, ca, checkServerIdentity: () => undefined, ALPNProtocols: ['istio', 'http/1.1'] }, () => {
        s.write('GET /headers HTTP/1.1\r\nhost: httpbin\r\nconnection: close\r\n\r\n');
      });
      let data = '';
      s.on('data', (c: Buffer) => (data += c));
      s.on('end', () => resolve(data.startsWith('HTTP/1.1 200')));
      s.on('error', () => resolve(false));
      s.setTimeout(5000, () => (s.destroy(), resolve(false)));
    });
  const shop = pod('shop', 'httpbin');
  assert.equal(await handshake(shop, 8080, fromB, externalCa.ca.trustBundle()), true, "mesh B's own certificate is taken");
  assert.equal(await handshake(shop, 8080, fromA, externalCa.ca.trustBundle()), false, "mesh A's certificate is refused by mesh B");
  const details = pod('bookinfo', 'details');
  assert.equal(await handshake(details, 9080, fromB, readFileSync(a.caRootFile, 'utf8')), false, "and mesh B's by mesh A");
});

test("gateways.egress: mesh A's egress gateway carries external.test out (Istio's egress task); mesh B runs none", async () => {
  const sleepA = pod('team-a', 'sleep');
  const egress = unit('mesh-a').gateways.find((g) => g.spec.kind === 'egress')!;
  assert.ok(egress, 'mesh A runs an egress gateway');
  assert.equal(unit('mesh-b').gateways.some((g) => g.spec.kind === 'egress'), false);
  const res = await fromPod(sleepA, 'http://external.test/anything');
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /"outside":true/);
  // The request went through the egress gateway: its cluster to external.test served it.
  const clusters = await (await fetch(`http://${egress.address}:15000/clusters`)).text();
  assert.match(clusters, /outbound\|80\|\|external\.test::[\d.:]+::rq_total::[1-9]/);
});

test('trellis get: the control planes, member rolls and namespaces with the status Trellis computes; the namespace claimed twice', async () => {
  const a = await trellis(['get', 'smcp,smmr', '-n', 'mesh-a', '-o', 'yaml', '--controlplane', debugUrl('mesh-a')]);
  assert.equal(a.code, 0, a.stderr);
  const listA = YAML.parse(a.stdout) as { items: Array<{ kind: string; status: { conditions: Array<{ type: string; status: string; reason: string }>; configuredMembers?: string[]; readiness?: { components: { ready: string[] } } } }> };
  const smcp = listA.items.find((i) => i.kind === 'ServiceMeshControlPlane')!;
  assert.deepEqual(smcp.status.conditions.map((c) => `${c.type}=${c.status}`), ['Installed=True', 'Reconciled=True', 'Ready=True']);
  assert.deepEqual(smcp.status.readiness!.components.ready, ['istio-egressgateway', 'istio-ingressgateway', 'istiod', 'prometheus'].filter((c) => c !== 'prometheus' || !!mesh.prometheus));
  assert.deepEqual(listA.items.find((i) => i.kind === 'ServiceMeshMemberRoll')!.status.configuredMembers, ['bookinfo', 'team-a', 'contested']);
  // Asked of mesh A's debug port, `get` finds mesh B's objects through it (each from the control plane that owns it).
  const b = await trellis(['get', 'smmr', '-n', 'mesh-b', '-o', 'yaml', '--controlplane', debugUrl('mesh-a')]);
  const rollB = (YAML.parse(b.stdout) as { items: Array<{ status: { pendingMembers: string[]; memberStatuses: Array<{ namespace: string; conditions: Array<{ status: string; reason: string; message: string }> }> } }> }).items[0]!;
  assert.ok(rollB.status.pendingMembers.includes('contested'));
  const contested = rollB.status.memberStatuses.find((m) => m.namespace === 'contested')!;
  assert.equal(contested.conditions[0]!.reason, 'ReconcileError');
  assert.match(contested.conditions[0]!.message, /already a member of another control plane \(mesh-a\/basic\)/);
  const nsTable = await trellis(['get', 'ns', '-o', 'wide', '--controlplane', debugUrl('mesh-b')]);
  assert.match(nsTable.stdout, /^bookinfo\s+Active\s+mesh-a$/m);
  assert.match(nsTable.stdout, /^shop\s+Active\s+mesh-b$/m);
  assert.match(nsTable.stdout, /^outside\s+Active\s*$/m);
});

test('membership is live: a namespace labelled for the cluster-wide mesh joins and leaves it; one added to the member roll joins the multi-tenant mesh', async () => {
  const inB = () => unit('mesh-b').cp.ads.proxies().some((p) => p.identity.namespace === 'outside');
  writeApps({ outsideLabels: { 'istio-injection': 'enabled', mesh: 'b' } });
  await until('outside joins mesh B', () => inB() && pod('outside', 'httpbin')?.meshed === true);
  assert.equal(pod('outside', 'httpbin').controlPlane, 'mesh-b');
  writeApps({ members: ['bookinfo', 'team-a', 'contested', 'late'] });
  await until('outside leaves mesh B', () => !inB() && pod('outside', 'httpbin')?.meshed === false);
  await until('late joins mesh A', () => unit('mesh-a').cp.ads.proxies().some((p) => p.identity.namespace === 'late'));
  assert.equal(pod('late', 'sleep').controlPlane, 'mesh-a');
  writeApps();
  await until('late leaves with its namespace', () => !mesh.podPlans().some((p) => p.namespace === 'late') && !unit('mesh-a').cp.ads.proxies().some((p) => p.identity.namespace === 'late'));
});
