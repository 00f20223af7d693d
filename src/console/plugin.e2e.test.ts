// The OpenShift console plugin, built with the SDK's webpack tooling and served by `trellis console --plugin`, loaded
// in Chromium the way the OpenShift console loads it (manifest → entry → shared modules → code references) from a
// stand-in host page, each extension rendered against Bookinfo running in `trellis up`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { parse } from 'yaml';
import { LocalMesh } from '../runtime/local-mesh.js';
import { istioSamplesDir } from '../samples.js';
import { buildPlugin, type PluginBuildResult } from './build-plugin.js';
import { EXTENSIONS, PLUGIN_NAME } from './plugin-metadata.js';
import { haveChromium, launchChromium, type RunningChromium } from './testing/chromium.js';
import { startPluginHost, type PluginHost } from './testing/plugin-host.js';
import { havePrometheus, waitFor } from './testing/prometheus.js';

const BIN = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
const SAMPLES = `${istioSamplesDir()}/bookinfo`;
const TOKEN = 'plugin-test-token-0123456789abcdef';
const missing = [!haveChromium() && 'chromium', !havePrometheus() && 'prometheus'].filter(Boolean);

/** The index in the manifest of the first extension of `type` whose component is `codeRef`. */
function extensionIndex(manifest: { extensions: Array<{ type: string; properties: { component?: { $codeRef: string }; model?: { kind: string } } }> }, type: string, codeRef: string, kind?: string): number {
  const i = manifest.extensions.findIndex((e) => e.type === type && e.properties.component?.$codeRef === codeRef && (!kind || e.properties.model?.kind === kind));
  assert.ok(i >= 0, `${type} ${codeRef} in the manifest`);
  return i;
}

