// Retries, timeouts and Envoy's locally generated upstream errors, through a real proxy and real upstreams. Timeouts and
// back-off run on a manual clock: the test decides when time passes, the requests still cross real sockets.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../clock.js';
import type { TrellisProxy } from '../proxy.js';
import { cla, edsCluster, httpListener, request, requestRecords, routeConfig, routeTo, startProxy, startUpstream, vhost, waitFor, type Upstream } from '../testing.js';

async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('retries and upstream errors', () => {
  let flaky: Upstream, broken: Upstream, reset: Upstream, ok: Upstream;
  let proxy: TrellisProxy;
  let port: number;
  let dead: number;
  const { records, nth: last } = requestRecords();

  before(async () => {
    dead = await deadPort();
    // fails twice, then succeeds (the count is per path so tests do not interfere)
    const counts = new Map<string, number>();
    flaky = await startUpstream('flaky', (req, res) => {
      const n = (counts.get(req.url) ?? 0) + 1;
      counts.set(req.url, n);
      res.writeHead(n <= 2 ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(n <= 2 ? 'unavailable' : `ok after ${n} with body "${req.body}"`);
    });
    broken = await startUpstream('broken', (_req, res) => {
      res.writeHead(503);
      res.end('always broken');
    });
    reset = await startUpstream('reset', (_req, res) => {
      res.socket?.destroy();
    });
    ok = await startUpstream('ok');
    const retry = (retryOn: string, numRetries: number, extra: Record<string, unknown> = {}) => ({ retryPolicy: { retryOn, numRetries, retryBackOff: { baseInterval: '0.005s' }, ...extra } });
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [
        routeConfig('r', [
          vhost('all', ['*'], [
            routeTo('flaky', { prefix: '/flaky' }, retry('5xx', 2)),
            routeTo('broken', { prefix: '/exhausted' }, retry('5xx', 2)),
            routeTo('broken', { prefix: '/gateway' }, retry('gateway-error', 1)),
            routeTo('broken', { prefix: '/noretry' }),
            routeTo('dead', { prefix: '/dead-retried' }, retry('connect-failure', 2)),
            routeTo('dead', { prefix: '/dead' }),
            routeTo('half-dead', { prefix: '/half-dead' }, retry('connect-failure,refused-stream', 3, { retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }], hostSelectionRetryMaxAttempts: '5' })),
            routeTo('empty', { prefix: '/empty' }),
            routeTo('reset', { prefix: '/reset-retried' }, retry('reset', 1)),
            routeTo('reset', { prefix: '/reset' }),
          ]),
        ]),
      ],
      clusters: ['flaky', 'broken', 'dead', 'half-dead', 'empty', 'reset'].map((n) => edsCluster(n, { connectTimeout: '0.5s' })),
      endpoints: [
        cla('flaky', [{ port: flaky.port }]),
        cla('broken', [{ port: broken.port }]),
        cla('dead', [{ port: dead }]),
        cla('half-dead', [{ port: dead }, { port: ok.port }]),
        cla('empty', []),
        cla('reset', [{ port: reset.port }]),
      ],
    });
    proxy = started.proxy;
    port = started.port('http');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([flaky, broken, reset, ok].map((u) => u.close()));
  });

  test('a request that fails twice succeeds on the third attempt (5xx, numRetries 2)', async () => {
    const n = records.length;
    const r = await request(port, { path: '/flaky/a' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok after 3 with body ""');
    const rec = await last(n + 1);
    assert.equal(rec.attempts, 3);
    assert.equal(rec.responseFlags, '-');
  });

  test('a POST body is replayed on retry', async () => {
    const r = await request(port, { path: '/flaky/post', method: 'POST', body: 'payload' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok after 3 with body "payload"');
    assert.deepEqual(flaky.requests.filter((q) => q.url === '/flaky/post').map((q) => q.body), ['payload', 'payload', 'payload']);
  });

  test('retries exhausted: the last upstream response is returned with URX', async () => {
    const before = broken.requests.length;
    const n = records.length;
    const r = await request(port, { path: '/exhausted' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'always broken');
    assert.equal(broken.requests.length - before, 3);
    assert.equal((await last(n + 1)).responseFlags, 'URX');
  });

  test('gateway-error retries 503; without a policy there is no retry', async () => {
    let before = broken.requests.length;
    assert.equal((await request(port, { path: '/gateway' })).status, 503);
    assert.equal(broken.requests.length - before, 2);
    before = broken.requests.length;
    assert.equal((await request(port, { path: '/noretry' })).status, 503);
    assert.equal(broken.requests.length - before, 1);
  });

  test('connection refused: 503 with Envoy\'s text and UF', async () => {
    const n = records.length;
    const r = await request(port, { path: '/dead' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
    assert.equal((await last(n + 1)).responseFlags, 'UF');
  });

  test('connection failures retried until exhausted: "retried and the latest reset reason", UF,URX', async () => {
    const n = records.length;
    const r = await request(port, { path: '/dead-retried' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure');
    const rec = await last(n + 1);
    assert.equal(rec.responseFlags, 'UF,URX');
    assert.equal(rec.attempts, 3);
  });

  test('connect-failure retry with previous_hosts reaches the live endpoint', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(port, { path: '/half-dead' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok');
    }
  });

  test('no endpoints: 503 "no healthy upstream" with UH', async () => {
    const n = records.length;
    const r = await request(port, { path: '/empty' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no healthy upstream');
    assert.equal((await last(n + 1)).responseFlags, 'UH');
  });

  test('upstream resets before headers: 503 with UC; the reset retry policy retries it', async () => {
    const n = records.length;
    let r = await request(port, { path: '/reset' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    assert.equal((await last(n + 1)).responseFlags, 'UC');
    const before = reset.requests.length;
    r = await request(port, { path: '/reset-retried' });
    assert.equal(r.status, 503);
    assert.equal(reset.requests.length - before, 2);
    assert.equal((await last(n + 2)).responseFlags, 'UC,URX');
  });
});

describe('timeouts and back-off on the proxy\'s clock', () => {
  // hung answers nothing until the end; first-hung holds the first request of each path and answers the others
  let hung: Upstream, firstHung: Upstream, failing: Upstream;
  const release: Array<() => void> = [];
  const clock = new ManualClock();
  let proxy: TrellisProxy;
  let port: number;
  const { records, nth: last } = requestRecords();
  const stat = (name: string) => proxy.stats.get(name) ?? 0;
  /** Waits (in real time, for the network) until `up` has seen `n` requests in all. */
  const arrived = (up: Upstream, n: number) => waitFor(() => up.requests.length >= n, 2000, `${n} requests at ${up.name}`);
  /**
   * Sends a request that `up` holds, then checks that the `counter` timeout fires exactly when `ms` have passed on the
   * proxy's clock. The reply comes wrapped so that the caller decides when to await it.
   */
  const timesOut = async (path: string, up: Upstream, counter: string, ms: number) => {
    const count = stat(counter);
    const seen = up.requests.length;
    const reply = request(port, { path });
    await arrived(up, seen + 1);
    clock.advance(ms - 1);
    assert.equal(stat(counter), count, `${counter} after ${ms - 1} ms`);
    clock.advance(1);
    assert.equal(stat(counter), count + 1, `${counter} after ${ms} ms`);
    return { reply };
  };

  before(async () => {
    hung = await startUpstream('hung', (_req, res) => void release.push(() => res.end('late')));
    const seen = new Map<string, number>();
    firstHung = await startUpstream('first-hung', (req, res) => {
      const n = (seen.get(req.url) ?? 0) + 1;
      seen.set(req.url, n);
      if (n === 1) release.push(() => res.end('late'));
      else res.end(`attempt ${n}`);
    });
    failing = await startUpstream('failing', (_req, res) => {
      res.writeHead(503);
      res.end('unavailable');
    });
    const retry = (numRetries: number, extra: Record<string, unknown>) => ({ retryPolicy: { retryOn: '5xx', numRetries, retryBackOff: { baseInterval: '0.025s' }, ...extra } });
    const started = await startProxy(
      {
        listeners: [httpListener('http', 'r')],
        routes: [
          routeConfig('r', [
            vhost('all', ['*'], [
              routeTo('hung', { prefix: '/timeout' }, { timeout: '0.1s' }),
              routeTo('hung', { prefix: '/default-timeout' }, { timeout: undefined }),
              routeTo('hung', { prefix: '/pertry-exhausted' }, { timeout: '5s', ...retry(1, { perTryTimeout: '0.05s' }) }),
              routeTo('first-hung', { prefix: '/pertry' }, { timeout: '5s', ...retry(1, { perTryTimeout: '0.15s' }) }),
              routeTo('failing', { prefix: '/backoff' }, { retryPolicy: { retryOn: '5xx', numRetries: 2, retryBackOff: { baseInterval: '1s', maxInterval: '1.5s' } } }),
            ]),
          ]),
        ],
        clusters: ['hung', 'first-hung', 'failing'].map((n) => edsCluster(n)),
        endpoints: [cla('hung', [{ port: hung.port }]), cla('first-hung', [{ port: firstHung.port }]), cla('failing', [{ port: failing.port }])],
      },
      { clock },
    );
    proxy = started.proxy;
    port = started.port('http');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    for (const r of release.splice(0)) r();
    await proxy.close();
    await Promise.all([hung, firstHung, failing].map((u) => u.close()));
  });

  test('route timeout: nothing until it has passed, then 504 "upstream request timeout" with UT', async () => {
    const n = records.length;
    const { reply } = await timesOut('/timeout', hung, 'cluster.hung.upstream_rq_timeout', 100);
    const r = await reply;
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    const rec = await last(n + 1);
    assert.equal(rec.responseFlags, 'UT');
    assert.equal(rec.responseCodeDetails, 'upstream_response_timeout');
  });

  test('a route without a timeout gets Envoy\'s 15 s', async () => {
    const { reply } = await timesOut('/default-timeout', hung, 'cluster.hung.upstream_rq_timeout', 15_000);
    assert.equal((await reply).status, 504);
  });

  test('per-try timeout: the slow first attempt is abandoned, the retry answers after its back-off', async () => {
    const { reply } = await timesOut('/pertry', firstHung, 'cluster.first-hung.upstream_rq_per_try_timeout', 150);
    // the retry waits for its back-off, at most base_interval (25 ms) for the first one
    assert.equal(firstHung.requests.length, 1);
    clock.advance(25);
    const r = await reply;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'attempt 2');
  });

  test('per-try timeouts exhausted: 504 with UT and URX', async () => {
    const n = records.length;
    const start = hung.requests.length;
    const reply = request(port, { path: '/pertry-exhausted' });
    await arrived(hung, start + 1);
    clock.advance(50 + 25);
    await arrived(hung, start + 2);
    clock.advance(50);
    const r = await reply;
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.equal((await last(n + 1)).responseFlags, 'UT,URX');
  });

  test('back-off: each retry waits on the clock, up to (2^n - 1) x base_interval capped at max_interval', async (t) => {
    // The jitter drawn at the top of its range, so each wait is exactly its ceiling.
    t.mock.method(Math, 'random', () => 1 - 1e-9);
    const n = records.length;
    const backoffs = () => stat('cluster.failing.upstream_rq_retry_backoff_exponential');
    const reply = request(port, { path: '/backoff' });
    for (const [retry, ceiling] of [[1, 1_000], [2, 1_500]] as const) {
      await waitFor(() => backoffs() === retry, 2000, `back-off ${retry}`);
      // the retry is a timer on the proxy's clock, not yet sent
      assert.equal(failing.requests.length, retry);
      assert.equal(clock.pending, 1);
      assert.equal(clock.nextIn(), ceiling, `back-off ${retry}`);
      clock.advance(ceiling - 1);
      assert.equal(clock.nextIn(), 1, 'not retried a millisecond early');
      clock.advance(1);
      await arrived(failing, retry + 1);
    }
    const r = await reply;
    assert.equal(r.status, 503);
    assert.equal(r.body, 'unavailable');
    assert.equal(failing.requests.length, 3);
    assert.equal((await last(n + 1)).responseFlags, 'URX');
  });
});
