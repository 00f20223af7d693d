// Load balancing, circuit breaking, outlier detection, health and priorities, through a real proxy to real upstreams
// (outlier detection on a manual clock, so ejection times pass when the test says so).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../clock.js';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, vhost, waitFor, type Upstream } from '../testing.js';

describe('load balancing', () => {
  const ups: Upstream[] = [];
  let held: Upstream;
  const release: Array<() => void> = [];
  let proxy: TrellisProxy;
  let port: number;

  before(async () => {
    for (const n of ['u0', 'u1', 'u2']) ups.push(await startUpstream(n));
    held = await startUpstream('held', (_req, res) => {
      release.push(() => res.end('held'));
    });
    const eps = ups.map((u) => ({ port: u.port }));
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [
        routeConfig('r', [
          vhost('all', ['*'], [
            routeTo('rr', { prefix: '/rr' }),
            routeTo('ring', { prefix: '/ring' }, { hashPolicy: [{ header: { headerName: 'x-user' } }] }),
            routeTo('maglev', { prefix: '/maglev' }, { hashPolicy: [{ header: { headerName: 'x-user' } }] }),
            routeTo('ring', { prefix: '/cookie' }, { hashPolicy: [{ cookie: { name: 'session', ttl: '3600s', path: '/' } }] }),
            routeTo('ring', { prefix: '/source' }, { hashPolicy: [{ connectionProperties: { sourceIp: true } }] }),
            routeTo('lr', { prefix: '/lr' }),
            routeTo('random', { prefix: '/random' }),
            routeTo('weighted', { prefix: '/weighted' }),
          ]),
        ]),
      ],
      clusters: [
        edsCluster('rr'),
        edsCluster('ring', { lbPolicy: 'RING_HASH' }),
        edsCluster('maglev', { lbPolicy: 'MAGLEV' }),
        edsCluster('lr', { lbPolicy: 'LEAST_REQUEST' }),
        edsCluster('random', { lbPolicy: 'RANDOM' }),
        edsCluster('weighted'),
      ],
      endpoints: [
        cla('rr', eps),
        cla('ring', eps),
        cla('maglev', eps),
        cla('random', eps),
        cla('lr', [{ port: held.port }, { port: ups[0]!.port }]),
        cla('weighted', [{ port: ups[0]!.port, weight: 3 }, { port: ups[1]!.port, weight: 1 }]),
      ],
    });
    proxy = started.proxy;
    port = started.port('http');
  });

  after(async () => {
    for (const r of release) r();
    await proxy.close();
    await Promise.all([...ups, held].map((u) => u.close()));
  });

  const count = (bodies: string[]) => bodies.reduce<Record<string, number>>((m, b) => ((m[b] = (m[b] ?? 0) + 1), m), {});

  test('round robin spreads sequential requests evenly over three hosts', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 30; i++) bodies.push((await request(port, { path: '/rr' })).body);
    assert.deepEqual(count(bodies), { u0: 10, u1: 10, u2: 10 });
  });

  test('weighted round robin follows endpoint weights (3:1)', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 40; i++) bodies.push((await request(port, { path: '/weighted' })).body);
    assert.deepEqual(count(bodies), { u0: 30, u1: 10 });
  });

  test('ring hash and Maglev by header: a user sticks to one host; users spread over hosts', async () => {
    for (const path of ['/ring', '/maglev']) {
      const hostOf = new Map<string, string>();
      for (let round = 0; round < 3; round++) {
        for (let u = 0; u < 30; u++) {
          const body = (await request(port, { path, headers: { 'x-user': `user-${u}` } })).body;
          const prev = hostOf.get(`user-${u}`);
          if (prev) assert.equal(body, prev, `${path}: user-${u} moved`);
          hostOf.set(`user-${u}`, body);
        }
      }
      assert.ok(new Set(hostOf.values()).size >= 2, `${path}: all users on one host`);
    }
  });

  test('cookie hash policy with ttl: the proxy sets the cookie, and the cookie pins the host', async () => {
    const first = await request(port, { path: '/cookie' });
    const setCookie = first.headers['set-cookie']?.[0];
    assert.match(setCookie ?? '', /^session="[0-9a-f]+"; Max-Age=3600; Path=\/; HttpOnly$/);
    const cookie = setCookie!.split(';')[0]!;
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await request(port, { path: '/cookie', headers: { cookie } })).body);
    assert.equal(seen.size, 1);
  });

  test('source IP hash: one client address, one host', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await request(port, { path: '/source' })).body);
    assert.equal(seen.size, 1);
  });

  test('random spreads over all hosts', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 60; i++) bodies.push((await request(port, { path: '/random' })).body);
    assert.equal(Object.keys(count(bodies)).length, 3);
  });

  test('least request avoids the host with requests in flight (round robin would send it half)', async () => {
    // "held" never answers until the end, so its active count only grows; u0 answers at once.
    const pending: Array<Promise<unknown>> = [];
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      const before = held.requests.length + ups[0]!.requests.length;
      const p = request(port, { path: '/lr', timeoutMs: 20_000 });
      pending.push(p);
      sent++;
      await waitFor(() => held.requests.length + ups[0]!.requests.length > before, 2000, 'the request to arrive');
    }
    const toHeld = held.requests.length;
    assert.equal(sent, 40);
    assert.ok(toHeld >= 1 && toHeld <= 18, `${toHeld} of 40 went to the busy host`);
    for (const r of release.splice(0)) r();
    await Promise.all(pending);
  });
});

