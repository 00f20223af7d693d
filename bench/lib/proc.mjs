// Child processes for the benchmark: start, wait for a readiness line, read CPU time and RSS from /proc, stop.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** Start a program and resolve when a stdout/stderr line matches `ready` (its match is returned). */
export function start(cmd, args, { ready, env, timeoutMs = 15_000 } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      const m = ready ? output.match(ready) : [''];
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (!ready) child.once('spawn', () => (clearTimeout(timer), resolve([''])));
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
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
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
