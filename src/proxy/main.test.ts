// The proxy program as a real process: SIGTERM drains (an in-flight request finishes) before exiting, and a stop that
// comes while start-up is still under way (/quitquitquit or a signal while the CA does not answer and workers are
// still forking) drains and exits 0 too, leaving no process behind.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CertificateAuthority } from '../ca/ca.js';
import { freePort } from '../free-port.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startUpstream, vhost, waitFor, type Upstream } from './testing.js';
import { refused } from './workers/test-process.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

/** `trellis proxy` in its own process group (so that its workers can be counted), stderr collected. */
function startProgram(args: string[]) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const out = { child, stderr: '', exited: new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal }))) };
  child.stderr.on('data', (d) => (out.stderr += d));
  return out;
}

/** Processes left in the group (the program's workers, had it leaked any). */
function group(pgid: number): string {
  return spawnSync('pgrep', ['-a', '-g', String(pgid)], { encoding: 'utf8' }).stdout.trim();
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

describe('proxy program', () => {
  let slow: Upstream;
  let dir: string;
  let caRoot: string;
  // A CA address that accepts connections and never answers: start-up waits there (the TLS handshake never ends).
  let silentCa: net.Server;
  const held = new Set<net.Socket>();

  before(async () => {
    slow = await startUpstream('slow', (_req, res) => {
      setTimeout(() => res.end('finished'), 400);
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-proxy-'));
    const ca = await CertificateAuthority.open({ stateDir: path.join(dir, 'ca') });
    caRoot = path.join(dir, 'root-cert.pem');
    fs.writeFileSync(caRoot, ca.trustBundle());
    silentCa = net.createServer((s) => {
      held.add(s);
      s.on('close', () => held.delete(s));
    });
    await new Promise<void>((r) => silentCa.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await slow.close();
    for (const s of held) s.destroy();
    await new Promise((r) => silentCa.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const silentCaAddress = () => `127.0.0.1:${(silentCa.address() as net.AddressInfo).port}`;

  test('SIGTERM drains: the in-flight request completes, then the process exits 0', async () => {
    const file = path.join(dir, 'snapshot.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        listeners: [httpListener('http', 'r')],
        routes: [routeConfig('r', [vhost('all', ['*'], [routeTo('slow')])])],
        clusters: [edsCluster('slow')],
        endpoints: [cla('slow', [{ port: slow.port }])],
      }),
    );
    const adminPort = await freePort();
    const p = startProgram(['--config', file, '--admin-port', String(adminPort), '--drain-time-s', '5']);
    try {
      // LIVE once the file's snapshot is applied.
      await waitFor(async () => (await request(adminPort, { path: '/ready' }).catch(() => undefined))?.body === 'LIVE\n', 10_000, 'the program to apply its config');
      const listeners = (await request(adminPort, { path: '/listeners' })).body;
      const port = Number(/^http::127\.0\.0\.1:(\d+)$/m.exec(listeners)![1]);
      const inflight = request(port);
      await waitFor(() => slow.requests.length > 0, 5000, 'the request to reach the upstream');
      p.child.kill('SIGTERM');
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished');
      assert.deepEqual(await p.exited, { code: 0, signal: null });
      assert.match(p.stderr, /SIGTERM: draining/);
    } finally {
      killGroup(p.child.pid!);
    }
  });

  test('/quitquitquit during start-up (workers forking, the CA silent) drains and exits 0, leaving no process', async () => {
    const adminPort = await freePort();
    const p = startProgram(['--concurrency', '2', '--admin-port', String(adminPort), '--drain-time-s', '1', '--ca-address', silentCaAddress(), '--ca-root', caRoot, '--pod', 'early-quit']);
    try {
      // Asked the moment the admin port accepts: the workers are still starting, and the CA never answers, so
      // start-up cannot have finished whatever the timing.
      await waitFor(async () => !(await refused(adminPort)), 10_000, 'the admin port');
      const r = await request(adminPort, { path: '/quitquitquit', method: 'POST' });
      assert.equal(r.status, 200);
      assert.deepEqual(await p.exited, { code: 0, signal: null }, p.stderr);
      assert.match(p.stderr, /quitquitquit: draining for up to 1000 ms \(start-up stopped at the (dataplane|ca) phase\)/);
      assert.doesNotMatch(p.stderr, /ReferenceError|Uncaught|Unhandled|\[error\]/i);
      await waitFor(() => group(p.child.pid!) === '', 5_000, 'the workers to be gone');
    } finally {
      killGroup(p.child.pid!);
    }
  });

  test('SIGTERM while start-up waits for the CA drains and exits 0; nothing listens afterwards', async () => {
    const [adminPort, statsPort, xdsPort] = [await freePort(), await freePort(), await freePort()];
    const connections = held.size;
    const p = startProgram([
      '--admin-port', String(adminPort), '--drain-time-s', '1', '--ca-address', silentCaAddress(), '--ca-root', caRoot,
      '--xds', `127.0.0.1:${xdsPort}`, '--stats-port', String(statsPort), '--pod', 'early-term',
    ]);
    try {
      // The agent has dialled the CA: start-up is held in its CA phase, after the admin port and the data plane.
      await waitFor(async () => held.size > connections && !(await refused(adminPort)), 10_000, 'the agent to call the CA');
      assert.equal((await request(adminPort, { path: '/ready' })).status, 503, 'no config yet');
      p.child.kill('SIGTERM');
      assert.deepEqual(await p.exited, { code: 0, signal: null }, p.stderr);
      assert.match(p.stderr, /SIGTERM: draining for up to 1000 ms \(start-up stopped at the ca phase\)/);
      assert.doesNotMatch(p.stderr, /ReferenceError|Uncaught|Unhandled|\[error\]|xds: connecting/i);
      assert.ok(await refused(adminPort), 'the admin port is closed');
      assert.ok(await refused(statsPort), 'the stats port never opened');
    } finally {
      killGroup(p.child.pid!);
    }
  });
});