describe('circuit breaking', () => {
  let slow: Upstream;
  // While a burst is held, requests wait at the upstream, so the admitted ones are surely in flight together.
  let holding = false;
  const held: Array<() => void> = [];
  let proxy: TrellisProxy;
  let port: number;
  const records: HttpRequestRecord[] = [];

  before(async () => {
    slow = await startUpstream('slow', (_req, res) => {
      if (holding) held.push(() => res.end('slow'));
      else res.end('slow');
    });
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [routeConfig('r', [vhost('all', ['*'], [routeTo('pending', { prefix: '/pending' }), routeTo('requests', { prefix: '/requests' })])])],
      clusters: [
        edsCluster('pending', { circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: 100, maxRetries: 3 }] } }),
        edsCluster('requests', { circuitBreakers: { thresholds: [{ maxConnections: 100, maxPendingRequests: 100, maxRequests: 1 }] } }),
      ],
      endpoints: [cla('pending', [{ port: slow.port }]), cla('requests', [{ port: slow.port }])],
    });
    proxy = started.proxy;
    port = started.port('http');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await slow.close();
  });

  /** `n` concurrent requests, held at the upstream until the `overflowing` ones have been answered. */
  async function burst(path: string, n: number, overflowing: number) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: n });
    holding = true;
    let answered = 0;
    const replies = Array.from({ length: n }, () => request(port, { path, agent }).finally(() => answered++));
    await waitFor(() => answered >= overflowing && held.length >= 1, 3000, `${overflowing} overflows`);
    holding = false;
    for (const r of held.splice(0)) r();
    const rs = await Promise.all(replies);
    agent.destroy();
    return rs;
  }

  test('max_connections 1 + max_pending_requests 1: one active, one queued, the rest 503 UO', async () => {
    const before = records.length;
    const rs = await burst('/pending', 5, 3);
    const ok = rs.filter((r) => r.status === 200).length;
    const overflow = rs.filter((r) => r.status === 503);
    assert.equal(ok, 2);
    assert.equal(overflow.length, 3);
    assert.equal(overflow[0]!.body, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
    await waitFor(() => records.length >= before + 5, 3000, 'records');
    assert.equal(records.slice(before).filter((r) => r.responseFlags === 'UO').length, 3);
    assert.ok((proxy.stats.get('cluster.pending.upstream_rq_pending_overflow') ?? 0) >= 3);
  });

  test('max_requests 1: only one request in flight, the others overflow at once', async () => {
    const rs = await burst('/requests', 4, 3);
    assert.equal(rs.filter((r) => r.status === 200).length, 1);
    assert.equal(rs.filter((r) => r.status === 503).length, 3);
  });

  test('after the burst the breaker closes again', async () => {
    assert.equal((await request(port, { path: '/pending' })).status, 200);
    assert.equal((await request(port, { path: '/requests' })).status, 200);
  });
});

