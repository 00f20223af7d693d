// The proxy's lifecycle: atomic snapshot updates under load, rejected snapshots, listener removal and drain.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { EnvoySnapshot } from '../xds/envoy/index.js';
import { ConfigCode, ProxyConfigError } from './errors.js';
import { TrellisProxy } from './proxy.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startUpstream, vhost, waitFor, type Upstream } from './testing.js';

describe('snapshot updates', () => {
  let v1: Upstream, v2: Upstream, v2b: Upstream;
  const proxy = new TrellisProxy({ listenerDrainMs: 2_000 });

  const snapshot = (weightV2: number, v2Endpoints: number[], extraHeader?: string): EnvoySnapshot => ({
    listeners: [httpListener('http', '9080', extraHeader ? { statPrefix: `http-${extraHeader}` } : {})],
    routes: [
      routeConfig('9080', [
        vhost('reviews', ['*'], [
          routeTo('', { prefix: '/' }, { cluster: undefined, weightedClusters: { clusters: [{ name: 'v1', weight: 100 - weightV2 }, { name: 'v2', weight: weightV2 }].filter((c) => c.weight > 0) } }),
        ]),
      ]),
    ],
    clusters: [edsCluster('v1'), edsCluster('v2')],
    endpoints: [cla('v1', [{ port: v1.port }]), cla('v2', v2Endpoints.map((port) => ({ port })))],
  });

  before(async () => {
    v1 = await startUpstream('v1');
    v2 = await startUpstream('v2');
    v2b = await startUpstream('v2');
  });

  after(async () => {
    await proxy.close();
    await Promise.all([v1.close(), v2.close(), v2b.close()]);
  });

  test('a request loop sees no failure while routes, endpoints and the listener change', async () => {
    await proxy.apply(snapshot(0, [v2.port]));
    const port = proxy.listenerAddress('http')!.port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const worker = async () => {
      while (!stop) {
        try {
          const r = await request(port, { agent });
          if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
          done++;
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    // Each configuration serves some requests before the next one replaces it.
    const traffic = async (n: number) => {
      const target = done + n;
      await waitFor(() => done >= target || failures.length > 0, 5_000, `${n} more requests`);
    };
    const steps: Array<() => EnvoySnapshot> = [
      () => snapshot(50, [v2.port]),
      () => snapshot(50, [v2.port, v2b.port]),
      () => snapshot(100, [v2b.port]),
      () => snapshot(100, [v2b.port], 'changed'),
      () => snapshot(20, [v2.port, v2b.port], 'changed'),
      () => snapshot(100, [v2.port]),
    ];
    for (const step of steps) {
      await traffic(10);
      await proxy.apply(step());
    }
    await traffic(10);
    stop = true;
    await Promise.all(workers);
    agent.destroy();
    assert.deepEqual(failures, []);
    assert.ok(done > 50, `only ${done} requests`);
    // the last snapshot sends everything to v2
    for (let i = 0; i < 5; i++) assert.equal((await request(port)).body, 'v2');
  });

  test('endpoint updates keep a host\'s state (same address, same host object)', async () => {
    await proxy.apply(snapshot(100, [v2.port]));
    const host = proxy.cluster('v2')!.hosts[0]!;
    await request(proxy.listenerAddress('http')!.port);
    await proxy.apply(snapshot(100, [v2.port, v2b.port]));
    assert.equal(proxy.cluster('v2')!.hosts[0], host);
    assert.ok(host.rqTotal >= 1);
  });

  test('a snapshot with an error is rejected whole; the previous one keeps serving', async () => {
    const good = snapshot(100, [v2.port]);
    await proxy.apply(good);
    const before = proxy.version;
    const bad = structuredClone(good);
    bad.routes![0]!.virtualHosts![0]!.routes![0]!.match = { safeRegex: { regex: '(unclosed' } };
    bad.clusters!.push(edsCluster('new-cluster'));
    await assert.rejects(proxy.apply(bad), (e: unknown) => {
      assert.ok(e instanceof ProxyConfigError);
      assert.equal(e.code, ConfigCode.Rejected);
      assert.ok(e.issues.some((i) => i.code === ConfigCode.InvalidRegex && i.resource === 'RouteConfiguration/9080'));
      return true;
    });
    assert.equal(proxy.version, before);
    assert.equal(proxy.cluster('new-cluster'), undefined);
    assert.equal((await request(proxy.listenerAddress('http')!.port)).body, 'v2');
  });

  test('an RDS name missing from the snapshot is a warning, and requests get 404', async () => {
    const s = snapshot(100, [v2.port]);
    s.routes = [];
    const r = await proxy.apply(s);
    assert.ok(r.issues.some((i) => i.code === ConfigCode.UnknownReference));
    assert.equal((await request(proxy.listenerAddress('http')!.port)).status, 404);
  });
});

describe('drain', () => {
  let slow: Upstream;
  // Requests wait at the upstream while `holding`, so they are surely in flight when the drain starts.
  let holding = false;
  const held: Array<() => void> = [];
  const finishHeld = () => {
    holding = false;
    for (const r of held.splice(0)) r();
  };

  before(async () => {
    slow = await startUpstream('slow', (_req, res) => {
      if (holding) held.push(() => res.end('finished'));
      else res.end('finished');
    });
  });

  after(async () => {
    await slow.close();
  });

  const snap = (listeners: string[]): EnvoySnapshot => ({
    listeners: listeners.map((l) => httpListener(l, 'r')),
    routes: [routeConfig('r', [vhost('all', ['*'], [routeTo('slow')])])],
    clusters: [edsCluster('slow')],
    endpoints: [cla('slow', [{ port: slow.port }])],
  });

  test('drain() lets an in-flight slow request finish, refuses new connections, then resolves', async () => {
    const proxy = new TrellisProxy();
    try {
      await proxy.apply(snap(['http']));
      const port = proxy.listenerAddress('http')!.port;
      holding = true;
      const inflight = request(port);
      await waitFor(() => slow.requests.length > 0, 2000, 'the request to reach the upstream');
      const t0 = Date.now();
      const drained = proxy.drain(5_000);
      await assert.rejects(request(port), /ECONNREFUSED/);
      finishHeld();
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished');
      assert.equal(r.headers.connection, 'close');
      await drained;
      assert.ok(Date.now() - t0 < 2_000);
      assert.equal(proxy.state, 'DRAINING');
    } finally {
      await proxy.close();
    }
  });

  test('a listener that leaves the snapshot drains: its in-flight request finishes, new connections are refused', async () => {
    const proxy = new TrellisProxy({ listenerDrainMs: 5_000 });
    try {
      await proxy.apply(snap(['a', 'b']));
      const port = proxy.listenerAddress('a')!.port;
      const before = slow.requests.length;
      holding = true;
      const inflight = request(port);
      await waitFor(() => slow.requests.length > before, 2000, 'the request to reach the upstream');
      await proxy.apply(snap(['b']));
      assert.equal(proxy.listenerAddress('a'), undefined);
      await assert.rejects(request(port), /ECONNREFUSED/);
      finishHeld();
      assert.equal((await inflight).body, 'finished');
      assert.equal((await request(proxy.listenerAddress('b')!.port)).body, 'finished');
    } finally {
      await proxy.close();
    }
  });
});
