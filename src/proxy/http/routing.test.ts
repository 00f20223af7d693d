// Routing through a real proxy to real upstreams: matching, rewrites, redirects, direct responses, header edits, weighted clusters.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, vhost, type Upstream } from '../testing.js';

describe('HTTP routing', () => {
  let a: Upstream, b: Upstream, c: Upstream;
  let proxy: TrellisProxy;
  let port: number;
  const records: HttpRequestRecord[] = [];

  before(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
    c = await startUpstream('c');
    const started = await startProxy({
      listeners: [httpListener('http', '8080')],
      routes: [
        routeConfig(
          '8080',
          [
            vhost('exact', ['reviews', 'reviews:9080', 'reviews.default.svc.cluster.local'], [routeTo('b')]),
            vhost('suffix', ['*.example.com'], [routeTo('c')]),
            vhost('prefix', ['api.*'], [routeTo('b', { prefix: '/' }, {}, { requestHeadersToAdd: [{ header: { key: 'x-vhost', value: 'prefix' } }] })]),
            vhost(
              'default',
              ['*'],
              [
                routeTo('b', { path: '/exact' }),
                routeTo('c', { prefix: '/CaSe', caseSensitive: false }),
                routeTo('b', { pathSeparatedPrefix: '/sep' }),
                routeTo('c', { safeRegex: { regex: '/re/[0-9]+' } }),
                routeTo('b', { prefix: '/hm', headers: [{ name: 'x-user', stringMatch: { exact: 'jason' } }] }),
                routeTo('c', { prefix: '/hm', headers: [{ name: 'x-user', presentMatch: true, invertMatch: true }] }),
                routeTo('b', { prefix: '/q', queryParameters: [{ name: 'v', stringMatch: { prefix: '2' } }] }),
                routeTo('b', { prefix: '/m', headers: [{ name: ':method', exactMatch: 'POST' }] }),
                routeTo('b', { prefix: '/rx', headers: [{ name: 'x-ver', safeRegexMatch: { regex: 'v[12]' } }] }),
                routeTo('a', { prefix: '/old/' }, { prefixRewrite: '/new/' }),
                routeTo('a', { prefix: '/strip' }, { prefixRewrite: '/' }),
                routeTo('a', { prefix: '/rr/' }, { regexRewrite: { pattern: { regex: '^/rr/(\\w+)/(\\w+)$' }, substitution: '/\\2/\\1' } }),
                routeTo('a', { prefix: '/host' }, { hostRewriteLiteral: 'rewritten.example' }),
                { match: { prefix: '/redirect' }, redirect: { hostRedirect: 'new.example', pathRedirect: '/landing', responseCode: 'FOUND' } },
                { match: { prefix: '/https' }, redirect: { schemeRedirect: 'https', portRedirect: 8443 } },
                { match: { prefix: '/pfx-redirect/' }, redirect: { prefixRewrite: '/moved/' } },
                { match: { prefix: '/direct' }, directResponse: { status: 418, body: { inlineString: 'teapot' } } },
                routeTo(
                  'a',
                  { prefix: '/headers' },
                  {},
                  {
                    requestHeadersToAdd: [
                      { header: { key: 'x-route', value: 'r' } },
                      { header: { key: 'x-set', value: 'route' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
                      { header: { key: 'x-client', value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' } },
                    ],
                    requestHeadersToRemove: ['x-remove-me'],
                    responseHeadersToAdd: [{ header: { key: 'x-resp-route', value: 'yes' } }],
                    responseHeadersToRemove: ['x-upstream'],
                  },
                ),
                routeTo('a', { prefix: '/weighted' }, { cluster: undefined, weightedClusters: { clusters: [{ name: 'a', weight: 25, requestHeadersToAdd: [{ header: { key: 'x-wc', value: 'a' } }] }, { name: 'b', weight: 75, responseHeadersToAdd: [{ header: { key: 'x-wc-resp', value: 'b' } }] }] } }),
                routeTo('missing-cluster', { prefix: '/nocluster' }),
              ],
              {
                requestHeadersToAdd: [{ header: { key: 'x-vh', value: 'default' } }, { header: { key: 'x-set', value: 'vhost' }, append: false }],
                responseHeadersToAdd: [{ header: { key: 'x-resp-vh', value: 'yes' } }],
              },
            ),
          ],
          {
            requestHeadersToAdd: [{ header: { key: 'x-rc', value: 'rc' } }],
            responseHeadersToAdd: [{ header: { key: 'x-resp-rc', value: 'yes' } }],
          },
        ),
      ],
      clusters: [edsCluster('a'), edsCluster('b'), edsCluster('c')],
      endpoints: [cla('a', [{ port: a.port }]), cla('b', [{ port: b.port }]), cla('c', [{ port: c.port }])],
    });
    proxy = started.proxy;
    port = started.port('http');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  test('virtual hosts: exact domain (with and without port), *.suffix, prefix.*, then *', async () => {
    assert.equal((await request(port, { headers: { host: 'reviews' } })).body, 'b');
    assert.equal((await request(port, { headers: { host: 'reviews:9080' } })).body, 'b');
    assert.equal((await request(port, { headers: { host: 'REVIEWS.default.svc.cluster.local' } })).body, 'b');
    assert.equal((await request(port, { headers: { host: 'shop.example.com' } })).body, 'c');
    assert.equal((await request(port, { headers: { host: 'api.internal' } })).body, 'b');
    assert.equal(b.requests.at(-1)!.headers['x-vhost'], 'prefix');
    assert.equal((await request(port, { headers: { host: 'other' }, path: '/exact' })).body, 'b');
  });

  test('path matching: exact, case-insensitive prefix, path-separated prefix, regex', async () => {
    assert.equal((await request(port, { path: '/exact?x=1' })).body, 'b');
    assert.equal((await request(port, { path: '/exact/more' })).status, 404);
    assert.equal((await request(port, { path: '/case/x' })).body, 'c');
    assert.equal((await request(port, { path: '/sep' })).body, 'b');
    assert.equal((await request(port, { path: '/sep/x' })).body, 'b');
    assert.equal((await request(port, { path: '/separate' })).status, 404);
    assert.equal((await request(port, { path: '/re/123' })).body, 'c');
    assert.equal((await request(port, { path: '/re/12a' })).status, 404);
  });

  test('header, inverted presence, query parameter, method and regex header matches', async () => {
    assert.equal((await request(port, { path: '/hm', headers: { 'x-user': 'jason' } })).body, 'b');
    assert.equal((await request(port, { path: '/hm' })).body, 'c');
    assert.equal((await request(port, { path: '/hm', headers: { 'x-user': 'other' } })).status, 404);
    assert.equal((await request(port, { path: '/q?v=2.1' })).body, 'b');
    assert.equal((await request(port, { path: '/q?v=1' })).status, 404);
    assert.equal((await request(port, { path: '/m', method: 'POST', body: 'x' })).body, 'b');
    assert.equal((await request(port, { path: '/m' })).status, 404);
    assert.equal((await request(port, { path: '/rx', headers: { 'x-ver': 'v2' } })).body, 'b');
    assert.equal((await request(port, { path: '/rx', headers: { 'x-ver': 'v3' } })).status, 404);
  });

  test('no route: 404 with NR', async () => {
    const before = records.length;
    const r = await request(port, { path: '/nothing-here', headers: { host: 'shop.example.com.evil' } });
    assert.equal(r.status, 404);
    await waitRecords(before + 1);
    assert.equal(records.at(-1)!.responseFlags, 'NR');
  });

  test('prefix rewrite, rewrite to "/", regex rewrite with groups, query kept', async () => {
    await request(port, { path: '/old/path?q=1' });
    assert.equal(a.requests.at(-1)!.url, '/new/path?q=1');
    await request(port, { path: '/strip' });
    assert.equal(a.requests.at(-1)!.url, '/');
    await request(port, { path: '/strip/x' });
    assert.equal(a.requests.at(-1)!.url, '//x');
    await request(port, { path: '/rr/one/two' });
    assert.equal(a.requests.at(-1)!.url, '/two/one');
  });

  test('host rewrite', async () => {
    await request(port, { path: '/host', headers: { host: 'original' } });
    assert.equal(a.requests.at(-1)!.headers.host, 'rewritten.example');
  });

  test('redirects: host and path, scheme and port, prefix rewrite', async () => {
    let r = await request(port, { path: '/redirect/x?y=1', headers: { host: 'site:8080' } });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://new.example/landing?y=1');
    r = await request(port, { path: '/https/a', headers: { host: 'site' } });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://site:8443/https/a');
    r = await request(port, { path: '/pfx-redirect/a/b', headers: { host: 'site:8080' } });
    assert.equal(r.headers.location, 'http://site:8080/moved/a/b');
  });

  test('direct response with body, and the route configuration response headers', async () => {
    const r = await request(port, { path: '/direct' });
    assert.equal(r.status, 418);
    assert.equal(r.body, 'teapot');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['x-resp-rc'], 'yes');
  });

  test('header edits at route, virtual host and route configuration level; removals; %COMMAND% values', async () => {
    const r = await request(port, { path: '/headers', headers: { 'x-remove-me': '1', 'x-set': 'client' } });
    const h = a.requests.at(-1)!.headers;
    assert.equal(h['x-route'], 'r');
    assert.equal(h['x-vh'], 'default');
    assert.equal(h['x-rc'], 'rc');
    assert.equal(h['x-remove-me'], undefined);
    // route level applies first, the enclosing virtual host overwrites (Envoy's default order)
    assert.equal(h['x-set'], 'vhost');
    assert.equal(h['x-client'], '127.0.0.1');
    assert.ok(h['x-request-id'], 'x-request-id is generated');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(r.headers['x-resp-route'], 'yes');
    assert.equal(r.headers['x-resp-vh'], 'yes');
    assert.equal(r.headers['x-resp-rc'], 'yes');
    assert.equal(r.headers['x-upstream'], undefined);
  });

  test('an incoming x-request-id is kept and forwarded', async () => {
    await request(port, { path: '/headers', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(a.requests.at(-1)!.headers['x-request-id'], 'abc-123');
  });

  test('weighted clusters split 25/75 within ±10 points over 400 requests; per-cluster header edits', async () => {
    const aBefore = a.requests.length;
    const bBefore = b.requests.length;
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 8 });
    let sawWcResp = false;
    const results = await Promise.all(
      Array.from({ length: 400 }, () =>
        request(port, { path: '/weighted', agent }).then((r) => {
          if (r.body === 'b' && r.headers['x-wc-resp'] === 'b') sawWcResp = true;
          return r.status;
        }),
      ),
    );
    agent.destroy();
    assert.ok(results.every((s) => s === 200));
    const toA = a.requests.length - aBefore;
    const toB = b.requests.length - bBefore;
    assert.equal(toA + toB, 400);
    const shareA = (toA / 400) * 100;
    assert.ok(shareA > 15 && shareA < 35, `share to a was ${shareA}%`);
    assert.ok(a.requests.slice(aBefore).every((r) => r.headers['x-wc'] === 'a'));
    assert.ok(sawWcResp);
  });

  test('a route to an unknown cluster: 503 with NC', async () => {
    const before = records.length;
    const r = await request(port, { path: '/nocluster' });
    assert.equal(r.status, 503);
    await waitRecords(before + 1);
    assert.equal(records.at(-1)!.responseFlags, 'NC');
  });

  test('the request record carries method, path, authority, status, cluster, host and bytes', async () => {
    const before = records.length;
    await request(port, { path: '/old/x', method: 'PUT', body: 'hello', headers: { host: 'rec.test' } });
    await waitRecords(before + 1);
    const r = records.at(-1)!;
    assert.equal(r.method, 'PUT');
    assert.equal(r.path, '/old/x');
    assert.equal(r.authority, 'rec.test');
    assert.equal(r.responseCode, 200);
    assert.equal(r.upstreamCluster, 'a');
    assert.equal(r.upstreamHost, `127.0.0.1:${a.port}`);
    assert.equal(r.bytesReceived, 5);
    assert.equal(r.bytesSent, 1);
    assert.equal(r.responseFlags, '-');
    assert.equal(r.protocol, 'HTTP/1.1');
    assert.ok(r.duration >= 0);
  });

  async function waitRecords(n: number): Promise<void> {
    const deadline = Date.now() + 2000;
    while (records.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }
});
