// The console in a real browser (Debian's Chromium through playwright-core) against a real Prometheus.
//
// Prometheus scrapes bookinfo-exporter, the stand-in for Bookinfo's sidecars until `trellis up` runs the real
// ones (then this test points Prometheus at the proxies instead). The console reads the Bookinfo manifests and
// routing from a config directory through YamlMeshSource. Screenshots go to docs/screenshots/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { buildWeb } from './build-web.js';
import { synczProxies } from './mesh/syncz.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { PrometheusMetricsSource } from './metrics/prometheus.js';
import { ConsoleServer } from './server.js';
import { haveChromium, launchChromium, PAGE_TIMEOUT_MS, type RunningChromium } from './testing/chromium.js';
import { bookinfoConfigDir, BROKEN_VS_LINE, type ConfigDirFixture } from './testing/fixtures.js';
import { havePrometheus, startPrometheus, waitFor, type RunningPrometheus } from './testing/prometheus.js';

// The README's screenshots are refreshed only on request (TRELLIS_SCREENSHOTS=1); otherwise they go to a temporary
// directory, so a test run leaves the working tree as it found it.
const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
let SCREENSHOTS = DOCS_SCREENSHOTS;
const WEB_INDEX = fileURLToPath(new URL('./web/index.html', import.meta.url));
const T = PAGE_TIMEOUT_MS;

const missing = [!haveChromium() && 'chromium', !havePrometheus() && 'prometheus'].filter(Boolean);

