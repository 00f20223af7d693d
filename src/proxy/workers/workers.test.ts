// `trellis proxy --concurrency 2` as real processes on 127.0.0.1 and ::1: both workers serve one listening socket, a
// config change reaches every worker, counters count each request once, a killed worker is replaced, SIGTERM leaves
// nothing behind; over xDS, an update is ACKed once every worker applied it. Plus the pure pieces (merging, pins).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AdsServer } from '../../xds/ads-server.js';
import type { ConfigGenerator, ProxyResources } from '../../xds/generator.js';
import { TypeUrl, type XdsResource } from '../../xds/resource.js';
import { mergeClusterStatuses, type ClusterStatus } from '../admin/clusters-text.js';
import type { EnvoySnapshot } from '../../xds/envoy/index.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startUpstream, vhost, waitFor, type Upstream } from '../testing.js';
import { parseConcurrency } from './concurrency.js';
import { PortPins } from './port-pins.js';
import { mergeStats, retireCounters } from './stats-merge.js';
import { alive, ProxyProcess, refused } from './test-process.js';

describe('worker pieces', () => {
  test('--concurrency: a whole number, 0 is one per core, anything else is a clear error', () => {
    assert.equal(parseConcurrency(undefined), 1);
    assert.equal(parseConcurrency('2'), 2);
    assert.equal(parseConcurrency('0'), os.availableParallelism());
    for (const bad of ['abc', '-1', '1.5', '', '1000']) assert.throws(() => parseConcurrency(bad), /--concurrency/);
  });

  test('stats: counters and traffic gauges add up, configuration gauges are taken once, exited workers stay counted', () => {
    const w1: Array<[string, number, 'counter' | 'gauge']> = [
      ['http.in.downstream_rq_total', 3, 'counter'],
      ['http.in.downstream_cx_active', 1, 'gauge'],
      ['cluster.c.membership_total', 2, 'gauge'],
    ];
    const w2: Array<[string, number, 'counter' | 'gauge']> = [
      ['http.in.downstream_rq_total', 4, 'counter'],
      ['http.in.downstream_cx_active', 2, 'gauge'],
      ['cluster.c.membership_total', 2, 'gauge'],
    ];
    const retired = new Map<string, number>();
    retireCounters(retired, [['http.in.downstream_rq_total', 5, 'counter'], ['http.in.downstream_cx_active', 9, 'gauge']]);
    assert.deepEqual(mergeStats([w1, w2], retired), [
      ['cluster.c.membership_total', 2, 'gauge'],
      ['http.in.downstream_cx_active', 3, 'gauge'],
      ['http.in.downstream_rq_total', 12, 'counter'],
    ]);
  });

  test('/clusters: host counters are summed per host; an ejection by any worker shows', () => {
    const host = (rq: number, ejected = false) => ({
      id: '127.0.0.1:1', address: '127.0.0.1', port: 1, hostname: '', health: 'healthy', ejected, healthFlags: ejected ? '/failed_outlier_check' : 'healthy',
      weight: 1, priority: 0, region: '', zone: '', subZone: '',
      stats: { cx_active: 1, cx_connect_fail: 0, cx_total: rq, rq_active: 0, rq_error: 0, rq_success: rq, rq_timeout: 0, rq_total: rq },
    });
    const c = (rq: number, ejected?: boolean): ClusterStatus => ({ name: 'c', observabilityName: 'c', thresholds: { maxConnections: 1 }, hosts: [host(rq, ejected)] });
    const [m] = mergeClusterStatuses([[c(2)], [c(3, true)]]);
    assert.equal(m!.hosts[0]!.stats.rq_total, 5);
    assert.equal(m!.hosts[0]!.stats.cx_active, 2);
    assert.equal(m!.hosts[0]!.healthFlags, '/failed_outlier_check');
  });

  test('port 0 is pinned once per listener and kept across updates; fixed ports and bindToPort:false are left alone', async () => {
    let next = 40000;
    const pins = new PortPins(async () => next++);
    const snap = (extra: EnvoySnapshot['listeners'] = []): EnvoySnapshot => ({ listeners: [httpListener('a', 'r'), httpListener('b', 'r', {}, '::1'), httpListener('fixed', 'r', {}, '127.0.0.1', 9999), ...extra] });
    const port = (s: EnvoySnapshot, name: string) => (s.listeners!.find((l) => l.name === name)!.address as { socketAddress: { portValue: number } }).socketAddress.portValue;
    const first = await pins.pin(snap());
    assert.deepEqual([port(first, 'a'), port(first, 'b'), port(first, 'fixed')], [40000, 40001, 9999]);
    const virtual = { ...httpListener('v', 'r'), bindToPort: false };
    const second = await pins.pin(snap([virtual]));
    assert.deepEqual([port(second, 'a'), port(second, 'b'), port(second, 'v')], [40000, 40001, 0]);
    assert.equal(port(snap(), 'a'), 0, 'the input is not modified');
  });
});