describe('outlier detection, health and priorities', () => {
  let good: Upstream, bad: Upstream;
  let badFails = true;
  const clock = new ManualClock();
  let proxy: TrellisProxy;
  let port: number;

  before(async () => {
    good = await startUpstream('good');
    bad = await startUpstream('bad', (_req, res) => {
      res.writeHead(badFails ? 503 : 200);
      res.end(badFails ? 'failing' : 'bad-recovered');
    });
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [
        routeConfig('r', [
          vhost('all', ['*'], [
            routeTo('od', { prefix: '/od' }),
            routeTo('unhealthy', { prefix: '/unhealthy' }),
            routeTo('nopanic', { prefix: '/nopanic' }),
            routeTo('prio', { prefix: '/prio' }),
          ]),
        ]),
      ],
      clusters: [
        edsCluster('od', { outlierDetection: { consecutive5xx: 3, interval: '0.05s', baseEjectionTime: '0.4s', maxEjectionPercent: 100 } }),
        edsCluster('unhealthy'),
        edsCluster('nopanic', { commonLbConfig: { healthyPanicThreshold: {} } }),
        edsCluster('prio'),
      ],
      endpoints: [
        cla('od', [{ port: good.port }, { port: bad.port }]),
        cla('unhealthy', [{ port: good.port, health: 'UNHEALTHY' }]),
        cla('nopanic', [{ port: good.port, health: 'UNHEALTHY' }]),
        cla('prio', [{ port: bad.port, priority: 0, health: 'UNHEALTHY' }, { port: good.port, priority: 1 }]),
      ],
    }, { clock });
    proxy = started.proxy;
    port = started.port('http');
  });

  after(async () => {
    await proxy.close();
    await Promise.all([good.close(), bad.close()]);
  });

  test('consecutive 5xx eject a host; the balancer skips it; it comes back after the ejection time and recovers', async () => {
    const cluster = proxy.cluster('od')!;
    const badHost = cluster.hosts.find((h) => h.port === bad.port)!;
    const active = () => proxy.stats.get('cluster.od.outlier_detection.ejections_active');
    // round robin alternates, so three failures from "bad" arrive within six requests
    const ejectBad = async () => {
      for (let i = 0; i < 6 && !badHost.ejected; i++) await request(port, { path: '/od' });
      assert.equal(badHost.ejected, true);
    };
    await ejectBad();
    assert.equal(badHost.healthFlags(), '/failed_outlier_check');
    assert.equal(active(), 1);
    const before = bad.requests.length;
    for (let i = 0; i < 10; i++) assert.equal((await request(port, { path: '/od' })).body, 'good');
    assert.equal(bad.requests.length, before);
    // the host heals; the 50 ms sweep brings it back once base_ejection_time (400 ms) has passed, not before
    badFails = false;
    clock.advance(350);
    assert.equal(badHost.ejected, true);
    assert.equal(active(), 1);
    clock.advance(50);
    assert.equal(badHost.ejected, false);
    assert.equal(active(), 0);
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await request(port, { path: '/od' })).body);
    assert.deepEqual([...bodies].sort(), ['bad-recovered', 'good']);
    // ejected again at once: base_ejection_time x 2 ejections
    badFails = true;
    await ejectBad();
    assert.equal(badHost.numEjections, 2);
    clock.advance(750);
    assert.equal(badHost.ejected, true);
    clock.advance(50);
    assert.equal(badHost.ejected, false);
    badFails = false;
  });

  test('all hosts unhealthy: panic mode still routes (default 50% threshold); with the threshold at 0 → UH', async () => {
    assert.equal((await request(port, { path: '/unhealthy' })).status, 200);
    const r = await request(port, { path: '/nopanic' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no healthy upstream');
  });

  test('priority failover: an unhealthy priority 0 sends traffic to priority 1', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await request(port, { path: '/prio' })).body, 'good');
  });
});

describe('discovery types and connection reuse', () => {
  let up: Upstream;
  const connections = new Set<unknown>();
  let proxy: TrellisProxy;
  let port: number;

  before(async () => {
    up = await startUpstream('up');
    up.server.on('connection', (s) => connections.add(s));
    const inline = (address: string) => ({ clusterName: 'x', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address, portValue: up.port } } } }] }] });
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [
        routeConfig('r', [
          vhost('all', ['*'], [
            routeTo('static', { prefix: '/static' }),
            routeTo('dns', { prefix: '/dns' }),
            routeTo('passthrough', { prefix: '/passthrough' }),
            routeTo('one-per-conn', { prefix: '/one' }),
            routeTo('reuse', { prefix: '/reuse' }),
          ]),
        ]),
      ],
      clusters: [
        { name: 'static', type: 'STATIC', connectTimeout: '1s', loadAssignment: inline('127.0.0.1') },
        { name: 'dns', type: 'STRICT_DNS', dnsLookupFamily: 'V4_ONLY', connectTimeout: '1s', loadAssignment: inline('localhost') },
        { name: 'passthrough', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: '1s', originalDstLbConfig: { useHttpHeader: true } },
        edsCluster('one-per-conn', { maxRequestsPerConnection: 1 }),
        edsCluster('reuse'),
      ],
      endpoints: [cla('one-per-conn', [{ port: up.port }]), cla('reuse', [{ port: up.port }])],
    });
    proxy = started.proxy;
    port = started.port('http');
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  test('STATIC and STRICT_DNS clusters with an inline load assignment', async () => {
    assert.equal((await request(port, { path: '/static' })).body, 'up');
    await waitFor(() => proxy.cluster('dns')!.hosts.length > 0, 3000, 'DNS resolution');
    assert.equal(proxy.cluster('dns')!.hosts[0]!.hostname, 'localhost');
    assert.equal((await request(port, { path: '/dns' })).body, 'up');
  });

  test('ORIGINAL_DST: the destination comes from x-envoy-original-dst-host', async () => {
    const r = await request(port, { path: '/passthrough', headers: { 'x-envoy-original-dst-host': `127.0.0.1:${up.port}` } });
    assert.equal(r.body, 'up');
    assert.equal((await request(port, { path: '/passthrough' })).status, 503);
  });

  test('upstream keep-alive reuses one connection; max_requests_per_connection 1 opens one per request', async () => {
    connections.clear();
    for (let i = 0; i < 5; i++) await request(port, { path: '/reuse' });
    assert.equal(connections.size, 1);
    connections.clear();
    for (let i = 0; i < 5; i++) await request(port, { path: '/one' });
    assert.equal(connections.size, 5);
  });
});
