// Istio's Bookinfo Gateway API task on `trellis up`, unchanged files through real processes: bookinfo-gateway.yaml gets
// a gateway proxy of its own (automated deployment) on its declared port 80, its status says so, and the mesh
// HTTPRoutes of route-*.yaml (parentRef: Service) steer productpage's calls to reviews: all v1, 90/10, 50/50 v1/v3, v3.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { istioSamplesDir } from '../samples.js';
import type { GatewayStatus, ObjectStatus, RouteStatus } from '../controlplane/translate/gateway-api/status.js';
import { LocalMesh } from './local-mesh.js';
import { expectSplit, reviewsShares, untilWith } from './bookinfo-testing.js';

const SAMPLES = `${istioSamplesDir()}/bookinfo`;
const BIN = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
let dir: string;
let mesh: LocalMesh;
const logs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-gwapi-'));
  for (const f of ['platform/kube/bookinfo.yaml', 'platform/kube/bookinfo-versions.yaml', 'gateway-api/bookinfo-gateway.yaml']) copyFileSync(`${SAMPLES}/${f}`, join(dir, f.split('/').pop()!));
  mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 40, log: (l) => logs.push(l) });
  await mesh.waitReady(60_000);
});

after(async () => {
  await mesh?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const until = untilWith(logs);

function gatewayUrl(): string {
  const d = mesh.gatewayApi!.deployments().find((x) => x.key === 'default/bookinfo-gateway');
  assert.ok(d, 'bookinfo-gateway is deployed');
  return `http://${d.address}`;
}

async function status(kind: string, name: string): Promise<ObjectStatus['status']> {
  const all = (await (await fetch(`http://127.0.0.1:${mesh.debugPort}/debug/status?kind=${kind}&name=${name}`)).json()) as ObjectStatus[];
  assert.equal(all.length, 1, `${kind} ${name}`);
  return all[0]!.status;
}

const shares = (n: number) => reviewsShares(gatewayUrl(), n);

/** Apply a task's file as `kubectl apply` would: it replaces the earlier one defining the same objects. */
function apply(sample: string): void {
  writeFileSync(join(dir, '10-routes.yaml'), readFileSync(`${SAMPLES}/gateway-api/${sample}`));
}

test('bookinfo-gateway.yaml: a gateway proxy of its own, labelled with the gateway name, serving /productpage on port 80 of its own address', async () => {
  const d = mesh.gatewayApi!.deployments()[0]!;
  assert.equal(d.address, '127.40.255.2', 'the first address after the ingress gateway');
  assert.equal(d.labels['gateway.networking.k8s.io/gateway-name'], 'bookinfo-gateway');
  assert.deepEqual(d.ports, [80]);
  const page = await fetch(`${gatewayUrl()}/productpage`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /The Comedy of Errors/);
  assert.equal((await fetch(`${gatewayUrl()}/not-routed`)).status, 404);
  assert.match(mesh.summary(), /gateway +bookinfo-gateway-istio-\w+\.default +127\.40\.255\.2 .*Gateway default\/bookinfo-gateway on http:\/\/127\.40\.255\.2:80/);

  const gw = (await status('Gateway', 'bookinfo-gateway')) as GatewayStatus;
  assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '127.40.255.2' }]);
  assert.deepEqual(gw.conditions.map((c) => `${c.type}=${c.status}`), ['Accepted=True', 'Programmed=True']);
  assert.equal(gw.listeners[0]!.attachedRoutes, 1);
  const route = (await status('HTTPRoute', 'bookinfo')) as RouteStatus;
  assert.deepEqual(route.parents[0]!.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  assert.ok(route.parents[0]!.conditions.every((c) => typeof c.lastTransitionTime === 'string'));

  // `trellis get` prints the same status, as kubectl shows it on a cluster.
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [BIN, 'get', 'gateways.gateway.networking.k8s.io', 'bookinfo-gateway', '-n', 'default', '-o', 'json', '--controlplane', `http://127.0.0.1:${mesh.debugPort}`], (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))),
  );
  const printed = JSON.parse(out) as { status: GatewayStatus };
  assert.deepEqual(printed.status.conditions.map((c) => `${c.type}=${c.status}`), ['Accepted=True', 'Programmed=True']);
  assert.deepEqual(printed.status.addresses, [{ type: 'IPAddress', value: '127.40.255.2' }]);
});

test('route-all-v1.yaml, then route-reviews-v3.yaml: every request to reviews goes to that version', async () => {
  apply('route-all-v1.yaml');
  await until('all v1', async () => (await shares(12)).v1 === 12);
  apply('route-reviews-v3.yaml');
  await until('all v3', async () => (await shares(12)).v3 === 12);
  const page = await (await fetch(`${gatewayUrl()}/productpage`)).text();
  assert.match(page, /color="red"|color:\s*red/, 'v3 shows red stars');
});

test('route-reviews-90-10.yaml and route-reviews-50-v3.yaml split traffic within statistical tolerance', async () => {
  for (const [sample, first, second, expected] of [
    ['route-reviews-90-10.yaml', 'v1', 'v2', 0.1],
    ['route-reviews-50-v3.yaml', 'v1', 'v3', 0.5],
  ] as const) {
    await expectSplit({ mesh, base: gatewayUrl(), until, apply: () => apply(sample), sample, first, second, expected });
  }
});