/** Starts the exporter as its own process (as the proxies are) and reads the port it prints. */
async function startExporter(configDir: string): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./testing/bookinfo-exporter.js', import.meta.url));
  const child = spawn(process.execPath, [script, '--config-dir', configDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bookinfo-exporter exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${line.split(' ')[1]}`, child };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('console in the browser', { skip: missing.length ? `not installed: ${missing.join(', ')} (node scripts/system-deps.mjs test)` : false }, () => {
  let fx: ConfigDirFixture;
  let exporter: { url: string; child: ChildProcess } | undefined;
  let prometheus: RunningPrometheus | undefined;
  let rw: ConsoleServer;
  let ro: ConsoleServer;
  let locked: ConsoleServer;
  let rwUrl: string;
  let roUrl: string;
  let lockedUrl: string;
  let chromium: RunningChromium | undefined;
  let page: Page;

  before(async () => {
    if (!existsSync(WEB_INDEX)) await buildWeb();
    if (process.env.TRELLIS_SCREENSHOTS === '1') await mkdir(SCREENSHOTS, { recursive: true });
    else SCREENSHOTS = await mkdtemp(join(tmpdir(), 'trellis-screenshots-'));
    // No Istio routes for reviews: traffic spreads over v1, v2 and v3 until the wizard says otherwise.
    fx = await bookinfoConfigDir({ routes: false });
    exporter = await startExporter(fx.dir);
    prometheus = await startPrometheus([exporter.url.replace('http://', '')]);
    const metrics = new PrometheusMetricsSource(prometheus.url);
    // A few scrapes, so that rate() has something to work with at several steps (the overview's sparkline).
    await waitFor('request rates in Prometheus', T, async () => {
      const now = Math.floor(Date.now() / 1000);
      const r = await metrics.queryRange('sum(rate(istio_requests_total[10s]))', now - 20, now, 2);
      return (r[0]?.values.filter(([, v]) => v > 0).length ?? 0) >= 3;
    });
    const mesh = () => new YamlMeshSource({ configDir: fx.dir, proxies: synczProxies(exporter!.url), ...(fx.caRoot ? { caRootCertFile: fx.caRoot } : {}) });
    rw = new ConsoleServer({ mesh: mesh(), metrics, port: 0 });
    ro = new ConsoleServer({ mesh: mesh(), metrics, port: 0, viewOnlyMode: true });
    // Bound to every address, so it asks for a token; the browser still reaches it through loopback.
    locked = new ConsoleServer({ mesh: mesh(), metrics, host: '0.0.0.0', port: 0 });
    rwUrl = `http://127.0.0.1:${await rw.listen()}`;
    roUrl = `http://127.0.0.1:${await ro.listen()}`;
    lockedUrl = `http://127.0.0.1:${await locked.listen()}`;
    chromium = await launchChromium();
    page = chromium.page;
  });

  after(async () => {
    await chromium?.close();
    await Promise.all([rw?.close(), ro?.close(), locked?.close()]);
    await prometheus?.close();
    await stop(exporter?.child);
    if (SCREENSHOTS !== DOCS_SCREENSHOTS) await rm(SCREENSHOTS, { recursive: true, force: true });
    await fx?.cleanup();
  });

  test('overview: the namespace card with app health, mTLS and traffic', async () => {
    await page.goto(`${rwUrl}/overview`);
    const card = page.locator('[data-test="namespace-card-default"]');
    await card.waitFor();
    await card.locator('[data-test="sparkline"]').waitFor();
    assert.match(await card.locator('[data-test="inbound-rps"]').innerText(), /Inbound [1-9][\d.]* rps/);
    assert.match(await card.locator('[data-test="mtls-status"]').innerText(), /% of traffic/);
    assert.ok((await card.locator('[data-test="count-Healthy"]').count()) + (await card.locator('[data-test="count-Degraded"]').count()) > 0);
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png') });
  });

  test('graph: productpage → reviews v1/v2/v3 → ratings, with rates and mTLS locks', async () => {
    await page.goto(`${rwUrl}/graph?namespaces=default&graphType=versionedApp&duration=60&refresh=0`);
    const edge = (source: string, target: string) => page.locator(`[data-test="graph-edge"][data-source="${source}"][data-target="${target}"]`);
    const expected: Array<[string, string]> = [
      ['vapp_default_productpage-v1', 'svc_default_reviews'],
      ['svc_default_reviews', 'vapp_default_reviews-v1'],
      ['svc_default_reviews', 'vapp_default_reviews-v2'],
      ['svc_default_reviews', 'vapp_default_reviews-v3'],
      ['vapp_default_reviews-v2', 'svc_default_ratings'],
      ['vapp_default_reviews-v3', 'svc_default_ratings'],
      ['svc_default_ratings', 'vapp_default_ratings-v1'],
    ];
    for (const [s, t] of expected) {
      const e = edge(s, t);
      await e.waitFor();
      assert.match(await e.locator('[data-test="edge-label-text"]').textContent() ?? '', /^\d+(\.\d+)? rps$/, `${s} → ${t} shows its rate`);
      assert.equal(await e.getAttribute('data-mtls'), 'true', `${s} → ${t} is mTLS`);
      assert.equal(await e.locator('[data-test="mtls-lock"]').count(), 1);
    }
    // Plain-text traffic has no lock; the gateway and the unknown source are drawn as such.
    assert.equal(await edge('vapp_default_productpage-v1', 'svc_default_details').getAttribute('data-mtls'), 'false');
    await page.locator('[data-test="graph-node"][data-node-id="unknown_unknown"]').waitFor();
    await page.locator('[data-test="graph-node"][data-node-id="vapp_istio-system_istio-ingressgateway"]').waitFor();
    // reviews-v2's calls to ratings fail now and then (3% 503): degraded, as Kiali's tolerances say.
    assert.equal(await page.locator('[data-test="graph-node"][data-node-id="vapp_default_reviews-v2"]').getAttribute('data-health'), 'Degraded');
    await page.locator('[data-test="graph-view"][data-ready="true"]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'graph.png') });

    await edge('svc_default_reviews', 'vapp_default_reviews-v3').locator('[data-test="edge-label"]').click();
    const panel = page.locator('[data-test="side-panel"]');
    await panel.getByText('100% of traffic').waitFor();
    assert.match(await panel.locator('[data-test="side-panel-title"]').innerText(), /reviews → reviews v3/);
  });

  test('workload page: health, config, proxy sync status and certificate identity', async () => {
    await page.goto(`${rwUrl}/namespaces/default/workloads/reviews-v2`);
    await page.locator('[data-test="proxy-table"] [data-test="sync-CDS"]').waitFor();
    assert.equal(await page.locator('[data-test="cert-identity"]').innerText(), 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    await page.locator('[data-test="config-table"]').getByText('DestinationRule').waitFor();
    await page.locator('[data-test="detail-health"] [data-test="health-Degraded"]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'workload.png') });
    await page.getByRole('tab', { name: 'Inbound Metrics' }).click();
    await page.locator('[data-test="chart-requests"][data-has-data="true"]').waitFor();
  });

  test('control plane page: the mesh\'s control planes with their mode and members', async () => {
    await page.goto(`${rwUrl}/controlplane`);
    const row = page.locator('[data-test="control-planes"] [data-test="control-plane-istio-system"]');
    await row.waitFor({ timeout: T });
    assert.equal(await row.locator('[data-test="mode"]').innerText(), 'ClusterWide');
    assert.match(await row.innerText(), /Istio/);
  });

  test('Istio config: the broken VirtualService shows IST0101 at its line, in the list and on the YAML', async () => {
    await page.goto(`${rwUrl}/istio`);
    await page.locator('[data-test="config-row-reviews-canary"] [data-test="validation-Error"]').waitFor();
    await page.goto(`${rwUrl}/namespaces/default/istio/networking.istio.io/VirtualService/reviews-canary`);
    const message = page.locator(`[data-test="yaml-message"][data-line="${BROKEN_VS_LINE}"][data-code="IST0101"]`);
    await message.waitFor();
    assert.match(await message.innerText(), /v9/);
    assert.match(await page.locator(`tr.trellis-yaml__line[data-line="${BROKEN_VS_LINE}"]`).innerText(), /subset: v9/);
    await page.screenshot({ path: join(SCREENSHOTS, 'config.png') });

    // The editor marks the line the analyzer points at while the text is edited, before anything is written.
    const file = join(fx.dir, 'reviews-canary.yaml');
    const before = await readFile(file, 'utf8');
    await page.locator('[data-test="edit-yaml"]').click();
    const editor = page.locator('[data-test="yaml-editor"] textarea');
    const marker = (code: string) => page.locator(`[data-test="editor-marker"][data-line="${BROKEN_VS_LINE}"][data-code~="${code}"]`);
    await marker('IST0101').waitFor();
    // A save that keeps it broken is refused with the analyzer's message; the file stays as it was.
    await editor.fill((await editor.inputValue()).replace('subset: v9', 'subset: v8'));
    await page.locator('[data-test="yaml-editor"][data-checked="true"]').waitFor();
    await page.locator('[data-test="save-yaml"]').click();
    await page.locator('[data-test="save-error"]').waitFor();
    assert.match(await page.locator(`[data-test="editor-message"][data-line="${BROKEN_VS_LINE}"][data-code="IST0101"]`).innerText(), /v8/);
    assert.equal(await readFile(file, 'utf8'), before);
    // Fixing the subset clears the error; the file keeps its comment.
    await editor.fill((await editor.inputValue()).replace('subset: v8', 'subset: v1'));
    await page.locator('[data-test="yaml-editor"][data-checked="true"]').waitFor();
    assert.equal(await page.locator('[data-test="editor-marker"]').count(), 0);
    await page.locator('[data-test="save-yaml"]').click();
    await page.locator('[data-test="config-status"]').getByText('Valid').waitFor();
    assert.equal(await readFile(file, 'utf8'), before.replace('subset: v9', 'subset: v1'));
  });

  test('Istio config: create from a template with the findings as it is written, then delete', async () => {
    await page.goto(`${rwUrl}/istio/new?kind=VirtualService&namespace=default`);
    const editor = page.locator('[data-test="yaml-editor"] textarea');
    await editor.waitFor();
    // The template routes to my-service, which does not exist here: the analyzers say so at its line.
    await page.locator('[data-test="editor-marker"][data-code~="IST0101"]').waitFor();
    await editor.fill((await editor.inputValue()).replace('name: my-routes', 'name: ratings-mirror').replace(/my-service/g, 'ratings'));
    await page.locator('[data-test="yaml-editor"][data-checked="true"]').waitFor();
    await page.locator('[data-test="save-yaml"]').click();
    await page.locator('[data-test="config-status"]').getByText('Valid').waitFor();
    const file = join(fx.dir, 'default-virtualservice-ratings-mirror.yaml');
    assert.ok(existsSync(file));
    await page.locator('[data-test="delete-config"]').click();
    await page.locator('[data-test="delete-config-confirm"]').click();
    await page.locator('[data-test="istio-config-table"]').waitFor();
    assert.equal(existsSync(file), false);
    assert.equal(await page.locator('[data-test="config-row-ratings-mirror"]').count(), 0);
  });

  test('traffic-shifting wizard: writes a VS and DR the API accepts, and the split follows', async () => {
    await page.goto(`${rwUrl}/namespaces/default/services/reviews`);
    await page.locator('[data-test="actions-toggle"]').click();
    await page.locator('[data-test="action-traffic-shifting"]').click();
    const wizard = page.locator('[data-test="wizard"]');
    await wizard.waitFor();
    for (const [v, w] of [['v1', '50'], ['v2', '0'], ['v3', '50']] as const) await wizard.locator(`[data-test="weight-${v}"]`).fill(w);
    assert.equal(await wizard.locator('[data-test="weight-total"]').innerText(), '100%');
    await wizard.locator('[data-test="wizard-create"]').click();
    await page.locator('[data-test="wizard-applied"]').waitFor();

    const vsFile = join(fx.dir, 'default-virtualservice-reviews.yaml');
    assert.ok(existsSync(vsFile), 'the VirtualService is a new file in the config directory');
    assert.match(await readFile(vsFile, 'utf8'), /subset: v3\n\s+weight: 50/);
    assert.match(await readFile(join(fx.dir, 'destination-rule-all.yaml'), 'utf8'), /kiali_wizard: traffic_shifting/);
    const list = (await (await fetch(`${rwUrl}/api/istio/config`)).json()) as { items: Array<{ kind: string; name: string; status: string }> };
    assert.equal(list.items.find((c) => c.kind === 'VirtualService' && c.name === 'reviews')?.status, 'Valid');

    // The stand-in proxies follow the new VirtualService: reviews-v2 stops receiving traffic.
    await waitFor('reviews-v2 to stop receiving traffic', 20000, async () => {
      const g = (await (await fetch(`${rwUrl}/api/namespaces/graph?namespaces=default&graphType=versionedApp&duration=10s`)).json()) as { elements: { edges: Array<{ data: { source: string; target: string; rps: number } }> } };
      const rps = (t: string) => g.elements.edges.find((e) => e.data.source === 'svc_default_reviews' && e.data.target === t)?.data.rps ?? 0;
      return rps('vapp_default_reviews-v2') === 0 && rps('vapp_default_reviews-v1') > 0 && rps('vapp_default_reviews-v3') > 0;
    }, 500);
  });

  test('view-only mode: no actions or editor are offered, and the API refuses writes', async () => {
    await page.goto(`${roUrl}/namespaces/default/services/reviews`);
    await page.locator('[data-test="view-only-badge"]').waitFor();
    await page.locator('[data-test="config-table"]').waitFor();
    assert.equal(await page.locator('[data-test="actions-toggle"]').count(), 0);
    await page.goto(`${roUrl}/namespaces/default/istio/networking.istio.io/VirtualService/reviews-canary`);
    await page.locator('[data-test="read-only-note"]').waitFor();
    assert.equal(await page.locator('[data-test="edit-yaml"]').count(), 0);
    await page.goto(`${roUrl}/namespaces/default/workloads/reviews-v1`);
    await page.locator('[data-test="proxy-table"]').waitFor();
    assert.equal(await page.locator('[data-test="actions-toggle"]').count(), 0);
    // The page's own origin, with the page's own credentials: still refused by the server.
    const status = await page.evaluate(async () => (await fetch('/api/istio/config', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [x]}\n' })).status);
    assert.equal(status, 403);
  });

  test('bound beyond loopback: the login page asks for the token, then the console opens', async () => {
    await page.goto(`${lockedUrl}/overview`);
    await page.locator('[data-test="token"]').fill('not the token');
    await page.locator('[data-test="login"]').click();
    await page.getByText('wrong token').waitFor();
    await page.locator('[data-test="token"]').fill(locked.token);
    await page.locator('[data-test="login"]').click();
    await page.locator('[data-test="namespace-card-default"]').waitFor();
    const anonymous = await fetch(`${lockedUrl}/api/namespaces`);
    assert.equal(anonymous.status, 401);
  });
});

