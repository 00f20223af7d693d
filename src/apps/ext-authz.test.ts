// Tests of the ext-authz example server: HTTP and gRPC (envoy.service.auth.v3) checks, allow and deny.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { DENY_BODY, parseFlags, startExtAuthz, type RunningExtAuthz } from './ext-authz.js';
import { authorizationService, type CheckRequest, type CheckResponse } from './ext-authz-proto.js';
import { call } from './lib/testing.js';

let authz: RunningExtAuthz;
let client: grpc.Client & { Check: (req: CheckRequest, cb: (err: grpc.ServiceError | null, res: CheckResponse) => void) => void };

before(async () => {
  authz = await startExtAuthz({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', env: { EXT_AUTHZ_QUIET: 'true' } });
  const Ctor = authorizationService();
  client = new Ctor(authz.grpcAddress, grpc.credentials.createInsecure()) as unknown as typeof client;
});

after(async () => {
  client.close();
  await authz.close();
});

function check(req: CheckRequest): Promise<CheckResponse> {
  return new Promise((resolve, reject) => client.Check(req, (err, res) => (err ? reject(err) : resolve(res))));
}

test('HTTP: allowed with x-ext-authz: allow on any path', async () => {
  const res = await call(`${authz.url}/productpage/any/path?q=1`, { headers: { 'x-ext-authz': 'allow', 'x-ext-authz-additional-header-override': 'v' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-ext-authz-check-result'], 'allowed');
  assert.equal(res.headers['x-ext-authz-additional-header-override'], 'v');
  assert.match(String(res.headers['x-ext-authz-check-received']), /^GET .*\/productpage\/any\/path\?q=1, headers: /);
});

test('HTTP: denied with 403 and upstream\'s body otherwise', async () => {
  for (const headers of [{}, { 'x-ext-authz': 'deny' }] as Array<Record<string, string>>) {
    const res = await call(`${authz.url}/headers`, { method: 'POST', headers, body: 'payload' });
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-ext-authz-check-result'], 'denied');
    assert.equal(res.body.toString(), 'denied by ext_authz for not found header `x-ext-authz: allow` in the request');
    assert.match(String(res.headers['x-ext-authz-check-received']), /body: \[payload\]/);
  }
});

test('gRPC: OK with the result header when x-ext-authz: allow', async () => {
  const res = await check({ attributes: { request: { http: { method: 'GET', host: 'httpbin', path: '/headers', headers: { 'x-ext-authz': 'allow' } } } } });
  assert.equal(res.status.code, 0);
  assert.equal(res.http_response, 'ok_response');
  const headers = Object.fromEntries(res.ok_response!.headers.map((h) => [h.header.key, h.header.value]));
  assert.equal(headers['x-ext-authz-check-result'], 'allowed');
  assert.equal(headers['x-ext-authz-additional-header-override'], 'grpc-additional-header-override-value');
});

test('gRPC: PERMISSION_DENIED with a 403 denied_response otherwise; the allowed service account passes', async () => {
  const res = await check({ attributes: { request: { http: { path: '/headers', headers: { 'x-ext-authz': 'nope' } } } } });
  assert.equal(res.status.code, grpc.status.PERMISSION_DENIED);
  assert.equal(res.http_response, 'denied_response');
  assert.equal(res.denied_response!.status.code, 'Forbidden');
  assert.equal(res.denied_response!.body, DENY_BODY);
  const headers = Object.fromEntries(res.denied_response!.headers.map((h) => [h.header.key, h.header.value]));
  assert.equal(headers['x-ext-authz-check-result'], 'denied');

  const bySa = await check({ attributes: { source: { principal: 'spiffe://cluster.local/ns/foo/sa/a' }, request: { http: { path: '/', headers: {} } } } });
  assert.equal(bySa.status.code, 0);
  const otherSa = await check({ attributes: { source: { principal: 'spiffe://cluster.local/ns/foo/sa/b' }, request: { http: { path: '/', headers: {} } } } });
  assert.equal(otherSa.status.code, grpc.status.PERMISSION_DENIED);
});

test('Go-style flags', () => {
  assert.deepEqual(parseFlags(['-http', '8001', '--grpc=9001', '-allow_service_account', 'sleep']), {
    http: '8001',
    grpc: '9001',
    allow_service_account: 'sleep',
  });
});
