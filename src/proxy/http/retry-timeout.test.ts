// Retries, timeouts and Envoy's locally generated upstream errors, through a real proxy and real upstreams.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, vhost, waitFor, type Upstream } from '../testing.js';

async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('retries and timeouts', () => {
  let flaky: Upstream, broken: Upstream, slow: Upstream, reset: Upstream, ok: Upstream, slowFirst: Upstream;
  let proxy: TrellisProxy;
  let port: number;
  let dead: number;
  const records: HttpRequestRecord[] = [];
  const last = async (n: number) => {
    await waitFor(() => records.length >= n, 2000, 'request record');
    return records[n - 1]!;
  };

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
    slow = await startUpstream('slow', (_req, res) => {
      setTimeout(() => res.end('slow'), 1500);
    });
    slowFirst = await startUpstream('slow-first', (_req, res, count) => {
      setTimeout(() => res.end(`attempt ${count}`), count === 1 ? 1000 : 0);
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
            routeTo('slow', { prefix: '/timeout' }, { timeout: '0.1s' }),
            routeTo('slow', { prefix: '/pertry-exhausted' }, { timeout: '5s', ...retry('5xx', 1, { perTryTimeout: '0.05s' }) }),
            routeTo('slow-first', { prefix: '/pertry' }, { timeout: '5s', ...retry('5xx', 1, { perTryTimeout: '0.15s' }) }),
            routeTo('dead', { prefix: '/dead-retried' }, retry('connect-failure', 2)),
            routeTo('dead', { prefix: '/dead' }),
            routeTo('half-dead', { prefix: '/half-dead' }, retry('connect-failure,refused-stream', 3, { retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }], hostSelectionRetryMaxAttempts: '5' })),
            routeTo('empty', { prefix: '/empty' }),
            routeTo('reset', { prefix: '/reset-retried' }, retry('reset', 1)),
            routeTo('reset', { prefix: '/reset' }),
          ]),
        ]),
      ],
      clusters: ['flaky', 'broken', 'slow', 'slow-first', 'dead', 'half-dead', 'empty', 'reset'].map((n) => edsCluster(n, { connectTimeout: '0.5s' })),
      endpoints: [
        cla('flaky', [{ port: flaky.port }]),
        cla('broken', [{ port: broken.port }]),
        cla('slow', [{ port: slow.port }]),
        cla('slow-first', [{ port: slowFirst.port }]),
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
    await Promise.all([flaky, broken, slow, slowFirst, reset, ok].map((u) => u.close()));
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

  test('route timeout: 504 "upstream request timeout" with UT', async () => {
    const n = records.length;
    const t0 = Date.now();
    const r = await request(port, { path: '/timeout' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.ok(Date.now() - t0 < 1000);
    const rec = await last(n + 1);
    assert.equal(rec.responseFlags, 'UT');
    assert.equal(rec.responseCodeDetails, 'upstream_response_timeout');
  });

  test('per-try timeout: the slow first attempt is abandoned, the retry answers', async () => {
    const r = await request(port, { path: '/pertry' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'attempt 2');
  });

  test('per-try timeouts exhausted: 504 with UT and URX', async () => {
    const n = records.length;
    const r = await request(port, { path: '/pertry-exhausted' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.equal((await last(n + 1)).responseFlags, 'UT,URX');
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
