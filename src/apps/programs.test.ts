// Tests that each app runs as a program: starts from the command line, serves, and exits 0 on SIGTERM; sleep waits and stops.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSleep } from './sleep.js';
import { call } from './lib/testing.js';

const dist = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

interface Started {
  child: ChildProcess;
  firstLine: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a program and waits (with a deadline) for its first stdout line. */
function startProgram(script: string, args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [dist(script), ...args], {
    env: { ...process.env, BIND_ADDRESS: '127.0.0.1', EXT_AUTHZ_QUIET: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start: ${err}`));
    }, 10_000);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, firstLine: out.slice(0, nl), exit });
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${script} exited early: ${err}`));
    });
  });
}

function portOf(line: string, label = ''): number {
  const m = new RegExp(`${label}[^\\s]*?:(\\d+)`).exec(line);
  assert.ok(m, `no port in "${line}"`);
  return Number(m[1]);
}

async function stop(p: Started): Promise<void> {
  p.child.kill('SIGTERM');
  const { code } = await p.exit;
  assert.equal(code, 0);
}

test('bookinfo services run by name and by module, and stop on SIGTERM', async () => {
  const details = await startProgram('./bookinfo/main.js', ['details'], { PORT: '0' });
  try {
    assert.match(details.firstLine, /^details: listening on 127\.0\.0\.1:\d+$/);
    const res = await call(`http://127.0.0.1:${portOf(details.firstLine)}/details/0`);
    assert.equal(res.status, 200);
  } finally {
    await stop(details);
  }
  const reviews = await startProgram('./bookinfo/reviews.js', ['0'], { SERVICE_VERSION: 'v1', HOSTNAME: 'reviews-v1-x' });
  try {
    const res = await call(`http://127.0.0.1:${portOf(reviews.firstLine)}/reviews/0`);
    assert.equal((JSON.parse(res.body.toString()) as { podname: string }).podname, 'reviews-v1-x');
  } finally {
    await stop(reviews);
  }
});

test('echo and ext-authz run as programs', async () => {
  const echo = await startProgram('./echo.js', [], { PORT: '0' });
  try {
    assert.equal((await call(`http://127.0.0.1:${portOf(echo.firstLine)}/status/204`)).status, 204);
  } finally {
    await stop(echo);
  }
  const authz = await startProgram('./ext-authz.js', ['-http', '0', '-grpc', '0']);
  try {
    const res = await call(`http://127.0.0.1:${portOf(authz.firstLine, 'HTTP on ')}/x`);
    assert.equal(res.status, 403);
  } finally {
    await stop(authz);
  }
});

test('sleep waits for its time, or until SIGTERM (exit 0)', async () => {
  assert.equal(parseSleep(['infinity']), Infinity);
  assert.equal(parseSleep(['1.5', '2m']), 121_500);
  assert.throws(() => parseSleep(['soon']));

  const short = spawn(process.execPath, [dist('./sleep.js'), '0.05'], { stdio: 'ignore' });
  const shortExit = await new Promise<number | null>((resolve) => short.on('exit', (code) => resolve(code)));
  assert.equal(shortExit, 0);

  const forever = spawn(process.execPath, [dist('./sleep.js'), 'infinity'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  const exit = new Promise<number | null>((resolve) => forever.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sleep never became ready')), 10_000);
    forever.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  forever.kill('SIGTERM');
  assert.equal(await exit, 0);
});
