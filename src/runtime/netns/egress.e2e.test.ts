// Egress in `trellis up --network netns`: an "outside" server in a namespace of its own (not in the registry), reached
// by a pod with no proxy setting. ALLOW_ANY passes it through to its real address; REGISTRY_ONLY blocks it; a
// ServiceEntry lets it through again; Istio's egress gateway task (Gateway, DestinationRule, VirtualService for `mesh`
// and the gateway) sends it through `istio-egressgateway.istio-system`.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { istioSamplesDir } from '../../samples.js';
import { LocalMesh } from '../local-mesh.js';
import { netnsAvailability } from '../network-mode.js';
import { startOutsideServer, type OutsideServer } from './testing.js';

const netns = netnsAvailability();

/** The outside server: answers every request with the Host it was asked for and the address that called it. */
const OUTSIDE_SERVER = `require('http').createServer((q, s) => s.end(JSON.stringify({ host: q.headers.host, peer: q.socket.remoteAddress.replace(/^::ffff:/, '') }))).listen(80, '0.0.0.0', () => console.log('outside: listening'));`;

describe('egress: ALLOW_ANY, REGISTRY_ONLY, ServiceEntry and the egress gateway', { skip: netns.ok ? false : netns.reason }, () => {
  let dir: string;
  let mesh: LocalMesh;
  let outside: OutsideServer | undefined;
  let outsideIP: string;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-egress-'));
    copyFileSync(join(istioSamplesDir(), 'sleep', 'sleep.yaml'), join(dir, 'sleep.yaml'));
    // A second client whose sidecar does not capture port 80 (Istio's excludeOutboundPorts annotation).
    writeFileSync(join(dir, 'uncaptured.yaml'), `apiVersion: v1
kind: Pod
metadata:
  name: uncaptured
  labels: {app: uncaptured}
  annotations: {traffic.sidecar.istio.io/excludeOutboundPorts: "80"}
spec:
  containers: [{name: sleep, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}]
`);
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: 60, network: 'netns', egressGateway: true, log: (l) => logs.push(l) });
    outside = await startOutsideServer(mesh, OUTSIDE_SERVER);
    outsideIP = outside.address;
    await mesh.waitReady(60_000);
  });

  after(async () => {
    await outside?.stop();
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request from the sleep pod (no proxy variable) to the outside address, asking for outside.example.com. */
  async function fromSleep(pod = 'sleep-'): Promise<{ status: number; body: string }> {
    const sleep = mesh.podPlans().find((p) => p.name.startsWith(pod))!;
    const script = `const r = require('http').request({ host: '${outsideIP}', port: 80, path: '/get', headers: { host: 'outside.example.com' } }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, body: b }))); });
r.on('error', (e) => console.log(JSON.stringify({ status: 0, body: e.code })));
r.end();`;
    const c = mesh.net!.command(`${sleep.namespace}/${sleep.name}`, process.execPath, ['-e', script], 'app');
    const { stdout } = await promisify(execFile)(c.command, c.args, { encoding: 'utf8', timeout: 15_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    return JSON.parse(stdout) as { status: number; body: string };
  }

  let last = '';
  async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})\n${logs.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const sleepIP = () => mesh.podPlans().find((p) => p.name.startsWith('sleep-'))!.podIP;
  const peerOf = (r: { status: number; body: string }) => (last = r.status === 200 ? (JSON.parse(r.body) as { peer: string }).peer : `status ${r.status} ${r.body}`);

  test('ALLOW_ANY (the default): an unknown outside host is passed through to its real address from the pod', async () => {
    const r = await fromSleep();
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { host: 'outside.example.com', peer: sleepIP() });
  });

  test('REGISTRY_ONLY blocks it; a ServiceEntry lets it through', async () => {
    writeFileSync(join(dir, 'mesh.yaml'), `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`);
    await until('REGISTRY_ONLY to block the outside host', async () => (await fromSleep()).status === 502);
    // excludeOutboundPorts: "80" — the other pod's port-80 traffic is not captured, so its sidecar cannot block it.
    const direct = await fromSleep('uncaptured');
    assert.equal(peerOf(direct), mesh.podPlans().find((p) => p.name === 'uncaptured')!.podIP, 'not captured: straight from the pod');
    writeFileSync(join(dir, 'service-entry.yaml'), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: outside}
spec:
  hosts: [outside.example.com]
  ports: [{number: 80, name: http-port, protocol: HTTP}]
  resolution: STATIC
  location: MESH_EXTERNAL
  endpoints: [{address: ${outsideIP}}]
`);
    await until('the ServiceEntry to let it through', async () => peerOf(await fromSleep()) === sleepIP());
  });

  test("Istio's egress gateway task: the request leaves through istio-egressgateway, which the outside server sees", async () => {
    writeFileSync(join(dir, 'egress-gateway.yaml'), `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway}
spec:
  selector: {istio: egressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [outside.example.com]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: egressgateway-for-outside}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: outside}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: direct-outside-through-egress-gateway}
spec:
  hosts: [outside.example.com]
  gateways: [istio-egressgateway, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: outside, port: {number: 80}}, weight: 100}]
  - match: [{gateways: [istio-egressgateway], port: 80}]
    route: [{destination: {host: outside.example.com, port: {number: 80}}, weight: 100}]
`);
    const gw = mesh.egressGatewayAddress!;
    await until('the outside server to be called by the egress gateway', async () => peerOf(await fromSleep()) === gw);
    const stats = await (await fetch(`http://${gw}:15020/stats/prometheus`)).text();
    assert.match(stats, /istio_requests_total\{reporter="source",source_workload="istio-egressgateway"[^}]*destination_service="outside.example.com"[^}]*response_code="200"/);
    // Without the VirtualService the sidecar sends it straight out again (the ServiceEntry still allows it).
    unlinkSync(join(dir, 'egress-gateway.yaml'));
    await until('the direct path again', async () => peerOf(await fromSleep()) === sleepIP());
  });
});
