// The conformance echo backend answers as upstream's echo-basic does: its JSON, /status, ?delay, X-Echo-Set-Header,
// h2c on its own port, WebSocket echo on /ws; and the image map runs it for both of upstream's image names.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { DEFAULT_IMAGE_MAP, lookupImage } from '../runtime/image-map.js';
import { request } from '../proxy/testing.js';
import { startEchoBasic, type EchoBasic } from './echo-basic.js';
import * as grpc from '@grpc/grpc-js';
import { grpcEchoService, startGrpcEcho, type EchoAssertions } from './echo-basic-grpc.js';

let echo: EchoBasic;
before(async () => {
  echo = await startEchoBasic({ host: '127.0.0.1', httpPort: 0, h2cPort: 0, env: { NAMESPACE: 'gateway-conformance-infra', POD_NAME: 'infra-backend-v1-abc', SERVICE_NAME: 'infra-backend-v1' } });
});
after(() => echo.close());

test('any path is echoed: request-URI, host, method, proto, Go-style headers (no Host), and where it runs, indented as upstream', async () => {
  const r = await request(echo.http.port, { path: '/v2/example?a=1', method: 'PUT', headers: { host: 'foo.example.com', 'x-custom': 'one', 'X-Multi': ['a', 'b'] } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body), ['path', 'host', 'method', 'proto', 'headers', 'namespace', 'ingress', 'service', 'pod', 'sni']);
  assert.equal(body.path, '/v2/example?a=1');
  assert.equal(body.host, 'foo.example.com');
  assert.equal(body.method, 'PUT');
  assert.equal(body.proto, 'HTTP/1.1');
  assert.deepEqual(body.headers['X-Custom'], ['one']);
  assert.deepEqual(body.headers['X-Multi'], ['a', 'b']);
  assert.equal(body.headers.Host, undefined);
  assert.deepEqual([body.namespace, body.pod, body.service], ['gateway-conformance-infra', 'infra-backend-v1-abc', 'infra-backend-v1']);
  assert.match(r.body, /^\{\n "path"/, 'MarshalIndent with one space');
});

test('/status/NNN answers NNN; ?delay waits; X-Echo-Set-Header sets response headers', async () => {
  assert.equal((await request(echo.http.port, { path: '/status/418' })).status, 418);
  assert.equal((await request(echo.http.port, { path: '/status/abc' })).status, 400);
  const started = Date.now();
  const slow = await request(echo.http.port, { path: '/delayed?delay=300ms' });
  assert.equal(slow.status, 200);
  assert.ok(Date.now() - started >= 280);
  const set = await request(echo.http.port, { path: '/', headers: { 'x-echo-set-header': 'X-Foo: bar, X-Other: baz' } });
  assert.equal(set.headers['x-foo'], 'bar');
  assert.equal(set.headers['x-other'], 'baz');
});

test('h2c on its own port reports HTTP/2.0', async () => {
  const client = http2.connect(`http://127.0.0.1:${echo.h2c.port}`);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = client.request({ ':path': '/h2c', ':authority': 'h2c.example.com' });
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => resolve(text));
      req.on('error', reject);
      req.end();
    });
    const parsed = JSON.parse(body);
    assert.equal(parsed.proto, 'HTTP/2.0');
    assert.equal(parsed.host, 'h2c.example.com');
  } finally {
    client.close();
  }
});

test('/ws echoes WebSocket messages back unmasked', { timeout: 10_000 }, async () => {
  const socket = net.connect(echo.http.port, '127.0.0.1');
  const key = Buffer.from('0123456789abcdef').toString('base64');
  socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from('hello');
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  let received = Buffer.alloc(0);
  const done = new Promise<void>((resolve) =>
    socket.on('data', (c: Buffer) => {
      received = Buffer.concat([received, c]);
      const head = received.indexOf('\r\n\r\n');
      if (head >= 0 && received.length >= head + 4 + 2 + payload.length) resolve();
    }),
  );
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  await done;
  socket.destroy();
  const text = received.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101/);
  assert.ok(text.includes(`Sec-WebSocket-Accept: ${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}`));
  const frame = received.subarray(received.indexOf('\r\n\r\n') + 4);
  assert.deepEqual([frame[0], frame[1]], [0x81, payload.length], 'a final text frame, not masked');
  assert.equal(frame.subarray(2).toString(), 'hello');
});

test('the image map runs echo-basic for upstream\'s image names', () => {
  for (const image of ['registry.k8s.io/gateway-api/conformance/echo-basic:v1.2.0', 'gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd']) {
    assert.equal(lookupImage(DEFAULT_IMAGE_MAP, image)?.program, 'dist/apps/echo-basic.js', image);
  }
});

test('gRPC mode: Echo and EchoTwo answer with the method, authority, metadata and context; EchoThree is unimplemented', async () => {
  const app = await startGrpcEcho({ NAMESPACE: 'gateway-conformance-infra', POD_NAME: 'grpc-infra-backend-v1-x' }, '127.0.0.1', 0);
  const Client = grpcEchoService();
  const client = new Client(`127.0.0.1:${app.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'echo.example' });
  const call = (method: string) =>
    new Promise<{ assertions: EchoAssertions }>((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set('x-custom', 'one');
      (client[method] as (req: object, md: grpc.Metadata, cb: (err: Error | null, res: { assertions: EchoAssertions }) => void) => void).call(client, {}, md, (err, res) => (err ? reject(err) : resolve(res)));
    });
  try {
    const two = (await call('EchoTwo')).assertions;
    assert.equal(two.fully_qualified_method, '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/EchoTwo');
    assert.equal(two.authority, 'echo.example');
    assert.ok(two.headers.some((h) => h.key === 'x-custom' && h.value === 'one'));
    assert.deepEqual([two.context.namespace, two.context.pod], ['gateway-conformance-infra', 'grpc-infra-backend-v1-x']);
    await assert.rejects(call('EchoThree'), (err: { code?: number }) => err.code === grpc.status.UNIMPLEMENTED);
  } finally {
    client.close();
    await app.close();
  }
});
