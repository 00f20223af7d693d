// The fault and CORS filters and request mirroring, configured the way Istio emits them (per-route typed_per_filter_config).
// Delays run on a manual clock: the test decides when they have passed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../clock.js';
import type { TrellisProxy } from '../../proxy.js';
import { cla, edsCluster, httpListener, request, requestRecords, routeConfig, routeTo, startProxy, startUpstream, T, vhost, waitFor, type Upstream } from '../../testing.js';

describe('fault injection, CORS and mirroring', () => {
  let app: Upstream, mirror: Upstream;
  const clock = new ManualClock();
  let proxy: TrellisProxy;
  let port: number;
  const { records, nth: last } = requestRecords();
  const fault = (f: Record<string, unknown>) => ({ typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': T.fault, ...f } } });

  before(async () => {
    app = await startUpstream('app');
    mirror = await startUpstream('mirror');
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [
        routeConfig('r', [
          vhost('ratings', ['ratings', 'ratings:9080'], [
            routeTo('app', { prefix: '/delay' }, {}, fault({ delay: { fixedDelay: '0.3s', percentage: { numerator: 100, denominator: 'HUNDRED' } } })),
            routeTo('app', { prefix: '/abort' }, {}, fault({ abort: { httpStatus: 500, percentage: { numerator: 1000000, denominator: 'MILLION' } } })),
            routeTo('app', { prefix: '/half' }, {}, fault({ abort: { httpStatus: 503, percentage: { numerator: 5000, denominator: 'TEN_THOUSAND' } } })),
            routeTo('app', { prefix: '/never' }, {}, fault({ abort: { httpStatus: 500 } })),
            routeTo('app', { prefix: '/both' }, {}, fault({ delay: { fixedDelay: '0.1s', percentage: { numerator: 100 } }, abort: { httpStatus: 400, percentage: { numerator: 100 } } })),
            routeTo('app', { prefix: '/grpc-abort' }, {}, fault({ abort: { grpcStatus: 14, percentage: { numerator: 100 } } })),
            routeTo('app', { prefix: '/by-header' }, {}, fault({ abort: { httpStatus: 401, percentage: { numerator: 100 } }, headers: [{ name: 'end-user', exactMatch: 'jason' }] })),
          ]),
          vhost('web', ['web'], [
            routeTo('app', { prefix: '/' }, {}, {
              typedPerFilterConfig: {
                'envoy.filters.http.cors': {
                  '@type': T.corsPolicy,
                  allowOriginStringMatch: [{ exact: 'https://good.example' }, { suffix: '.trusted.example' }],
                  allowMethods: 'GET,POST',
                  allowHeaders: 'x-custom',
                  exposeHeaders: 'x-upstream',
                  maxAge: '86400',
                  allowCredentials: true,
                },
              },
            }),
          ]),
          vhost('legacy-cors', ['legacy'], [routeTo('app', { prefix: '/' }, { cors: { allowOriginStringMatch: [{ prefix: 'http://old' }], allowMethods: 'PUT' } })]),
          vhost('mirrored', ['mirrored', 'mirrored:9080'], [
            routeTo('app', { prefix: '/all' }, { requestMirrorPolicies: [{ cluster: 'mirror', runtimeFraction: { defaultValue: { numerator: 100 } } }] }),
            routeTo('app', { prefix: '/none' }, { requestMirrorPolicies: [{ cluster: 'mirror', runtimeFraction: { defaultValue: { numerator: 0 } } }] }),
          ]),
        ]),
      ],
      clusters: [edsCluster('app'), edsCluster('mirror')],
      endpoints: [cla('app', [{ port: app.port }]), cla('mirror', [{ port: mirror.port }])],
    }, { clock });
    proxy = started.proxy;
    port = started.port('http');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([app.close(), mirror.close()]);
  });

  const delaysInjected = () => proxy.stats.get('http.http.fault.delays_injected') ?? 0;
  /** Sends a request; resolves once the fault filter holds it (its delay is a timer on the clock). */
  const delayed = async (path: string) => {
    const before = delaysInjected();
    const reply = request(port, { path, headers: { host: 'ratings' } });
    await waitFor(() => delaysInjected() > before, 2000, 'the delay to start');
    assert.equal(clock.pending, 1);
    return { reply };
  };

  test('fixed delay: the request goes upstream only once the delay has passed, flagged DI', async () => {
    const n = records.length;
    const before = app.requests.length;
    const { reply } = await delayed('/delay');
    clock.advance(299);
    assert.equal(clock.nextIn(), 1, 'still delayed after 299 ms');
    clock.advance(1);
    const r = await reply;
    assert.equal(r.status, 200);
    assert.equal(app.requests.length, before + 1);
    assert.equal((await last(n + 1)).responseFlags, 'DI');
  });

  test('abort: configured status, body "fault filter abort", FI, and the upstream never sees it', async () => {
    const n = records.length;
    const before = app.requests.length;
    const r = await request(port, { path: '/abort', headers: { host: 'ratings' } });
    assert.equal(r.status, 500);
    assert.equal(r.body, 'fault filter abort');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(app.requests.length, before);
    const rec = await last(n + 1);
    assert.equal(rec.responseFlags, 'FI');
    assert.equal(rec.responseCodeDetails, 'fault_filter_abort');
  });

  test('abort percentage (50% of 200 requests within ±15 points); an absent percentage never fires', async () => {
    let aborted = 0;
    for (let i = 0; i < 200; i++) if ((await request(port, { path: '/half', headers: { host: 'ratings' } })).status === 503) aborted++;
    assert.ok(aborted > 70 && aborted < 130, `${aborted} of 200 aborted`);
    assert.equal((await request(port, { path: '/never', headers: { host: 'ratings' } })).status, 200);
  });

  test('delay then abort: both flags', async () => {
    const n = records.length;
    const { reply } = await delayed('/both');
    clock.advance(100);
    const r = await reply;
    assert.equal(r.status, 400);
    assert.equal((await last(n + 1)).responseFlags, 'DI,FI');
  });

  test('gRPC abort: HTTP 200 with grpc-status and the fault message', async () => {
    const r = await request(port, { path: '/grpc-abort', method: 'POST', headers: { host: 'ratings', 'content-type': 'application/grpc' }, body: '' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '14');
    assert.equal(r.headers['grpc-message'], 'fault filter abort');
  });

  test('a fault with a header match applies only to matching requests', async () => {
    assert.equal((await request(port, { path: '/by-header', headers: { host: 'ratings', 'end-user': 'jason' } })).status, 401);
    assert.equal((await request(port, { path: '/by-header', headers: { host: 'ratings', 'end-user': 'kim' } })).status, 200);
  });

  test('CORS preflight from an allowed origin is answered by the proxy', async () => {
    const before = app.requests.length;
    const r = await request(port, {
      method: 'OPTIONS',
      headers: { host: 'web', origin: 'https://good.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://good.example');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(r.headers['access-control-allow-headers'], 'x-custom');
    assert.equal(r.headers['access-control-max-age'], '86400');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(app.requests.length, before);
  });

  test('CORS actual request: headers added for an allowed origin (suffix match), absent otherwise', async () => {
    let r = await request(port, { headers: { host: 'web', origin: 'https://a.trusted.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.trusted.example');
    assert.equal(r.headers['access-control-expose-headers'], 'x-upstream');
    r = await request(port, { headers: { host: 'web', origin: 'https://evil.example' } });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('a preflight from a disallowed origin is forwarded upstream', async () => {
    const before = app.requests.length;
    const r = await request(port, { method: 'OPTIONS', headers: { host: 'web', origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(app.requests.length, before + 1);
  });

  test('the route-level cors field (Istio 1.16) works like the per-filter config', async () => {
    const r = await request(port, { method: 'OPTIONS', headers: { host: 'legacy', origin: 'http://old.site', 'access-control-request-method': 'PUT' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-methods'], 'PUT');
  });

  test('mirroring: the mirror sees the request (and body) with a -shadow authority; the client gets the main response', async () => {
    const before = mirror.requests.length;
    const r = await request(port, { path: '/all/x', method: 'POST', body: 'copy me', headers: { host: 'mirrored:9080' } });
    assert.equal(r.body, 'app');
    await waitFor(() => mirror.requests.length > before, 2000, 'the mirrored request');
    const seen = mirror.requests.at(-1)!;
    assert.equal(seen.headers.host, 'mirrored-shadow:9080');
    assert.equal(seen.url, '/all/x');
    assert.equal(seen.body, 'copy me');
    assert.equal(app.requests.at(-1)!.headers.host, 'mirrored:9080');
  });

  test('mirroring at 0% sends nothing', async () => {
    const before = mirror.requests.length;
    for (let i = 0; i < 10; i++) await request(port, { path: '/none', headers: { host: 'mirrored' } });
    await request(port, { path: '/all/sync', headers: { host: 'mirrored' } });
    await waitFor(() => mirror.requests.length > before, 2000, 'the mirrored request');
    assert.deepEqual(mirror.requests.slice(before).map((r) => r.url), ['/all/sync']);
  });
});