/** Requests on fresh connections until every worker has served at least `more` of them since `base`. */
async function untilEveryWorkerServed(p: ProxyProcess, port: number, check: (body: string) => void, base = new Map<number, number>(), more = 1, host = '127.0.0.1'): Promise<number> {
  let sent = 0;
  await waitFor(
    async () => {
      for (let i = 0; i < 10; i++) {
        const r = await request(port, { host });
        assert.equal(r.status, 200, r.body);
        check(r.body);
        sent++;
      }
      const ws = await p.workers();
      return ws.every((w) => w.state === 'serving' && (w.downstreamRequests ?? 0) - (base.get(w.pid) ?? 0) >= more);
    },
    15_000,
    'every worker to serve requests',
  );
  return sent;
}

const served = async (p: ProxyProcess) => new Map((await p.workers()).map((w) => [w.pid, w.downstreamRequests ?? 0]));

describe('trellis proxy --concurrency 2 with a static config', () => {
  let a: Upstream;
  let b: Upstream;
  let dir: string;
  let file: string;
  let p: ProxyProcess;
  const pids = new Set<number>();
  let total = 0;

  const write = (snapshot: EnvoySnapshot) => fs.writeFileSync(file, JSON.stringify(snapshot));
  const config = (cluster: string, listeners = [httpListener('in', 'r')]): EnvoySnapshot => ({
    listeners,
    routes: [routeConfig('r', [vhost('all', ['*'], [routeTo(cluster)])])],
    clusters: [edsCluster('a'), edsCluster('b')],
    endpoints: [cla('a', [{ port: a.port }]), cla('b', [{ port: b.port }])],
  });

  before(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-workers-'));
    file = path.join(dir, 'snapshot.json');
    write(config('a'));
    p = await ProxyProcess.start(['--config', file, '--watch', '--concurrency', '2', '--drain-time-s', '1'], /applied .*version 1.*2 workers/);
    for (const w of await p.workers()) pids.add(w.pid);
  });

  after(async () => {
    p.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all([a.close(), b.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('two worker processes serve the one listening socket; /stats and /clusters count each request once', async () => {
    const ws = await p.workers();
    assert.equal(ws.length, 2);
    assert.notEqual(ws[0]!.pid, ws[1]!.pid);
    assert.ok(ws.every((w) => w.pid !== p.pid), 'the primary serves no traffic');
    const port = await p.listenerPort('in');
    total += await untilEveryWorkerServed(p, port, (body) => assert.equal(body, 'a'));
    assert.equal(await p.stat('http.in.downstream_rq_total'), total);
    assert.equal(await p.stat('cluster.a.upstream_rq_total'), total);
    assert.equal(a.requests.length, total);
    assert.match(await p.admin('/clusters'), new RegExp(`^a::127\\.0\\.0\\.1:${a.port}::rq_total::${total}$`, 'm'));
    const perWorker = (await p.workers()).reduce((n, w) => n + (w.downstreamRequests ?? 0), 0);
    assert.equal(perWorker, total);
  });

  test('a config change reaches every worker, including new listeners on 127.0.0.1 and ::1 with port 0', async () => {
    const before = await served(p);
    write(config('b', [httpListener('in', 'r'), httpListener('v6', 'r', {}, '::1')]));
    await p.until(/applied .*version 2/, 10_000);
    assert.ok((await p.workers()).every((w) => w.version === 2));
    const port = await p.listenerPort('in');
    total += await untilEveryWorkerServed(p, port, (body) => assert.equal(body, 'b'), before);
    const v6 = await p.listenerPort('v6');
    assert.notEqual(v6, 0);
    const mid = await served(p);
    total += await untilEveryWorkerServed(p, v6, (body) => assert.equal(body, 'b'), mid, 1, '::1');
    assert.equal(await p.stat('http.in.downstream_rq_total') + (await p.stat('http.v6.downstream_rq_total')), total);
  });

  test('a listener removed by config is closed in every worker', async () => {
    const v6 = await p.listenerPort('v6');
    write(config('b'));
    await p.until(/applied .*version 3/, 10_000);
    // The shared socket closes only when the last worker closed it (after the 1 s drain time).
    await waitFor(() => refused(v6, '::1'), 10_000, 'the removed ::1 listener to refuse connections');
    assert.equal((await request(await p.listenerPort('in'))).body, 'b');
  });

  test('a killed worker is restarted with the current config and serves; counters do not go backwards', async () => {
    const port = await p.listenerPort('in');
    const victim = (await p.workers())[0]!;
    const counted = await p.stat('http.in.downstream_rq_total'); // the primary has now seen every worker's counters
    process.kill(victim.pid, 'SIGKILL');
    await p.until(new RegExp(`worker ${victim.slot} \\(pid ${victim.pid}\\) exited \\(SIGKILL\\); restarting it`), 10_000);
    await p.until(new RegExp(`worker ${victim.slot} restarted \\(pid \\d+\\) with config version 3`), 10_000);
    const ws = await p.workers();
    const replacement = ws.find((w) => w.slot === victim.slot)!;
    assert.notEqual(replacement.pid, victim.pid);
    assert.equal(replacement.version, 3);
    assert.equal(replacement.restarts, 1);
    pids.add(replacement.pid);
    // Same port as before: the replacement shares the socket its siblings serve.
    assert.equal(await p.listenerPort('in'), port);
    const sent = await untilEveryWorkerServed(p, port, (body) => assert.equal(body, 'b'), await served(p));
    assert.equal(await p.stat('http.in.downstream_rq_total'), counted + sent);
  });

  test('SIGTERM drains every worker and exits 0, leaving no process and no listening port behind', async () => {
    const port = await p.listenerPort('in');
    for (const w of await p.workers()) pids.add(w.pid);
    p.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0);
    await waitFor(() => [...pids].every((pid) => !alive(pid)), 5_000, 'every worker to exit');
    assert.ok(await refused(port));
    assert.ok(await refused(p.adminPort));
    assert.match(p.stderr, /SIGTERM: draining/);
  });
});

describe('trellis proxy --concurrency 2: stopping', () => {
  test('workers exit when the primary is killed (the IPC channel closes)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-workers-'));
    const file = path.join(dir, 'snapshot.json');
    fs.writeFileSync(file, JSON.stringify({ listeners: [httpListener('in', routeConfig('r', [vhost('all', ['*'], [{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'ok' } } }])]))] }));
    const p = await ProxyProcess.start(['--config', file, '--concurrency', '2'], /applied /);
    const pids = (await p.workers()).map((w) => w.pid);
    try {
      assert.equal((await request(await p.listenerPort('in'))).body, 'ok');
      p.kill('SIGKILL');
      await p.exited;
      await waitFor(() => pids.every((pid) => !alive(pid)), 5_000, 'the workers to exit');
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test('/quitquitquit drains every worker: a request in flight completes, then everything exits', async () => {
    const slow = await startUpstream('slow', (_req, res) => void setTimeout(() => res.end('finished'), 300));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-workers-'));
    const file = path.join(dir, 'snapshot.json');
    fs.writeFileSync(file, JSON.stringify({ listeners: [httpListener('in', routeConfig('r', [vhost('all', ['*'], [routeTo('slow')])]))], clusters: [edsCluster('slow')], endpoints: [cla('slow', [{ port: slow.port }])] }));
    const p = await ProxyProcess.start(['--config', file, '--concurrency', '2', '--drain-time-s', '5'], /applied /);
    const pids = (await p.workers()).map((w) => w.pid);
    try {
      const port = await p.listenerPort('in');
      const inflight = request(port);
      await waitFor(() => slow.requests.length > 0, 5_000, 'the request to reach the upstream');
      await p.admin('/quitquitquit', 'POST');
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'finished');
      assert.equal((await p.exited).code, 0);
      await waitFor(() => pids.every((pid) => !alive(pid)), 5_000, 'the workers to exit');
      assert.ok(await refused(port));
    } finally {
      p.kill('SIGKILL');
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      await slow.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A generator whose config the test replaces. */
class TestGenerator implements ConfigGenerator {
  config: ProxyResources = new Map();
  generate(): ProxyResources {
    return this.config;
  }
}

function xdsConfig(cluster: string, upstreamPort: number): ProxyResources {
  const r = (typeUrl: string, name: string, value: object): XdsResource => ({ typeUrl, name, value: value as Record<string, unknown> });
  return new Map([
    [TypeUrl.Listener, [r(TypeUrl.Listener, '0.0.0.0_9080', httpListener('0.0.0.0_9080', '9080'))]],
    [TypeUrl.RouteConfiguration, [r(TypeUrl.RouteConfiguration, '9080', routeConfig('9080', [vhost('all', ['*'], [routeTo(cluster)])]))]],
    [TypeUrl.Cluster, [r(TypeUrl.Cluster, cluster, edsCluster(cluster))]],
    [TypeUrl.ClusterLoadAssignment, [r(TypeUrl.ClusterLoadAssignment, cluster, cla(cluster, [{ port: upstreamPort }]))]],
  ]);
}

describe('trellis proxy --concurrency 2 over xDS', () => {
  let up: Upstream;
  let server: AdsServer;
  let p: ProxyProcess | undefined;
  const gen = new TestGenerator();
  const pids = new Set<number>();
  const A = 'outbound|9080||reviews.default.svc.cluster.local';
  const B = 'outbound|9080|v2|reviews.default.svc.cluster.local';

  before(async () => {
    up = await startUpstream('reviews');
    gen.config = xdsConfig(A, up.port);
    server = new AdsServer({ generator: gen, debounceMs: 10, log: () => {} });
  });

  after(async () => {
    p?.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await server.close();
    await up.close();
  });

  test('an update is ACKed once every worker applied it; a refused one is NACKed with the error; metrics count once', async () => {
    const xdsPort = await server.listen('127.0.0.1', 0);
    p = await ProxyProcess.start(
      ['--xds', `127.0.0.1:${xdsPort}`, '--concurrency', '2', '--pod', 'reviews-v1-1', '--namespace', 'default', '--labels', 'app=reviews,version=v1', '--stats-port', '0', '--drain-time-s', '1'],
      /stats listening on [^\s]+:(\d+)/,
    );
    const statsPort = Number(/stats listening on [^\s]+:(\d+)/.exec(p.stderr)![1]);
    const proxy = p;
    for (const w of await proxy.workers()) pids.add(w.pid);
    const status = () => server.proxies()[0];
    /** The CDS version the proxy ACKed, once every type is in sync. */
    const ackedVersion = () => {
      const s = status();
      if (!s || s.types.length < 4 || !s.types.every((t) => t.state === 'SYNCED')) return undefined;
      return s.types.find((t) => t.typeUrl === TypeUrl.Cluster)?.versionAcked || undefined;
    };
    await waitFor(() => !!ackedVersion(), 15_000, 'the first config to be ACKed');
    // At the moment of the ACK, every worker has the config the primary last applied.
    const everyWorkerHasIt = async () => {
      const pool = await proxy.pool();
      assert.equal(pool.workers.length, 2);
      for (const w of pool.workers) assert.equal(w.version, pool.version);
      return pool.version;
    };
    const first = await everyWorkerHasIt();
    assert.ok(first >= 1);

    const v1 = ackedVersion();
    gen.config = xdsConfig(B, up.port);
    server.requestPush({ reason: 'new subset' });
    await waitFor(() => ackedVersion() !== undefined && ackedVersion() !== v1, 15_000, 'the update to be ACKed');
    const second = await everyWorkerHasIt();
    assert.ok(second > first);

    const port = await proxy.listenerPort('0.0.0.0_9080');
    const sent = await untilEveryWorkerServed(proxy, port, (body) => assert.equal(body, 'reviews'));
    const sum = (text: string) => [...text.matchAll(/^istio_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(sum(await proxy.admin('/stats/prometheus')), sent);
    assert.equal(sum((await request(statsPort, { path: '/stats/prometheus' })).body), sent);

    // A worker that dies keeps its requests in the totals (the last values the primary saw from it).
    const victim = (await proxy.workers())[1]!;
    process.kill(victim.pid, 'SIGKILL');
    await proxy.until(new RegExp(`worker ${victim.slot} restarted \\(pid (\\d+)\\) with config version ${second}`), 10_000);
    for (const w of await proxy.workers()) pids.add(w.pid);
    assert.equal(sum(await proxy.admin('/stats/prometheus')), sent);

    // Endpoints that are not IP addresses: every worker refuses them, the control plane hears why, the workers keep B.
    const bad = xdsConfig(B, up.port);
    bad.set(TypeUrl.ClusterLoadAssignment, [{ typeUrl: TypeUrl.ClusterLoadAssignment, name: B, value: cla(B, [{ port: up.port, address: 'reviews.invalid' }]) as unknown as Record<string, unknown> }]);
    gen.config = bad;
    server.requestPush({ reason: 'bad edit' });
    await waitFor(() => !!status()?.types.some((t) => t.nack), 15_000, 'a NACK');
    const nack = status()!.types.find((t) => t.nack)!.nack!;
    assert.match(nack.message, /^TRL2001 ClusterLoadAssignment\/.*reviews\.invalid.*not an IP address/);
    assert.deepEqual(nack.rejected.map((i) => i.code), ['TRL2001'], 'the code crossed from the workers to the control plane');
    assert.equal(await everyWorkerHasIt(), second);
    assert.equal((await request(port)).status, 200);

    proxy.kill('SIGTERM');
    assert.equal((await proxy.exited).code, 0);
    await waitFor(() => [...pids].every((pid) => !alive(pid)), 5_000, 'every worker to exit');
  });
});
