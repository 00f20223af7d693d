// Bodies through the proxy: large uploads and downloads on HTTP/1.1 and HTTP/2, HEAD, and a client that goes away (DC).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, http2Options, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, vhost, waitFor, type Upstream } from '../testing.js';

const BIG = Buffer.alloc(4 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz');
const FLOOD = 64 * 1024 * 1024;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('streaming', () => {
  let h1: Upstream, h2: Upstream;
  let aborted = 0;
  let floodWritten = 0;
  let proxy: TrellisProxy;
  let port: number;
  const records: HttpRequestRecord[] = [];

  const handler = (req: { url: string; body: string; method: string }, res: http.ServerResponse) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(BIG);
    } else if (req.url === '/flood') {
      // FLOOD bytes in 64 KiB chunks, as fast as the proxy takes them (honouring its backpressure).
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(FLOOD) });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const more = () => {
        while (floodWritten < FLOOD) {
          floodWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    } else if (req.url === '/hang') {
      res.on('close', () => aborted++);
    } else {
      res.writeHead(200, { 'x-length': String(Buffer.byteLength(req.body)), 'content-length': req.method === 'HEAD' ? '12345' : '64' });
      res.end(req.method === 'HEAD' ? undefined : sha(req.body));
    }
  };

  before(async () => {
    h1 = await startUpstream('h1', handler);
    h2 = await startUpstream('h2', handler as never, { h2: true });
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [routeConfig('r', [vhost('h2', ['h2'], [routeTo('h2')]), vhost('h1', ['*'], [routeTo('h1')])])],
      clusters: [edsCluster('h1'), edsCluster('h2', { typedExtensionProtocolOptions: http2Options() })],
      endpoints: [cla('h1', [{ port: h1.port }]), cla('h2', [{ port: h2.port }])],
    });
    proxy = started.proxy;
    port = started.port('http');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([h1.close(), h2.close()]);
  });

  for (const upstream of ['h1', 'h2']) {
    test(`4 MiB upload and download intact (HTTP/1.1 client, ${upstream} upstream)`, async () => {
      const up = await request(port, { method: 'POST', path: '/upload', body: BIG, headers: { host: upstream } });
      assert.equal(up.status, 200);
      assert.equal(up.headers['x-length'], String(BIG.length));
      assert.equal(up.body, sha(BIG.toString()));
      const down = await new Promise<Buffer>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/download', headers: { host: upstream } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      });
      assert.equal(down.length, BIG.length);
      assert.ok(down.equals(BIG));
    });
  }

  test('4 MiB download over an h2c client connection', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const body = await new Promise<Buffer>((resolve, reject) => {
        const s = session.request({ ':path': '/download', ':authority': 'h1' });
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => resolve(Buffer.concat(chunks)));
        s.on('error', reject);
      });
      assert.ok(body.equals(BIG));
    } finally {
      session.close();
    }
  });

  test('a client that stops reading holds the upstream back (backpressure through the proxy), then gets every byte', async () => {
    floodWritten = 0;
    const s = net.connect(port, '127.0.0.1');
    let received = 0;
    s.on('data', (c: Buffer) => {
      received += c.length;
      // Stop reading after the first bytes: only socket buffers may fill from here on.
      if (received > 0) s.pause();
    });
    s.write('GET /flood HTTP/1.1\r\nhost: h1\r\n\r\n');
    // Wait until the upstream stalls (no progress for 300 ms): it is held back, not writing into proxy memory.
    let last = -1;
    let still = performance.now();
    await waitFor(() => {
      if (floodWritten !== last) (last = floodWritten), (still = performance.now());
      return floodWritten > 0 && performance.now() - still > 300;
    }, 20_000, 'the upstream to stall');
    // Loopback socket buffers (client, proxy both ways, upstream) hold ~20 MiB at most; the rest must wait.
    assert.ok(floodWritten < FLOOD / 2, `the upstream wrote ${floodWritten} of ${FLOOD} bytes while the client read none`);
    s.removeAllListeners('data');
    s.on('data', (c: Buffer) => (received += c.length));
    s.resume();
    await waitFor(() => received >= FLOOD, 20_000, 'every byte');
    assert.ok(received > FLOOD && received < FLOOD + 1024, `${received} bytes: the body and one head`);
    s.destroy();
  });

  test('HEAD: headers (content-length kept), no body', async () => {
    const r = await request(port, { method: 'HEAD', path: '/head' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '12345');
    assert.equal(r.body, '');
  });

  test('the client goes away mid-request: the upstream request is cancelled and the record says DC', async () => {
    const n = records.length;
    const before = aborted;
    const req = http.request({ host: '127.0.0.1', port, path: '/hang' });
    req.on('error', () => undefined);
    req.end();
    await waitFor(() => h1.requests.some((r) => r.url === '/hang'), 2000, 'the request upstream');
    req.destroy();
    await waitFor(() => records.length > n, 2000, 'the record');
    const rec = records.at(-1)!;
    assert.equal(rec.responseFlags, 'DC');
    assert.equal(rec.responseCode, 0);
    await waitFor(() => aborted > before, 2000, 'the upstream request to be cancelled');
  });
});
