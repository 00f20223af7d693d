// Driving the console's pages in Chromium as the browser tests do: a service's action dialog, a select, Create with
// its preview checked, and a GET with a Host header of its own (fetch always sends the URL's).

import assert from 'node:assert/strict';
import http from 'node:http';
import type { Locator, Page } from 'playwright-core';

export interface ConsolePage {
  /** Open a service's action (`request-routing`, `k8s-traffic-shifting`, `delete-traffic-routing`…) and wait for its dialog. */
  openAction(service: string, action: string, namespace?: string): Promise<Locator>;
  /** Pick `value` in the SimpleSelect `id` inside `scope`. */
  select(scope: Locator | Page, id: string, value: string): Promise<void>;
  /** Create: the preview shows what is written, then the page says where it went. */
  create(dialog: Locator, previewHas: RegExp): Promise<void>;
}

export function consolePage(page: Page, consoleUrl: string): ConsolePage {
  const select = async (scope: Locator | Page, id: string, value: string) => {
    await scope.locator(`[data-test="${id}-toggle"]`).click();
    await page.locator(`[data-test="${id}-${value}"]`).click();
  };
  return {
    async openAction(service, action, namespace = 'default') {
      await page.goto(`${consoleUrl}/namespaces/${namespace}/services/${service}`);
      await page.locator('[data-test="actions-toggle"]').click();
      await page.locator(`[data-test="action-${action}"]`).click();
      const dialog = page.locator(action === 'delete-traffic-routing' ? '[data-test="delete-routing"]' : '[data-test="wizard"]');
      await dialog.waitFor();
      return dialog;
    },
    select,
    async create(dialog, previewHas) {
      assert.match(await dialog.locator('[data-test="wizard-preview"]').innerText(), previewHas);
      await dialog.locator('[data-test="wizard-create"]').click();
      await page.locator('[data-test="wizard-applied"]').waitFor();
    },
  };
}

/** A GET with its own Host header. */
export function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}
