// Tests of the echo server's httpbin endpoints and its Gateway-API-style echo of any other path.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEcho, parseDelay, pickStatus } from './echo.js';
import { call, callJson } from './lib/testing.js';
import type { RunningApp } from './lib/serve.js';

let echo: RunningApp;

before(async () => {
  echo = await startEcho({ port: 0, host: '127.0.0.1', env: { POD_NAME: 'httpbin-7d9f-abcde', NAMESPACE: 'foo', SERVICE_NAME: 'httpbin' } });
});
after(async () => {
  await echo.close();
});

test('/get reports args, Go-style headers, origin and url', async () => {
  const { status, json } = await callJson(`${echo.url}/get?a=1&a=2&b=x`, { 'x-request-id': 'abc', 'user-agent': 'curl/8.16.0' });
  assert.equal(status, 200);
  const body = json as { args: unknown; headers: Record<string, string[]>; method: string; origin: string; url: string };
  assert.deepEqual(body.args, { a: ['1', '2'], b: ['x'] });
  assert.deepEqual(body.headers['X-Request-Id'], ['abc']);
  assert.deepEqual(body.headers['User-Agent'], ['curl/8.16.0']);
  assert.deepEqual(body.headers.Host, [`127.0.0.1:${echo.port}`]);
  assert.equal(body.method, 'GET');
  assert.equal(body.origin, '127.0.0.1');
  assert.equal(body.url, `http://127.0.0.1:${echo.port}/get?a=1&a=2&b=x`);
  assert.equal((await call(`${echo.url}/get`, { method: 'POST', body: 'x' })).status, 405);
});

test('/post, /put, /patch, /delete and /anything echo the body, form and JSON', async () => {
  const post = await call(`${echo.url}/post`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":[1,2]}' });
  const pb = JSON.parse(post.body.toString()) as { json: unknown; data: string; method: string };
  assert.deepEqual(pb.json, { k: [1, 2] });
  assert.equal(pb.data, '{"k":[1,2]}');
  const form = await call(`${echo.url}/put`, {
    method: 'PUT',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'a=1&b=two',
  });
  assert.deepEqual((JSON.parse(form.body.toString()) as { form: unknown }).form, { a: ['1'], b: ['two'] });
  for (const m of ['PATCH', 'DELETE']) {
    const r = await call(`${echo.url}/${m.toLowerCase()}`, { method: m, body: 'x' });
    assert.equal(r.status, 200, m);
    assert.equal((JSON.parse(r.body.toString()) as { method: string }).method, m);
  }
  const any = await call(`${echo.url}/anything/deep/path?q=1`, { method: 'PUT', body: 'hello' });
  const ab = JSON.parse(any.body.toString()) as { method: string; data: string; url: string };
  assert.equal(ab.method, 'PUT');
  assert.equal(ab.data, 'hello');
  assert.match(ab.url, /\/anything\/deep\/path\?q=1$/);
});

test('/headers, /ip, /user-agent, /uuid', async () => {
  assert.deepEqual(((await callJson(`${echo.url}/headers`, { 'end-user': 'jason' })).json as { headers: Record<string, string[]> }).headers['End-User'], [
    'jason',
  ]);
  assert.deepEqual((await callJson(`${echo.url}/ip`, { 'x-forwarded-for': '10.1.2.3, 10.0.0.1' })).json, { origin: '10.1.2.3' });
  assert.deepEqual((await callJson(`${echo.url}/user-agent`, { 'user-agent': 'ua/1' })).json, { 'user-agent': 'ua/1' });
  assert.match(((await callJson(`${echo.url}/uuid`)).json as { uuid: string }).uuid, /^[0-9a-f-]{36}$/);
});

test('/status/<code> answers that code, 418 with the teapot, weighted lists pick one', async () => {
  assert.equal((await call(`${echo.url}/status/503`)).status, 503);
  assert.equal((await call(`${echo.url}/status/200`, { method: 'POST' })).status, 200);
  const teapot = await call(`${echo.url}/status/418`);
  assert.equal(teapot.status, 418);
  assert.equal(teapot.body.toString(), "I'm a teapot!");
  assert.ok([200, 500].includes((await call(`${echo.url}/status/200,500`)).status));
  assert.equal(pickStatus('200:0,500:1', () => 0.1), 500);
  assert.equal((await call(`${echo.url}/status/abc`)).status, 400);
});

test('/delay waits (bounded by 10 s), /bytes returns n bytes, /response-headers sets headers', async () => {
  const t0 = Date.now();
  const d = await call(`${echo.url}/delay/0.2`);
  assert.equal(d.status, 200);
  assert.ok(Date.now() - t0 >= 190);
  assert.equal((await call(`${echo.url}/delay/11`)).status, 400);
  assert.equal(parseDelay('1500ms'), 1500);
  const b = await call(`${echo.url}/bytes/1024?seed=42`);
  assert.equal(b.body.length, 1024);
  assert.equal(b.headers['content-type'], 'application/octet-stream');
  assert.deepEqual((await call(`${echo.url}/bytes/1024?seed=42`)).body, b.body);
  const rh = await call(`${echo.url}/response-headers?X-Custom=one&X-Custom=two&Foo=bar`);
  assert.equal(rh.headers['x-custom'], 'one, two');
  assert.equal(rh.headers.foo, 'bar');
  assert.deepEqual((JSON.parse(rh.body.toString()) as Record<string, unknown>).Foo, ['bar']);
});

test('other paths are echoed with namespace, service and pod; / is HTML for browsers', async () => {
  const { json } = await callJson(`${echo.url}/some/route?x=1`, { 'x-echo-set-header': 'X-Set: yes' });
  const body = json as Record<string, unknown>;
  assert.equal(body.path, '/some/route?x=1');
  assert.equal(body.method, 'GET');
  assert.equal(body.namespace, 'foo');
  assert.equal(body.service, 'httpbin');
  assert.equal(body.pod, 'httpbin-7d9f-abcde');
  assert.equal(body.proto, 'HTTP/1.1');
  assert.deepEqual(body.query, { x: ['1'] });
  const withHeader = await call(`${echo.url}/x`, { headers: { 'x-echo-set-header': 'X-Set: yes' } });
  assert.equal(withHeader.headers['x-set'], 'yes');
  const post = await callJson(`${echo.url}/`);
  assert.equal((post.json as { path: string }).path, '/');
  const html = await call(`${echo.url}/`, { headers: { accept: 'text/html' } });
  assert.match(html.body.toString(), /httpbin/);
});
