// The Gateway API conformance scenarios (GATEWAY-HTTP profile, core and the extended features Trellis claims) as part of
// the tests: one `trellis up` with the suite's base, each scenario a test that applies its manifests, checks requests,
// responses and status through the real gateway proxies, and cleans up. `npm run conformance` runs the same and prints
// the score.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TESTS } from './all-tests.js';
import { Harness } from './harness.js';
import { runTest, scoreReport, type TestResult } from './suite.js';

let h: Harness;
const results: TestResult[] = [];

before(async () => {
  h = await Harness.start({ addressBase: 61 });
});

after(async () => {
  await h?.stop();
  if (results.length) process.stdout.write(`${scoreReport(results)}\n`);
});

for (const t of ALL_TESTS) {
  test(`${t.name} (${t.features.join(', ')})`, { timeout: 180_000 }, async () => {
    const r = await runTest(h, t);
    results.push(r);
    assert.ok(r.passed, `${t.name}: ${r.error}\n${h.recentLogs(15)}`);
  });
}
