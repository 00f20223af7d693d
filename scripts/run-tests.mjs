// Runs the whole test suite on Node's own runner over the compiled tests in dist/, after installing the real peers it uses.
//
// Two guards keep a hang from eating CI's time: every test file has a timeout (a hung file fails with its name), and the
// whole run has a deadline after which the runner's process group is stopped and the test files still running are
// named. Either is a failure, never a pass.
import { spawn, spawnSync } from 'node:child_process';
import { ensureSystemDeps } from './system-deps.mjs';

const TEST_TIMEOUT_MS = Number(process.env.TRELLIS_TEST_TIMEOUT_MS ?? 600_000);
const SUITE_DEADLINE_MS = Number(process.env.TRELLIS_SUITE_DEADLINE_MS ?? 40 * 60_000);

ensureSystemDeps('test');
// The Kubernetes-mode tests need a kube-apiserver: unpacked from ../shared/k8s, or built here once per machine (8-13 min),
// before any test file's timeout starts counting.
const { kubeApiserverBinary } = await import('../dist/k8s/testing/kube-apiserver-binary.js');
const apiserver = await kubeApiserverBinary();
console.error('unavailable' in apiserver ? `run-tests: Kubernetes-mode tests will be skipped: ${apiserver.unavailable}` : `run-tests: kube-apiserver ${apiserver.path} (${apiserver.source})`);
const args = ['--test', `--test-timeout=${TEST_TIMEOUT_MS}`, ...process.argv.slice(2)];
// bench/lib holds the benchmark's reporting rules and their tests (plain .mjs, not compiled).
if (process.argv.length <= 2) args.push('dist/', 'bench/lib/');
// Its own process group, so the deadline can stop the test files and whatever they started, not only the runner.
const runner = spawn(process.execPath, args, { stdio: 'inherit', detached: true });
const stop = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    /* already gone */
  }
};
const deadline = setTimeout(() => {
  const running = spawnSync('pgrep', ['-a', '-g', String(runner.pid)], { encoding: 'utf8' }).stdout.trim();
  console.error(`\nrun-tests: the suite passed its deadline (${Math.round(SUITE_DEADLINE_MS / 1000)} s); still running:\n${running}\n`);
  stop('SIGKILL');
}, SUITE_DEADLINE_MS);
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
runner.on('exit', (code, signal) => {
  clearTimeout(deadline);
  process.exit(signal ? 1 : (code ?? 1));
});
