// tcp_proxy through a real listener to real TCP echo servers: bytes both ways, weighted clusters, limits, failures, idle timeout.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TrellisProxy } from '../proxy.js';
import type { TcpConnectionRecord } from '../records.js';
import { cla, edsCluster, startProxy, tcpListener, waitFor } from '../testing.js';

async function echoServer(tag: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(`${tag}:${d.toString()}`));
    s.on('end', () => s.end());
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

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function exchange(s: net.Socket, msg: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(msg);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

describe('tcp_proxy', () => {
  let a: Awaited<ReturnType<typeof echoServer>>, b: Awaited<ReturnType<typeof echoServer>>;
  let dead: number;
  let proxy: TrellisProxy;
  let port: (l: string) => number;
  const records: TcpConnectionRecord[] = [];

  before(async () => {
    a = await echoServer('a');
    b = await echoServer('b');
    const d = net.createServer();
    await new Promise<void>((r) => d.listen(0, '127.0.0.1', r));
    dead = (d.address() as net.AddressInfo).port;
    await new Promise<void>((r) => d.close(() => r()));
    const started = await startProxy({
      listeners: [
        tcpListener('echo', 'a'),
        tcpListener('split', [{ name: 'a', weight: 50 }, { name: 'b', weight: 50 }]),
        tcpListener('limited', 'limited'),
        tcpListener('dead', 'dead'),
        tcpListener('idle', 'a', { idleTimeout: '0.2s' }),
      ],
      clusters: [edsCluster('a'), edsCluster('b'), edsCluster('limited', { circuitBreakers: { thresholds: [{ maxConnections: 1 }] } }), edsCluster('dead', { connectTimeout: '0.5s' })],
      endpoints: [cla('a', [{ port: a.port }]), cla('b', [{ port: b.port }]), cla('limited', [{ port: a.port }]), cla('dead', [{ port: dead }])],
    });
    proxy = started.proxy;
    port = started.port;
    proxy.observe({ onTcpConnection: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });

  test('bytes flow both ways and are counted in the connection record', async () => {
    const s = await connect(port('echo'));
    assert.equal(await exchange(s, 'hello'), 'a:hello');
    assert.equal(await exchange(s, 'again'), 'a:again');
    const n = records.length;
    s.end();
    await closed(s);
    await waitFor(() => records.length > n, 2000, 'the connection record');
    const r = records.at(-1)!;
    assert.equal(r.upstreamCluster, 'a');
    assert.equal(r.upstreamHost, `127.0.0.1:${a.port}`);
    assert.equal(r.bytesReceived, 10);
    assert.equal(r.bytesSent, 14);
    assert.equal(r.responseFlags, '-');
  });

  test('weighted clusters: both receive connections', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const s = await connect(port('split'));
      seen.add((await exchange(s, 'x')).split(':')[0]!);
      s.destroy();
    }
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });

  test('max_connections 1: a second concurrent connection is closed with UO', async () => {
    const first = await connect(port('limited'));
    assert.equal(await exchange(first, 'one'), 'a:one');
    const n = records.length;
    const second = await connect(port('limited'));
    await closed(second);
    await waitFor(() => records.length > n, 2000, 'the overflow record');
    assert.equal(records.at(-1)!.responseFlags, 'UO');
    first.destroy();
    await waitFor(() => proxy.cluster('limited')!.gauges.upstream_cx_active === 0, 2000, 'the connection to close');
    const third = await connect(port('limited'));
    assert.equal(await exchange(third, 'three'), 'a:three');
    third.destroy();
  });

  test('connect failure closes the client connection with UF', async () => {
    const n = records.length;
    const s = await connect(port('dead'));
    await closed(s);
    await waitFor(() => records.length > n, 2000, 'the failure record');
    assert.equal(records.at(-1)!.responseFlags, 'UF');
  });

  test('idle timeout closes a silent connection', async () => {
    const s = await connect(port('idle'));
    assert.equal(await exchange(s, 'ping'), 'a:ping');
    const t0 = Date.now();
    await closed(s);
    const took = Date.now() - t0;
    assert.ok(took >= 150 && took < 2000, `closed after ${took} ms`);
  });
});
