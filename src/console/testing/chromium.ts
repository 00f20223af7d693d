// Debian's Chromium for the console's browser tests, through playwright-core: a fresh profile, removed on close.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Deadline for any one thing to appear on a page. */
export const PAGE_TIMEOUT_MS = 15000;

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export interface RunningChromium {
  browser: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<RunningChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'trellis-chromium-'));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1440, height: 900 } });
  browser.setDefaultTimeout(PAGE_TIMEOUT_MS);
  const page = browser.pages()[0] ?? (await browser.newPage());
  return {
    browser,
    page,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
