// The sidecar's DNS proxy in `trellis up --network netns` (Istio's ISTIO_META_DNS_CAPTURE and
// ISTIO_META_DNS_AUTO_ALLOCATE in the mesh's defaultConfig.proxyMetadata): the pod's queries are captured to its sidecar,
// which answers service and ServiceEntry names from the control plane's NameTable — a ServiceEntry without addresses
// gets an auto-allocated one, and a client that only knows the name reaches the outside host through the sidecar —
// and forwards the rest to the cluster DNS. A pod that turns capture off does not know the ServiceEntry's name.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { istioSamplesDir } from '../../samples.js';
import { TypeUrl } from '../../xds/resource.js';
import { LocalMesh } from '../local-mesh.js';
import { netnsAvailability } from '../network-mode.js';
import { startOutsideServer, type OutsideServer } from './testing.js';

const netns = netnsAvailability();

const MESH = `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    defaultConfig:
      proxyMetadata:
        ISTIO_META_DNS_CAPTURE: "true"
        ISTIO_META_DNS_AUTO_ALLOCATE: "true"
---
apiVersion: v1
kind: Pod
metadata:
  name: no-dns
  labels: {app: no-dns}
  annotations:
    proxy.istio.io/config: '{proxyMetadata: {ISTIO_META_DNS_CAPTURE: "false"}}'
spec:
  containers: [{name: sleep, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}]
`;

describe('the sidecar DNS proxy: NDS names, auto-allocated ServiceEntry addresses, forwarding', { skip: netns.ok ? false : netns.reason }, () => {
  let dir: string;
  let mesh: LocalMesh;
  let outside: OutsideServer | undefined;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-dns-'));
    copyFileSync(join(istioSamplesDir(), 'sleep', 'sleep.yaml'), join(dir, 'sleep.yaml'));
    copyFileSync(join(istioSamplesDir(), 'httpbin', 'httpbin.yaml'), join(dir, 'httpbin.yaml'));
    writeFileSync(join(dir, 'mesh.yaml'), MESH);
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: 65, network: 'netns', log: (l) => logs.push(l) });
    outside = await startOutsideServer(mesh, `require('http').createServer((q, s) => s.end('outside ' + q.headers.host)).listen(80, '0.0.0.0', () => console.log('up'))`);
    writeFileSync(join(dir, 'service-entry.yaml'), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: outside}
spec:
  hosts: [outside.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  location: MESH_EXTERNAL
  endpoints: [{address: ${outside.address}}]
`);
    await mesh.waitReady(60_000);
  });

  after(async () => {
    await outside?.stop();
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a script in a pod's namespace (no proxy variable), its output. */
  async function inPod(prefix: string, script: string): Promise<string> {
    const pod = mesh.podPlans().find((p) => p.name.startsWith(prefix))!;
    const c = mesh.net!.command(`${pod.namespace}/${pod.name}`, process.execPath, ['-e', script], 'app');
    return (await promisify(execFile)(c.command, c.args, { encoding: 'utf8', timeout: 15_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })).stdout.trim();
  }
  const lookup = (prefix: string, name: string) => inPod(prefix, `require('dns').lookup('${name}', { family: 4 }, (e, a) => console.log(e ? e.code : a))`);

  async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test("sleep's sidecar subscribes to NDS and answers a ServiceEntry host with an auto-allocated address", async () => {
    const sleep = mesh.controlPlane.ads.proxies().find((p) => p.identity.podName.startsWith('sleep-'))!;
    assert.ok(sleep.types.some((t) => t.typeUrl === TypeUrl.NameTable && t.state === 'SYNCED'), JSON.stringify(sleep.types.map((t) => [t.typeUrl, t.state])));
    await until('outside.example.com to resolve to an auto-allocated address', async () => /^240\.240\.\d+\.\d+$/.test(await lookup('sleep-', 'outside.example.com')));
  });

  test('a client that only knows the name reaches the outside host through its sidecar', async () => {
    const out = await inPod('sleep-', `fetch('http://outside.example.com/x').then(async (r) => console.log(r.status, await r.text()), (e) => console.log('error', e.cause?.code ?? e.message))`);
    assert.equal(out, '200 outside outside.example.com');
  });

  test('services resolve by short name; unknown names are forwarded to the cluster DNS (NXDOMAIN)', async () => {
    assert.equal(await lookup('sleep-', 'httpbin'), mesh.controlPlane.registry.snapshot().service('httpbin.default.svc.cluster.local')!.addresses[0]);
    assert.equal(await lookup('sleep-', 'nothing.example.org'), 'ENOTFOUND');
  });

  test('a pod whose proxy.istio.io/config turns DNS capture off does not know the ServiceEntry name', async () => {
    assert.equal(await lookup('no-dns', 'outside.example.com'), 'ENOTFOUND');
    assert.equal(await lookup('no-dns', 'httpbin'), mesh.controlPlane.registry.snapshot().service('httpbin.default.svc.cluster.local')!.addresses[0]);
  });
});
