// `npm run conformance`: runs the Gateway API conformance scenarios (GATEWAY-HTTP and GATEWAY-GRPC profiles) against `trellis up` and prints
// the score; `-- NAME…` runs only those tests. Exits 1 when a core test fails.

import { ALL_TESTS } from './all-tests.js';
import { Harness } from './harness.js';
import { runTest, scoreReport, type TestResult } from './suite.js';

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const tests = only.length ? ALL_TESTS.filter((t) => only.includes(t.name)) : ALL_TESTS;
  if (!tests.length) {
    process.stderr.write(`no test named ${only.join(', ')}; known: ${ALL_TESTS.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  process.stdout.write(`starting trellis up with the suite's base (namespaces, Gateways, echo backends)…\n`);
  const h = await Harness.start({ log: process.env.TRELLIS_CONFORMANCE_VERBOSE ? (l) => process.stdout.write(`${l}\n`) : undefined });
  const results: TestResult[] = [];
  try {
    for (const t of tests) {
      const r = await runTest(h, t);
      results.push(r);
      process.stdout.write(`${r.passed ? '✔' : '✘'} ${r.name} (${(r.ms / 1000).toFixed(1)} s)${r.error ? `: ${r.error.split('\n')[0]}` : ''}\n`);
    }
  } finally {
    await h.stop();
  }
  process.stdout.write(`\n${scoreReport(results)}\n`);
  return results.some((r) => r.level === 'core' && !r.passed) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
