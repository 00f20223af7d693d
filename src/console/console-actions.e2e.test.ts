// Kiali's service actions on a live `trellis up` of Bookinfo, driven in Chromium: each wizard writes its objects
// through the console, and real requests through the ingress gateway show the traffic change. The Logs and Envoy
// tabs read the running pods; a view-only console over the same directory offers no action and refuses every write.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { freePort } from '../free-port.js';
import { LocalMesh } from '../runtime/local-mesh.js';
import { istioSamplesDir } from '../samples.js';
import { buildWeb } from './build-web.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { ConsoleServer } from './server.js';
import { reviewsShares } from './testing/bookinfo-traffic.js';
import { haveChromium, launchChromium, type RunningChromium } from './testing/chromium.js';
import { consolePage, getWithHost } from './testing/console-page.js';
import { waitFor } from './testing/prometheus.js';
import { wizardYaml } from './wizards/routing.js';
import { subsetsFor } from './wizards/rules.js';

const SAMPLES = `${istioSamplesDir()}/bookinfo`;
const WEB_INDEX = fileURLToPath(new URL('./web/index.html', import.meta.url));

describe('service actions on a live trellis up', { skip: haveChromium() ? false : 'chromium is not installed (node scripts/system-deps.mjs test)' }, () => {
  let dir: string;
  let mesh: LocalMesh;
  let chromium: RunningChromium;
  let page: Page;
  let viewOnly: ConsoleServer;
  let consoleUrl: string;
  let viewOnlyUrl: string;
  const logs: string[] = [];

  before(async () => {
    if (!existsSync(WEB_INDEX)) await buildWeb();
    dir = mkdtempSync(join(tmpdir(), 'trellis-actions-'));
    for (const f of ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml']) copyFileSync(`${SAMPLES}/${f}`, join(dir, f.split('/').pop()!));
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 47, consolePort: 0, log: (l) => logs.push(l) });
    await mesh.waitReady(90_000);
    consoleUrl = mesh.consoleUrl!.replace(/\/$/, '');
    viewOnly = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: dir }), port: 0, viewOnlyMode: true });
    viewOnlyUrl = `http://127.0.0.1:${await viewOnly.listen()}`;
    chromium = await launchChromium();
    page = chromium.page;
  });

  after(async () => {
    await chromium?.close();
    await viewOnly?.close();
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const shares = (n: number, headers?: Record<string, string>) => reviewsShares(mesh.ingressUrl, n, headers);
  const ui = () => consolePage(page, consoleUrl);
  const openAction = (service: string, action: string) => ui().openAction(service, action);
  const select = (scope: ReturnType<Page['locator']>, id: string, value: string) => ui().select(scope, id, value);
  const create = (dialog: ReturnType<Page['locator']>, previewHas: RegExp) => ui().create(dialog, previewHas);

  const until = (what: string, check: () => Promise<boolean>, ms = 30_000) => waitFor(what, ms, check, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs.slice(-20).join('\n')}`);
  });

  test('Request Routing: jason goes to v2, everyone else to v1', async () => {
    const w = await openAction('reviews', 'request-routing');
    await w.locator('[data-test="add-rule"]').click();
    await select(w, 'rule-0-subset', 'v2');
    await w.locator('[data-test="rule-0-value"]').fill('jason');
    await select(w, 'rule-1-subset', 'v1');
    await create(w, /end-user:\n\s+exact: jason/);
    await until('jason on v2, the rest on v1', async () => {
      const [j, o] = [await shares(6, { 'end-user': 'jason' }), await shares(6)];
      return j.v2 === 6 && o.v1 === 6;
    });
  });

  test('Traffic Shifting: 50/50 between v1 and v3, none to v2', async () => {
    const w = await openAction('reviews', 'traffic-shifting');
    for (const [v, n] of [['v1', '50'], ['v2', '0'], ['v3', '50']] as const) await w.locator(`[data-test="weight-${v}"]`).fill(n);
    await create(w, /subset: v3\n\s+weight: 50/);
    await until('v1 and v3 share reviews, v2 none', async () => {
      const s = await shares(20);
      return !s.v2 && (s.v1 ?? 0) > 0 && (s.v3 ?? 0) > 0 && (s.v1 ?? 0) + (s.v3 ?? 0) === 20;
    });
  });

  test('Fault Injection: ratings aborts for jason, and is delayed 2 s for everyone else', async () => {
    const w = await openAction('ratings', 'fault-injection');
    await w.locator('[data-test="add-rule"]').click();
    await w.locator('[data-test="rule-0-value"]').fill('jason');
    await w.locator('[data-test="rule-0-abort"]').check();
    await w.locator('[data-test="rule-0-abort-status"]').fill('500');
    await w.locator('[data-test="rule-1-abort"]').uncheck();
    await w.locator('[data-test="rule-1-delay"]').check();
    await w.locator('[data-test="rule-1-delay-fixed"]').fill('2s');
    await create(w, /httpStatus: 500[\s\S]*fixedDelay: 2s/);
    // reviews v3 calls ratings: jason's pages say ratings are unavailable; the others' still have their stars.
    await until('the abort for jason', async () => /Ratings service is currently unavailable/.test(await (await fetch(`${mesh.ingressUrl}/productpage`, { headers: { 'end-user': 'jason' } })).text()));
    for (let i = 0; i < 4; i++) assert.doesNotMatch(await (await fetch(`${mesh.ingressUrl}/productpage`)).text(), /Ratings service is currently unavailable/);
  });

  test('Request Timeouts: reviews gives up after 0.5 s, so its versions that wait for the delayed ratings fail with 504', async () => {
    const w = await openAction('reviews', 'request-timeouts');
    await w.locator('[data-test="rule-0-timeout-value"]').fill('0.5s');
    await create(w, /timeout: 0.5s/);
    // All versions share the traffic now; v1 never calls ratings, v2 and v3 wait 2 s for it and time out.
    await until('timeouts on the versions that call ratings', async () => {
      const s = await shares(15);
      return (s['error 504'] ?? 0) > 0 && (s.v1 ?? 0) > 0 && !s.v2 && !s.v3;
    });
  });

  test('Gateways: details answers for details.example.com at the existing bookinfo-gateway', async () => {
    const w = await openAction('details', 'request-routing');
    await w.locator('[data-test="advanced"] button').first().click();
    await w.locator('[data-test="gateway-add"]').check();
    await select(w, 'gateway-mode', 'existing');
    await select(w, 'gateway-existing', 'default/bookinfo-gateway');
    await w.locator('[data-test="gateway-hosts"]').fill('details.example.com');
    await w.locator('[data-test="gateway-mesh"]').check();
    await create(w, /gateways:\n\s+- default\/bookinfo-gateway\n\s+- mesh/);
    await until('details through the gateway by its host name', async () => {
      const res = await getWithHost(`${mesh.ingressUrl}/details/0`, 'details.example.com');
      return res.status === 200 && /"author"/.test(res.body);
    });
    // The mesh keeps routing details: productpage still shows the book's details.
    assert.match(await (await fetch(`${mesh.ingressUrl}/productpage`)).text(), /ISBN-10/);
  });

  test('TCP Traffic Shifting with a new TCP gateway: every connection through it reaches reviews v2', async () => {
    const port = await freePort();
    const w = await openAction('reviews', 'tcp-traffic-shifting');
    for (const [v, n] of [['v1', '0'], ['v2', '100'], ['v3', '0']] as const) await w.locator(`[data-test="weight-${v}"]`).fill(n);
    await w.locator('[data-test="advanced"] button').first().click();
    await w.locator('[data-test="gateway-add"]').check();
    await w.locator('[data-test="gateway-port"]').fill(String(port));
    await create(w, new RegExp(`protocol: TCP[\\s\\S]*tcp:\\n\\s+- route:`));
    assert.ok(readdirSync(dir).includes('default-gateway-reviews-gateway.yaml'), 'the Gateway is a file of its own');
    await until(`reviews v2 over TCP at port ${port}`, async () => {
      const answers = await Promise.all([1, 2, 3, 4].map(() => rawHttp('127.0.0.1', port, '/reviews/0').catch(() => '')));
      return answers.every((a) => /"podname":\s*"reviews-v2/.test(a));
    });
  });

  test('Logs and Envoy tabs: the running productpage pod\'s app and proxy output, its proxy\'s clusters', async () => {
    await page.goto(`${consoleUrl}/namespaces/default/workloads/productpage-v1?tab=logs`);
    const lines = page.locator('[data-test="log-lines"]');
    await lines.waitFor();
    assert.equal(await lines.getAttribute('data-container'), 'productpage');
    await until('productpage\'s output', async () => (await lines.innerText()) !== 'no output yet', 15_000);
    await page.goto(`${consoleUrl}/namespaces/default/workloads/productpage-v1?tab=envoy`);
    await page.locator('[data-test="envoy-clusters"]').getByText('reviews.default.svc.cluster.local').first().waitFor();
    await page.locator('[data-test="envoy-tab-listeners"] button, [data-test="envoy-tab-listeners"]').first().click();
    await page.locator('[data-test="envoy-listeners"]').getByText('9080').first().waitFor();
    const pods = (await (await fetch(`${consoleUrl}/api/namespaces/default/pods?workload=productpage-v1`)).json()) as { items: Array<{ name: string; containers: string[] }> };
    assert.deepEqual(pods.items[0]!.containers, ['productpage', 'istio-proxy']);
    const proxy = (await (await fetch(`${consoleUrl}/api/namespaces/default/pods/${pods.items[0]!.name}/logs?container=istio-proxy&tailLines=5`)).json()) as { lines: unknown[] };
    assert.ok(Array.isArray(proxy.lines));
  });

  test('view-only mode: no action is offered, and the API refuses the wizards\' writes; nothing changes', async () => {
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => `${f}\n${readFileSync(join(dir, f), 'utf8')}`);
    const before = files();
    await page.goto(`${viewOnlyUrl}/namespaces/default/services/reviews`);
    await page.locator('[data-test="view-only-badge"]').waitFor();
    await page.locator('[data-test="config-table"]').waitFor();
    assert.equal(await page.locator('[data-test="actions-toggle"]').count(), 0);
    const yaml = wizardYaml({ kind: 'traffic_shifting', namespace: 'default', service: 'reviews', subsets: subsetsFor([{ name: 'reviews-v1', labels: { version: 'v1' } }]), rules: [{ weights: [{ subset: 'v1', weight: 100 }] }] });
    const statuses = await page.evaluate(async (body) => [
      (await fetch('/api/istio/config', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body })).status,
      (await fetch('/api/namespaces/default/services/reviews/routing', { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
      (await fetch('/api/namespaces/default/istio/networking.istio.io/VirtualService/reviews', { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    ], yaml);
    assert.deepEqual(statuses, [403, 403, 403]);
    assert.deepEqual(files(), before);
  });

  test('Delete Traffic Routing: the VirtualService, DestinationRule and wizard Gateway of reviews go; traffic spreads again', async () => {
    const port = Number(/port-(\d+)|number: (\d+)/.exec(readFileSync(join(dir, 'default-gateway-reviews-gateway.yaml'), 'utf8'))!.slice(1).find(Boolean));
    const d = await openAction('reviews', 'delete-traffic-routing');
    const list = d.locator('[data-test="delete-routing-list"]');
    await list.waitFor();
    for (const kind of ['VirtualService', 'DestinationRule', 'Gateway']) assert.match(await list.innerText(), new RegExp(kind));
    await d.locator('[data-test="delete-routing-confirm"]').click();
    await page.locator('[data-test="wizard-applied"]').waitFor();
    assert.equal(readdirSync(dir).includes('default-gateway-reviews-gateway.yaml'), false);
    assert.doesNotMatch(readFileSync(join(dir, 'destination-rule-all.yaml'), 'utf8'), /name: reviews\b/);
    await until('reviews spread over v1, v2 and v3, the TCP gateway gone', async () => {
      const s = await shares(30);
      const closed = await rawHttp('127.0.0.1', port, '/reviews/0').then((a) => a === '', () => true);
      return (s.v1 ?? 0) > 0 && (s.v2 ?? 0) > 0 && (s.v3 ?? 0) > 0 && closed;
    });
  });
});

/** One HTTP/1.1 request over a plain TCP connection (through a TCP gateway server), the whole answer as text. */
function rawHttp(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let out = '';
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nhost: reviews\r\nconnection: close\r\n\r\n`));
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}
