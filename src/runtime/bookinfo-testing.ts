// Helpers for the Bookinfo tests on `trellis up` (Istio and Gateway API routing alike): which reviews version served
// productpage's API, waiting for productpage's sidecar to acknowledge new routes, and a weighted split checked within
// statistical tolerance rather than to the request.

import assert from 'node:assert/strict';
import type { LocalMesh } from './local-mesh.js';
import { reviewsShares } from '../console/testing/bookinfo-traffic.js';

export { reviewsShares, reviewsVersion } from '../console/testing/bookinfo-traffic.js';

/** Waits for `cond`, failing after `ms` with the run's last log lines. */
export function untilWith(logs: readonly string[]): (what: string, cond: () => Promise<boolean>, ms?: number) => Promise<void> {
  return async (what, cond, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
}

/** productpage's sidecar's acknowledged route version (where the rules for reviews apply). */
export function productpageRoutes(mesh: LocalMesh): string {
  const p = mesh.controlPlane.ads.proxies().find((x) => x.identity.podName.startsWith('productpage-'));
  const rds = p?.types.find((t) => t.typeUrl.endsWith('RouteConfiguration'));
  return rds && rds.state === 'SYNCED' ? rds.versionAcked : '';
}

/**
 * Applies a weighted routing sample (a file, or a console wizard's Create), waits until productpage's sidecar
 * acknowledged it, then checks that `second`
 * gets `expected` of n requests within 4σ and that only `first` and `second` answer.
 */
export async function expectSplit(o: { mesh: LocalMesh; base: string; until: ReturnType<typeof untilWith>; apply: () => void | Promise<void>; sample: string; first: string; second: string; expected: number; n?: number }): Promise<void> {
  const n = o.n ?? 200;
  let before = '';
  await o.until('routes settled', async () => (before = productpageRoutes(o.mesh)) !== '');
  await o.apply();
  await o.until(`${o.sample} in force`, async () => {
    const now = productpageRoutes(o.mesh);
    return now !== '' && now !== before;
  });
  const s = await reviewsShares(o.base, n);
  const share = (s[o.second] ?? 0) / n;
  const sd = Math.sqrt((o.expected * (1 - o.expected)) / n);
  assert.ok(Math.abs(share - o.expected) <= 4 * sd, `${o.sample}: ${o.second} share ${share} not within 4σ (${(4 * sd).toFixed(3)}) of ${o.expected}: ${JSON.stringify(s)}`);
  assert.equal((s[o.first] ?? 0) + (s[o.second] ?? 0), n, JSON.stringify(s));
}
