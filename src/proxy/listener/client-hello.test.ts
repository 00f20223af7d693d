// The ClientHello reader on real ClientHellos (Node's TLS client), fed whole and byte by byte, and Envoy's server
// name precedence for filter chains.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseClientHello, serverNameScore } from './client-hello.js';

/** The first bytes a real TLS client sends (its ClientHello), captured by a server that never answers. */
async function captureHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  let resolveBytes!: (b: Buffer) => void;
  const got = new Promise<Buffer>((r) => (resolveBytes = r));
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (parseClientHello(buf) !== undefined) (resolveBytes(buf), s.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false, ...opts });
  c.on('error', () => undefined);
  try {
    return await got;
  } finally {
    c.destroy();
    server.close();
  }
}

test('reads SNI and ALPN from a real ClientHello, whole or arriving a byte at a time', async () => {
  const hello = await captureHello({ servername: 'Reviews.Example.COM', ALPNProtocols: ['h2', 'http/1.1'] });
  assert.deepEqual(parseClientHello(hello), { serverName: 'reviews.example.com', alpn: ['h2', 'http/1.1'] });
  for (let i = 0; i < hello.length; i++) assert.equal(parseClientHello(hello.subarray(0, i)), undefined, `prefix ${i}`);
  // Without SNI (a client dialling an IP address): parsed, no name.
  const bare = await captureHello({});
  assert.equal(parseClientHello(bare)!.serverName, undefined);
  // Not TLS at all.
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')), null);
});

test('server names: exact beats wildcard, the longest wildcard wins, no SNI matches nothing', () => {
  assert.ok(serverNameScore(['a.example.com'], 'a.example.com') > serverNameScore(['*.example.com'], 'a.example.com'));
  assert.ok(serverNameScore(['*.b.example.com'], 'a.b.example.com') > serverNameScore(['*.example.com'], 'a.b.example.com'));
  assert.equal(serverNameScore(['*.example.com'], 'example.com'), -1);
  assert.equal(serverNameScore(['a.example.com'], undefined), -1);
  assert.equal(serverNameScore(['a.example.com'], 'b.example.com'), -1);
});
