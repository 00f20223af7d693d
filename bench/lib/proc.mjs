// Child processes for the benchmark: start, wait for a readiness line, read CPU time and RSS from /proc, stop.
// Every child (and every temporary directory) is registered, so a failure, Ctrl-C or SIGTERM of the benchmark still
// stops all of them: shutdownAll() on the way out, and a synchronous SIGTERM sweep on process exit as a last resort.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

const live = new Set();
const dirs = new Set();

/** Register a child process so that shutdownAll() (and process exit) stops it. */
export function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Register a temporary directory, removed by shutdownAll() or at exit; returns a function that removes it now. */
export function tempDir(dir) {
  dirs.add(dir);
  return () => {
    dirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Stop every child still running (SIGTERM, then SIGKILL to its whole process tree) and remove temporary dirs. */
export async function shutdownAll() {
  await Promise.all([...live].map((c) => stop(c)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

let installed = false;
/** Ctrl-C / SIGTERM / SIGHUP: stop every child, then exit with the conventional status. */
export function installSignalHandlers() {
  if (installed) return;
  installed = true;
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.once(sig, () => {
      process.stderr.write(`\n${sig}: stopping ${live.size} benchmark process(es)\n`);
      shutdownAll().finally(() => process.exit(code));
    });
  }
  // Last resort (an uncaught error, process.exit elsewhere): exit handlers cannot wait, so signal the whole trees.
  process.once('exit', () => {
    for (const c of live) for (const pid of processTree(c.pid).reverse()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (const d of dirs) try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  });
}

/** Start a program and resolve when a stdout/stderr line matches `ready` (its match is returned). */
export function start(cmd, args, { ready, env, timeoutMs = 15_000 } = {}) {
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  let output = '';
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop(child);
      reject(new Error(`${cmd} not ready in ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      if (output.length > 1 << 20) output = output.slice(-(1 << 19));
      const m = ready ? output.match(ready) : [''];
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (!ready) child.once('spawn', () => (clearTimeout(timer), resolve([''])));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready:\n${output.slice(-2000)}`));
    });
  });
  return done.then((match) => ({ child, match, output: () => output }));
}

export function stop(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // Children first: killing an nginx master with SIGKILL would orphan its worker.
      for (const pid of processTree(child.pid).reverse()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }, 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** CPU seconds (user + system) used so far by a process and all its threads; children of nginx/haproxy included via `pids`. */
export function cpuSeconds(pids) {
  let total = 0;
  for (const pid of [].concat(pids)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
    } catch {
      /* exited */
    }
  }
  return total;
}

/** Resident set size in MiB, summed over `pids`. */
export function rssMiB(pids) {
  let kib = 0;
  for (const pid of [].concat(pids)) {
    try {
      const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
      if (m) kib += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kib / 1024;
}

/** The pids of a process and its descendants (nginx and haproxy fork workers). */
export function processTree(pid) {
  const out = [pid];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const c of children) out.push(...processTree(c));
  } catch {
    /* no children file */
  }
  return out;
}
