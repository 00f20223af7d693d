// Protocols through the proxy: h2c both sides, gRPC unary with @grpc/grpc-js, WebSocket upgrades, IPv6.

import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, http2Options, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, T, vhost, waitFor, type Upstream } from '../testing.js';

const echoService = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
  chat: {
    path: '/test.Echo/Chat',
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} as const;
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');

function h2Request(port: number, headers: http2.OutgoingHttpHeaders, body?: string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let rh: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      rh = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      session.close();
      resolve({ status, headers: rh, body: Buffer.concat(chunks).toString() });
    });
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

/** A WebSocket-ish upstream: answers the upgrade with 101, then echoes raw bytes. */
async function startWsEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.end('not an upgrade'));
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    sockets.add(socket);
    const accept = createHash('sha1').update(String(req.headers['sec-websocket-key']) + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-seen-path: ${req.url}\r\n\r\n`);
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('protocols', () => {
  let h1: Upstream, h2: Upstream, v6: Upstream;
  let ws: { port: number; close(): Promise<void> };
  let grpcServer: grpc.Server;
  let grpcPort: number;
  let attempts = 0;
  let proxy: TrellisProxy;
  let port: number;
  let v6port: number;
  const records: HttpRequestRecord[] = [];

  before(async () => {
    h1 = await startUpstream('h1', (req, res) => {
      res.end(`h1 saw ${req.headers.host}`);
    });
    h2 = await startUpstream('h2', (req, res) => {
      const r = res as unknown as http2.Http2ServerResponse;
      r.end(`h2 saw ${req.headers[':authority']} ${req.headers['x-from']}`);
    }, { h2: true });
    v6 = await startUpstream('v6', undefined, { host: '::1' });
    ws = await startWsEcho();
    grpcServer = new grpc.Server();
    grpcServer.addService(echoService as unknown as grpc.ServiceDefinition, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const text = call.request.toString();
        if (text === 'not-found') {
          cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
          return;
        }
        if (text === 'flaky' && ++attempts < 2) {
          cb({ code: grpc.status.UNAVAILABLE, details: 'try again' });
          return;
        }
        const trailer = new grpc.Metadata();
        trailer.set('x-trailer', 'kept');
        cb(null, Buffer.from(`echo:${text}`), trailer);
      },
      chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', (m: Buffer) => call.write(Buffer.from(`re:${m.toString()}`)));
        call.on('end', () => call.end());
      },
    });
    grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const started = await startProxy({
      listeners: [httpListener('http', 'r'), httpListener('v6', 'r', {}, '::1')],
      routes: [
        routeConfig('r', [
          vhost('grpc', ['grpc.svc', 'grpc.svc:*'], [
            routeTo('grpc', { prefix: '/test.Echo/', grpc: {} }, { retryPolicy: { retryOn: 'unavailable', numRetries: 2, retryBackOff: { baseInterval: '0.001s' } } }),
          ]),
          vhost('grpc-empty', ['grpc-empty'], [routeTo('empty', { prefix: '/' })]),
          vhost('grpc-fault', ['grpc-fault'], [routeTo('grpc', { prefix: '/' }, {}, { typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': T.fault, abort: { grpcStatus: 8, percentage: { numerator: 100 } } } } })]),
          vhost('h2', ['h2'], [routeTo('h2', { prefix: '/' })]),
          vhost('v6', ['v6'], [routeTo('v6', { prefix: '/' })]),
          vhost('ws', ['ws'], [routeTo('ws', { prefix: '/socket' }), routeTo('ws', { prefix: '/nows' }, { upgradeConfigs: [{ upgradeType: 'websocket', enabled: false }] })]),
          vhost('default', ['*'], [routeTo('h1', { prefix: '/' })]),
        ]),
      ],
      clusters: [
        edsCluster('h1'),
        edsCluster('h2', { typedExtensionProtocolOptions: http2Options() }),
        edsCluster('grpc', { typedExtensionProtocolOptions: http2Options() }),
        edsCluster('empty', { typedExtensionProtocolOptions: http2Options() }),
        edsCluster('v6'),
        edsCluster('ws'),
      ],
      endpoints: [
        cla('h1', [{ port: h1.port }]),
        cla('h2', [{ port: h2.port }]),
        cla('grpc', [{ port: grpcPort }]),
        cla('empty', []),
        cla('v6', [{ port: v6.port, address: '::1' }]),
        cla('ws', [{ port: ws.port }]),
      ],
    });
    proxy = started.proxy;
    port = started.port('http');
    v6port = started.port('v6');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    grpcServer.forceShutdown();
    await Promise.all([h1.close(), h2.close(), v6.close(), ws.close()]);
  });

  test('h2c downstream (prior knowledge, same port as HTTP/1.1) to an HTTP/1.1 upstream', async () => {
    const r = await h2Request(port, { ':path': '/x', ':authority': 'plain.example' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'h1 saw plain.example');
    await waitFor(() => records.some((x) => x.protocol === 'HTTP/2'), 2000, 'an HTTP/2 record');
  });

  test('HTTP/1.1 downstream to an h2c upstream, and h2c to h2c', async () => {
    let r = await request(port, { headers: { host: 'h2', 'x-from': 'h1' } });
    assert.equal(r.body, 'h2 saw h2 h1');
    const r2 = await h2Request(port, { ':path': '/', ':authority': 'h2', 'x-from': 'h2' });
    assert.equal(r2.body, 'h2 saw h2 h2');
    r = await request(port, { headers: { host: 'h2' }, method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(r.status, 200);
  });

  test('gRPC unary: response, status and trailing metadata pass through', async () => {
    const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.svc' });
    try {
      const status: { metadata?: grpc.Metadata } = {};
      const value = await new Promise<Buffer>((resolve, reject) => {
        const call = client.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('hi'), (err: grpc.ServiceError | null, v?: Buffer) => (err ? reject(err) : resolve(v!)));
        call.on('status', (s: grpc.StatusObject) => (status.metadata = s.metadata));
      });
      assert.equal(value.toString(), 'echo:hi');
      await waitFor(() => status.metadata !== undefined, 1000, 'trailers');
      assert.deepEqual(status.metadata!.get('x-trailer'), ['kept']);
      const err = await new Promise<grpc.ServiceError>((resolve) =>
        client.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('not-found'), (e: grpc.ServiceError | null) => resolve(e!)),
      );
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.details, 'no such thing');
      const rec = records.filter((r) => r.path === '/test.Echo/Echo').at(-1)!;
      assert.equal(rec.grpcStatus, 5);
    } finally {
      client.close();
    }
  });

  test('gRPC bidirectional streaming: messages interleave both ways through the proxy', async () => {
    const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.svc' });
    try {
      const call = client.makeBidiStreamRequest('/test.Echo/Chat', (b: Buffer) => b, (b: Buffer) => b);
      const got: string[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        call.on('end', () => resolve());
        call.on('error', reject);
      });
      for (const m of ['one', 'two', 'three']) {
        const reply = new Promise<string>((r) => call.once('data', (d: Buffer) => r(d.toString())));
        call.write(Buffer.from(m));
        got.push(await reply);
      }
      call.end();
      await ended;
      assert.deepEqual(got, ['re:one', 're:two', 're:three']);
    } finally {
      client.close();
    }
  });

  test('gRPC retry on "unavailable" (grpc-status in a trailers-only response)', async () => {
    attempts = 0;
    const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.svc' });
    try {
      const v = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('flaky'), (e: grpc.ServiceError | null, v?: Buffer) => (e ? reject(e) : resolve(v!))),
      );
      assert.equal(v.toString(), 'echo:flaky');
      assert.equal(attempts, 2);
    } finally {
      client.close();
    }
  });

  test('a locally generated error reaches a gRPC client as grpc-status (no healthy upstream → UNAVAILABLE); a gRPC fault abort too', async () => {
    for (const [authority, code, details] of [
      ['grpc-empty', grpc.status.UNAVAILABLE, 'no healthy upstream'],
      ['grpc-fault', grpc.status.RESOURCE_EXHAUSTED, 'fault filter abort'],
    ] as const) {
      const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });
      try {
        const err = await new Promise<grpc.ServiceError>((resolve) =>
          client.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), (e: grpc.ServiceError | null) => resolve(e!)),
        );
        assert.equal(err.code, code);
        assert.equal(err.details, details);
      } finally {
        client.close();
      }
    }
  });

  test('IPv6: a listener on ::1 and an upstream on ::1', async () => {
    const r = await request(v6port, { host: '::1', headers: { host: 'v6' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'v6');
    const rec = records.filter((x) => x.upstreamCluster === 'v6').at(-1)!;
    assert.equal(rec.upstreamHost, `[::1]:${v6.port}`);
    assert.match(rec.downstreamRemoteAddress, /^\[::1\]:\d+$/);
  });

  test('WebSocket: the upgrade reaches the upstream, 101 comes back, bytes flow both ways', async () => {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /socket/chat HTTP/1.1\r\nHost: ws\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    let buf = '';
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        buf += d.toString('latin1');
        if (buf.includes('\r\n\r\n')) {
          sock.off('data', onData);
          resolve();
        }
      };
      sock.on('data', onData);
    });
    assert.match(buf, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(buf, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    assert.match(buf, /x-seen-path: \/socket\/chat/);
    const echoed = new Promise<string>((resolve) => sock.once('data', (d) => resolve(d.toString())));
    sock.write('\x81\x05hello');
    assert.equal(await echoed, '\x81\x05hello');
    const n = records.length;
    sock.end();
    await waitFor(() => records.length > n, 2000, 'the websocket record');
    const rec = records.at(-1)!;
    assert.equal(rec.responseCode, 101);
    assert.equal(rec.websocket, true);
    assert.ok(rec.bytesSent > 0 && rec.bytesReceived > 0);
  });

  test('"Upgrade: h2c" is ignored: a plain HTTP/1.1 answer (curl --http2 on http://)', async () => {
    const sock = net.connect(port, '127.0.0.1');
    sock.write('GET /x HTTP/1.1\r\nHost: plain\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n');
    const text = await new Promise<string>((resolve) => {
      let b = '';
      sock.on('data', (d) => (b += d.toString()));
      sock.on('close', () => resolve(b));
    });
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /h1 saw plain$/);
    assert.equal(h1.requests.at(-1)!.headers.upgrade, undefined);
  });

  test('an upgrade on a route that disables websocket is refused with 403', async () => {
    const sock = net.connect(port, '127.0.0.1');
    sock.write('GET /nows HTTP/1.1\r\nHost: ws\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    const text = await new Promise<string>((resolve) => {
      let b = '';
      sock.on('data', (d) => (b += d.toString()));
      sock.on('close', () => resolve(b));
    });
    assert.match(text, /^HTTP\/1\.1 403 /);
  });
});
