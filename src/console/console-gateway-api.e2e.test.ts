// Kiali's Gateway API wizards on a live `trellis up` of Istio's Bookinfo, driven in Chromium: Create K8s Gateway writes
// a Gateway that gets a proxy of its own and shows Programmed; K8s Request Routing attaches productpage to it; K8s
// Traffic Shifting first refuses reviews for want of per-version Services (offering their YAML), then — with that YAML
// applied — splits reviews' traffic within statistical tolerance; a header rule and Delete Traffic Routing follow.
// A view-only console over the same directory shows the status and offers no way to create.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { RouteConfiguration } from '../xds/envoy/index.js';
import { TypeUrl } from '../xds/resource.js';
import { expectSplit, productpageRoutes, reviewsShares, untilWith } from '../runtime/bookinfo-testing.js';
import { LocalMesh } from '../runtime/local-mesh.js';
import { istioSamplesDir } from '../samples.js';
import { buildWeb } from './build-web.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { ConsoleServer } from './server.js';
import { haveChromium, launchChromium, type RunningChromium } from './testing/chromium.js';
import { consolePage, getWithHost, type ConsolePage } from './testing/console-page.js';

const SAMPLES = `${istioSamplesDir()}/bookinfo`;
const WEB_INDEX = fileURLToPath(new URL('./web/index.html', import.meta.url));