describe('OpenShift console plugin', { skip: missing.length ? `not installed: ${missing.join(', ')} (node scripts/system-deps.mjs test)` : false }, () => {
  let built: PluginBuildResult;
  let dir: string;
  let mesh: LocalMesh;
  let consoleProcess: ChildProcess | undefined;
  let consoleUrl: string;
  let host: PluginHost;
  let chromium: RunningChromium;
  let traffic: Promise<void> | undefined;
  let running = true;

  before(async () => {
    built = await buildPlugin();
    process.stdout.write(`console plugin built in ${built.ms} ms (${built.files.length} files)\n`);
    dir = mkdtempSync(join(tmpdir(), 'trellis-plugin-'));
    for (const f of ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml']) copyFileSync(`${SAMPLES}/${f}`, join(dir, f.split('/').pop()!));
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 51, prometheusPort: 0, scrapeInterval: '1s', log: () => {} });
    await mesh.waitReady(90_000);
    // Traffic for the graph and the health, through the ingress as a user's browser would send it.
    traffic = (async () => {
      while (running) await fetch(`${mesh.ingressUrl}/productpage`).then((r) => r.text(), () => '');
    })();
    // `trellis console --plugin`, as a process of its own over the running mesh.
    consoleProcess = spawn(process.execPath, [BIN, 'console', '--config-dir', dir, '--prometheus', mesh.prometheus!.url, '--controlplane-debug', `http://127.0.0.1:${mesh.debugPort}`, '--port', '0', '--token', TOKEN, '--plugin'], { stdio: ['ignore', 'pipe', 'inherit'] });
    consoleUrl = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: consoleProcess!.stdout! });
      rl.on('line', (l) => {
        const m = /^console: (http:\S+)\/$/.exec(l);
        if (m) resolve(m[1]!);
      });
      consoleProcess!.once('exit', (code) => reject(new Error(`trellis console exited with ${code}`)));
    });
    host = await startPluginHost({ consoleUrl, token: TOKEN });
    chromium = await launchChromium();
  });

  /** Open the host page on one extension and wait until the plugin's module rendered it (or failed to). */
  async function render(path: string): Promise<Page> {
    const page = chromium.page;
    await page.goto(`${host.url}${path}`);
    await page.waitForFunction('document.body.dataset.extension || document.body.dataset.error');
    assert.equal(await page.getAttribute('body', 'data-error'), null, 'the plugin loaded');
    return page;
  }

  after(async () => {
    running = false;
    await traffic;
    await chromium?.close();
    await host?.close();
    if (consoleProcess && consoleProcess.exitCode === null) {
      const exited = new Promise((r) => consoleProcess!.once('exit', r));
      consoleProcess.kill('SIGTERM');
      await exited;
    }
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the SDK build: plugin-manifest.json lists every extension and the entry; the server serves them and the ConsolePlugin resource', async () => {
    const manifest = JSON.parse(readFileSync(join(built.outDir, 'plugin-manifest.json'), 'utf8')) as { name: string; baseURL: string; loadScripts: string[]; extensions: unknown[]; registrationMethod: string; dependencies: Record<string, string> };
    assert.equal(manifest.name, PLUGIN_NAME);
    assert.equal(manifest.baseURL, `/api/plugins/${PLUGIN_NAME}/`);
    assert.equal(manifest.registrationMethod, 'callback');
    assert.deepEqual(manifest.extensions, EXTENSIONS);
    assert.deepEqual(manifest.extensions.map((e) => (e as { type: string }).type).filter((t, i, a) => a.indexOf(t) === i).sort(), ['console.navigation/href', 'console.navigation/section', 'console.page/route', 'console.tab/horizontalNav']);
    assert.match(manifest.dependencies['@console/pluginAPI']!, /4\.22/);
    // The entry registers the container through the console's callback, under the plugin's name.
    const entry = await (await fetch(`${consoleUrl}/plugin/${manifest.loadScripts[0]}`)).text();
    assert.match(entry, new RegExp(`__load_plugin_entry__\\(["']${PLUGIN_NAME}["'],`));
    const served = (await (await fetch(`${consoleUrl}/plugin/plugin-manifest.json`)).json()) as { extensions: unknown[] };
    assert.deepEqual(served.extensions, EXTENSIONS);
    const cr = parse(await (await fetch(`${consoleUrl}/plugin/console-plugin.yaml`)).text()) as { kind: string; metadata: { name: string }; spec: { backend: { service: { basePath: string } }; proxy: Array<{ alias: string }> } };
    assert.equal(cr.kind, 'ConsolePlugin');
    assert.equal(cr.metadata.name, PLUGIN_NAME);
    assert.equal(cr.spec.backend.service.basePath, '/plugin/');
    assert.equal(cr.spec.proxy[0]!.alias, 'trellis');
    // Nothing outside the plugin's directory (a raw path: fetch would resolve the dots itself).
    const escaped = await new Promise<string>((resolve, reject) => http.get(`${consoleUrl}/plugin/x`, { path: '/plugin/../../package.json' }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => resolve(body));
    }).on('error', reject));
    assert.doesNotMatch(escaped, /"devDependencies"/);
    assert.equal((await fetch(`${consoleUrl}/plugin/nothing.js`)).status, 404);
  });

  test('the Service Mesh tab: the overview card of the namespace, then the traffic graph of the running mesh', async () => {
    const manifest = JSON.parse(readFileSync(join(built.outDir, 'plugin-manifest.json'), 'utf8'));
    const errors: string[] = [];
    chromium.page.on('pageerror', (e) => errors.push(e.message));
    const page = await render(`/servicemesh/overview?extension=${extensionIndex(manifest, 'console.page/route', 'ServiceMeshPage')}`);
    await page.locator('[data-test="trellis-plugin"] [data-test="service-mesh-tabs"]').waitFor();
    const card = page.locator('[data-test="namespace-card-default"]');
    await card.waitFor();
    await waitFor('inbound traffic on the card', 30_000, async () => /Inbound [1-9][\d.]* rps/.test(await card.locator('[data-test="inbound-rps"]').innerText()), 500);
    await render(`/servicemesh/graph?extension=${extensionIndex(manifest, 'console.page/route', 'ServiceMeshPage')}&namespaces=default&graphType=versionedApp&duration=60&refresh=0`);
    await page.locator('[data-test="graph-edge"][data-source="svc_default_reviews"]').first().waitFor({ timeout: 30_000 });
    await page.locator('[data-test="graph-node"][data-node-id="vapp_default_productpage-v1"]').waitFor();
    assert.deepEqual(errors, []);
  });

  test('a workload\'s Service Mesh tab: the Deployment\'s mesh page with its proxy synced, and its Envoy config', async () => {
    const manifest = JSON.parse(readFileSync(join(built.outDir, 'plugin-manifest.json'), 'utf8'));
    const page = await render(`/k8s/ns/default/deployments/reviews-v2/servicemesh?extension=${extensionIndex(manifest, 'console.tab/horizontalNav', 'WorkloadMeshTab', 'Deployment')}&namespace=default&name=reviews-v2`);
    await page.locator('[data-test="trellis-plugin"] [data-test="page-title"]').getByText('reviews-v2').waitFor();
    await page.locator('[data-test="proxy-table"] [data-test="sync-CDS"]').getByText('SYNCED').waitFor();
    await page.locator('[data-test="config-table"]').getByText('DestinationRule').waitFor();
    // Links lead to the OpenShift console's own pages (the service's Service Mesh tab), not the Trellis console's.
    assert.equal(await page.locator('a', { hasText: /^reviews$/ }).first().getAttribute('href'), '/k8s/ns/default/services/reviews/servicemesh');
    await page.getByRole('tab', { name: 'Envoy' }).click();
    await page.locator('[data-test="envoy-clusters"]').getByText('ratings.default.svc.cluster.local').first().waitFor();
  });

  test('a Service\'s Service Mesh tab and Istio Config under Networking: writes go through the console\'s proxy', async () => {
    const manifest = JSON.parse(readFileSync(join(built.outDir, 'plugin-manifest.json'), 'utf8'));
    const page = await render(`/k8s/ns/default/services/reviews/servicemesh?extension=${extensionIndex(manifest, 'console.tab/horizontalNav', 'ServiceMeshTab', 'Service')}&namespace=default&name=reviews`);
    await page.locator('[data-test="actions-toggle"]').click();
    await page.locator('[data-test="action-traffic-shifting"]').click();
    const w = page.locator('[data-test="wizard"]');
    for (const [v, n] of [['v1', '0'], ['v2', '0'], ['v3', '100']] as const) await w.locator(`[data-test="weight-${v}"]`).fill(n);
    await w.locator('[data-test="wizard-create"]').click();
    await page.locator('[data-test="wizard-applied"]').waitFor();
    assert.match(readFileSync(join(dir, 'default-virtualservice-reviews.yaml'), 'utf8'), /subset: v3/);
    await render(`/servicemesh/istio?extension=${extensionIndex(manifest, 'console.page/route', 'IstioConfigPage')}`);
    await page.locator('[data-test="config-row-reviews"]').first().waitFor();
    await page.locator('[data-test="config-row-bookinfo-gateway"]').waitFor();
  });
});
