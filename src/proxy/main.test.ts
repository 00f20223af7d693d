// The proxy program: reads a snapshot file, serves admin, and on SIGTERM drains (an in-flight request finishes) before exiting.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { TypeUrl } from '../xds/resource.js';
import { readSnapshot } from './main.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startUpstream, vhost, waitFor, type Upstream } from './testing.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

describe('readSnapshot', () => {
  test('reads the snapshot object, an Envoy bootstrap with static resources, and a list of xDS resources', () => {
    const l = httpListener('l', 'r');
    const c = edsCluster('c');
    assert.deepEqual(readSnapshot(JSON.stringify({ listeners: [l], clusters: [c] })).clusters, [c]);
    const boot = readSnapshot(`staticResources:\n  clusters:\n    - name: c\n      type: STATIC\n`);
    assert.deepEqual(boot.clusters, [{ name: 'c', type: 'STATIC' }]);
    const list = readSnapshot(JSON.stringify([{ name: 'c', typeUrl: TypeUrl.Cluster, value: c }, { name: 'l', typeUrl: TypeUrl.Listener, value: l }]));
    assert.deepEqual(list.clusters, [c]);
    assert.deepEqual(list.listeners, [l]);
  });
});

describe('proxy program', () => {
  let slow: Upstream;
  let dir: string;

  before(async () => {
    slow = await startUpstream('slow', (_req, res) => {
      setTimeout(() => res.end('finished'), 400);
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-proxy-'));
  });

  after(async () => {
    await slow.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

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
    const child = spawn(process.execPath, [MAIN, '--config', file, '--admin-port', '0', '--drain-time-s', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => /admin listening on [^:]+:(\d+)/.test(stderr) && /applied /.test(stderr), 10_000, 'the program to start');
      const adminPort = Number(/admin listening on [^:]+:(\d+)/.exec(stderr)![1]);
      assert.equal((await request(adminPort, { path: '/ready' })).body, 'LIVE\n');
      const listeners = (await request(adminPort, { path: '/listeners' })).body;
      const port = Number(/^http::127\.0\.0\.1:(\d+)$/m.exec(listeners)![1]);
      const inflight = request(port);
      await waitFor(() => slow.requests.length > 0, 5000, 'the request to reach the upstream');
      child.kill('SIGTERM');
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished');
      assert.equal(await exited, 0);
      assert.match(stderr, /SIGTERM: draining/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