describe('Gateway API wizards on a live trellis up', { skip: haveChromium() ? false : 'chromium is not installed (node scripts/system-deps.mjs test)' }, () => {
  let dir: string;
  let mesh: LocalMesh;
  let chromium: RunningChromium;
  let page: Page;
  let ui: ConsolePage;
  let consoleUrl: string;
  const logs: string[] = [];
  const until = untilWith(logs);

  before(async () => {
    if (!existsSync(WEB_INDEX)) await buildWeb();
    dir = mkdtempSync(join(tmpdir(), 'trellis-gwapi-console-'));
    // Bookinfo alone: no per-version Services yet, no Gateway.
    copyFileSync(`${SAMPLES}/platform/kube/bookinfo.yaml`, join(dir, 'bookinfo.yaml'));
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 53, consolePort: 0, log: (l) => logs.push(l) });
    await mesh.waitReady(90_000);
    consoleUrl = mesh.consoleUrl!.replace(/\/$/, '');
    chromium = await launchChromium();
    page = chromium.page;
    ui = consolePage(page, consoleUrl);
  });

  after(async () => {
    await chromium?.close();
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The deployed proxy of the Gateway the form creates. */
  function gatewayAddress(): string {
    const d = mesh.gatewayApi!.deployments().find((x) => x.key === 'default/bookinfo-gw');
    assert.ok(d, 'bookinfo-gw is deployed');
    return d.address;
  }

  /** Reload the Istio Config list until the row's Gateway API status reads `text`. */
  async function listStatus(name: string, text: RegExp): Promise<void> {
    await until(`${name}: ${text}`, async () => {
      await page.goto(`${consoleUrl}/istio?namespace=default`);
      const label = page.locator(`[data-test="k8s-status-${name}"]`);
      await label.first().waitFor();
      return text.test(await label.first().innerText());
    }, 30_000);
  }

  test('Create K8s Gateway: the form writes a Gateway of class istio with two listeners; trellis up deploys its proxy, and the UI shows it Programmed', async () => {
    await page.goto(`${consoleUrl}/istio?namespace=default`);
    await ui.select(page, 'create', 'K8sGatewayForm');
    const form = page.locator('[data-test="k8s-gateway-form"]');
    await form.waitFor();
    await form.locator('[data-test="gateway-name"]').fill('bookinfo-gw');
    await form.locator('[data-test="add-listener"]').click();
    await form.locator('[data-test="listener-1-name"]').fill('shop');
    await form.locator('[data-test="listener-1-port"]').fill('8080');
    await form.locator('[data-test="listener-1-hostname"]').fill('shop.example.com');
    // Two listeners on one port with one protocol and host name: refused before anything is written.
    await form.locator('[data-test="listener-1-port"]').fill('80');
    await form.locator('[data-test="listener-1-hostname"]').fill('');
    await form.locator('[data-test="wizard-problem"]').waitFor();
    assert.equal(await form.locator('[data-test="wizard-create"]').isDisabled(), true);
    await form.locator('[data-test="listener-1-port"]').fill('8080');
    await form.locator('[data-test="listener-1-hostname"]').fill('shop.example.com');
    assert.match(await form.locator('[data-test="wizard-preview"]').innerText(), /gatewayClassName: istio[\s\S]*port: 80\n\s+protocol: HTTP[\s\S]*name: shop\n\s+port: 8080\n\s+protocol: HTTP\n\s+hostname: shop.example.com/);
    await form.locator('[data-test="wizard-create"]').click();
    // Create opens the new Gateway's page, which shows its status as the control plane computes it.
    await page.waitForURL(/\/istio\/gateway\.networking\.k8s\.io\/Gateway\/bookinfo-gw$/);
    await until('Programmed on its page', async () => (await page.locator('[data-test="k8s-status-summary"]').innerText().catch(() => '')) === 'Programmed', 30_000);
    assert.match(await page.locator('[data-test="k8s-status-addresses"]').innerText(), new RegExp(gatewayAddress().replace(/\./g, '\\.')));
    assert.match(await page.locator('[data-test="condition-Programmed"]').first().innerText(), /True\s+Programmed/);
    assert.equal(await page.locator('[data-test="status-source"]').count(), 0, 'the status is the running control plane\'s');
    assert.deepEqual(mesh.gatewayApi!.deployments().find((d) => d.key === 'default/bookinfo-gw')!.ports, [80, 8080]);
  });

  test('K8s Request Routing on productpage at that Gateway: served on both listeners, the route Accepted in the list', async () => {
    const w = await ui.openAction('productpage', 'k8s-request-routing');
    await w.locator('[data-test="advanced"] button').first().click();
    await w.locator('[data-test="gateway-add"]').check();
    await ui.select(w, 'gateway-mode', 'existing');
    await ui.select(w, 'gateway-existing', 'default/bookinfo-gw');
    await ui.create(w, /kind: HTTPRoute[\s\S]*parentRefs:\n\s+- name: bookinfo-gw\n[\s\S]*backendRefs:\n\s+- name: productpage\n\s+port: 9080/);
    await until('productpage through the new Gateway', async () => {
      const res = await fetch(`http://${gatewayAddress()}/productpage`).catch(() => undefined);
      return res?.status === 200 && /The Comedy of Errors/.test(await res.text());
    }, 30_000);
    const shop = await getWithHost(`http://${gatewayAddress()}:8080/productpage`, 'shop.example.com');
    assert.equal(shop.status, 200);
    assert.equal((await getWithHost(`http://${gatewayAddress()}:8080/productpage`, 'elsewhere.example.com')).status, 404, 'the shop listener serves its host name only');
    await listStatus('productpage', /^Accepted$/);
    await listStatus('bookinfo-gw', /^Programmed$/);
  });

  test('K8s Traffic Shifting on reviews: refused without per-version Services, whose YAML it offers; with it applied, 70/30 between v1 and v3 within tolerance', async () => {
    let w = await ui.openAction('reviews', 'k8s-traffic-shifting');
    const problem = w.locator('[data-test="wizard-problem"]');
    await until('the refusal', async () => /no Service for versions v1, v2, v3/.test(await problem.innerText().catch(() => '')));
    assert.equal(await w.locator('[data-test="wizard-create"]').isDisabled(), true);
    const offered = await w.locator('[data-test="wizard-missing-services"]').innerText();
    assert.match(offered, /name: reviews-v1[\s\S]*version: v1[\s\S]*name: reviews-v3/);
    // The user applies the Services the dialog offers (the console writes only mesh config), then runs the wizard again.
    writeFileSync(join(dir, 'reviews-versions.yaml'), offered);
    await until('productpage\'s sidecar routes to reviews-v3', async () => productpageKnows(mesh, 'reviews-v3'));
    w = await ui.openAction('reviews', 'k8s-traffic-shifting');
    await w.locator('[data-test="backend-v3"]').getByText('reviews-v3').waitFor();
    for (const [v, n] of [['v1', '70'], ['v2', '0'], ['v3', '30']] as const) await w.locator(`[data-test="weight-${v}"]`).fill(n);
    const gw = `http://${gatewayAddress()}`;
    await expectSplit({
      mesh,
      base: gw,
      until,
      apply: () => ui.create(w, /parentRefs:\n\s+- group: ""\n\s+kind: Service\n\s+name: reviews\n\s+port: 9080[\s\S]*name: reviews-v1\n\s+port: 9080\n\s+weight: 70\n\s+- name: reviews-v3\n\s+port: 9080\n\s+weight: 30/),
      sample: 'K8s Traffic Shifting 70/30',
      first: 'v1',
      second: 'v3',
      expected: 0.3,
    });
    await listStatus('reviews', /^Accepted$/);
  });

  test('K8s Request Routing on reviews: jason goes to v2 and everyone else to v1 (the same HTTPRoute, updated)', async () => {
    const w = await ui.openAction('reviews', 'k8s-request-routing');
    await w.locator('[data-test="add-rule"]').click();
    await ui.select(w, 'rule-0-subset', 'v2');
    await w.locator('[data-test="rule-0-value"]').fill('jason');
    await ui.select(w, 'rule-1-subset', 'v1');
    await ui.create(w, /headers:\n\s+- type: Exact\n\s+name: end-user\n\s+value: jason/);
    const gw = `http://${gatewayAddress()}`;
    await until('jason on v2, the rest on v1', async () => {
      const [j, o] = [await reviewsShares(gw, 6, { 'end-user': 'jason' }), await reviewsShares(gw, 6)];
      return j.v2 === 6 && o.v1 === 6;
    });
  });

  test('view-only: the same directory\'s Gateway API status is shown, and nothing can be created', async () => {
    const viewOnly = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: dir }), port: 0, viewOnlyMode: true });
    const url = `http://127.0.0.1:${await viewOnly.listen()}`;
    try {
      await page.goto(`${url}/istio?namespace=default`);
      await page.locator('[data-test="view-only-badge"]').waitFor();
      // Without the control plane it is computed from the files: Accepted, but no proxy runs for it there.
      assert.match(await page.locator('[data-test="k8s-status-bookinfo-gw"]').innerText(), /Not programmed: AddressNotAssigned/);
      assert.match(await page.locator('[data-test="status-source"]').innerText(), /no control plane/);
      assert.equal(await page.locator('[data-test="create-toggle"]').count(), 0);
      await page.goto(`${url}/istio/new/k8s-gateway?namespace=default`);
      await page.locator('[data-test="read-only-note"]').waitFor();
      assert.equal(await page.locator('[data-test="wizard-create"]').count(), 0);
      await page.goto(`${url}/namespaces/default/services/reviews`);
      await page.locator('[data-test="config-table"]').waitFor();
      assert.equal(await page.locator('[data-test="actions-toggle"]').count(), 0);
    } finally {
      await viewOnly.close();
    }
  });

  test('Delete Traffic Routing on reviews removes its HTTPRoute: traffic spreads over every version again', async () => {
    const d = await ui.openAction('reviews', 'delete-traffic-routing');
    const list = d.locator('[data-test="delete-routing-list"]');
    await list.waitFor();
    assert.match(await list.innerText(), /HTTPRoute reviews/);
    await d.locator('[data-test="delete-routing-confirm"]').click();
    await page.locator('[data-test="wizard-applied"]').waitFor();
    await until('reviews spread over v1, v2 and v3', async () => {
      const s = await reviewsShares(`http://${gatewayAddress()}`, 30);
      return (s.v1 ?? 0) > 0 && (s.v2 ?? 0) > 0 && (s.v3 ?? 0) > 0;
    });
  });
});

/** Whether productpage's sidecar acknowledged routes that know `service` (its per-version Service, here). */
function productpageKnows(mesh: LocalMesh, service: string): boolean {
  const c = mesh.controlPlane.ads.configFor('productpage-v1');
  const routes = (c?.resources.get(TypeUrl.RouteConfiguration) ?? []).map((r) => r.value as RouteConfiguration);
  return routes.some((r) => (r.virtualHosts ?? []).some((v) => (v.name ?? '').startsWith(`${service}.`))) && productpageRoutes(mesh) === c?.versions[TypeUrl.RouteConfiguration];
}
