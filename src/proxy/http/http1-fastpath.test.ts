// The raw-socket HTTP/1.1 paths (downstream codec, upstream pool) on the wire: pipelining, chunked bodies both ways,
// requests that fall back to node:http (Expect, malformed heads), keep-alive reuse upstream.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TrellisProxy } from '../proxy.js';
import { cla, edsCluster, httpListener, routeConfig, routeTo, startProxy, startUpstream, vhost, type Upstream } from '../testing.js';

/** Sends raw bytes and collects what comes back until the server closes or `until` matches. */
function raw(port: number, data: string | Buffer[], until: RegExp, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`timeout; got: ${out}`))), ms);
    s.on('data', (c) => {
      out += c.toString('latin1');
      if (until.test(out)) {
        clearTimeout(timer);
        s.destroy();
        resolve(out);
      }
    });
    s.on('close', () => (clearTimeout(timer), resolve(out)));
    s.on('error', () => undefined);
    if (typeof data === 'string') s.write(data);
    else {
      // byte by byte-ish: split writes to exercise the incremental parsers
      let i = 0;
      const next = () => {
        if (i >= data.length) return;
        s.write(data[i++]!);
        setTimeout(next, 5);
      };
      next();
    }
  });
}

describe('HTTP/1.1 fast path', () => {
  let up: Upstream;
  let proxy: TrellisProxy;
  let port: number;

  before(async () => {
    up = await startUpstream('u', (req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('hello ');
        setTimeout(() => res.end('world'), 5);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-body-length': String(Buffer.byteLength(req.body)), 'content-length': String(Buffer.byteLength(req.url + ':' + req.body)) });
      res.end(req.url + ':' + req.body);
    });
    const started = await startProxy({
      listeners: [httpListener('http', 'r')],
      routes: [routeConfig('r', [vhost('all', ['*'], [routeTo('u')])])],
      clusters: [edsCluster('u')],
      endpoints: [cla('u', [{ port: up.port }])],
    });
    proxy = started.proxy;
    port = started.port('http');
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  test('pipelined requests in one write are answered in order', async () => {
    const req = (p: string) => `GET ${p} HTTP/1.1\r\nhost: x\r\n\r\n`;
    const out = await raw(port, req('/a') + req('/b') + req('/c'), /\/c:/);
    const bodies = [...out.matchAll(/\r\n\r\n(\/[abc]):/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ['/a', '/b', '/c']);
  });

  test('a chunked request body split over many writes arrives whole; a chunked response goes back chunked', async () => {
    const parts = ['POST /up HTTP/1.1\r\nhost: x\r\ntransfer-', 'encoding: chunked\r\n\r\n5\r\nhel', 'lo\r\n', '6\r\n world\r\n0\r\n', '\r\n'].map((s) => Buffer.from(s));
    const out = await raw(port, parts, /\/up:hello world/);
    assert.match(out, /x-body-length: 11/);
    const chunked = await raw(port, 'GET /chunked HTTP/1.1\r\nhost: x\r\n\r\n', /0\r\n\r\n$/);
    assert.match(chunked, /transfer-encoding: chunked/i);
    assert.match(chunked, /hello /);
    assert.match(chunked, /world/);
  });

  test('Expect: 100-continue falls back to node:http and still works', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const r = http.request({ port, method: 'POST', path: '/expect', headers: { expect: '100-continue', 'content-length': '3' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      r.on('continue', () => r.end('abc'));
      r.on('error', reject);
    });
    assert.equal(status, 200);
  });

  test('a malformed request gets node:http\'s 400', async () => {
    const out = await raw(port, 'GET / HTTP/1.1\r\nbad header\r\n\r\n', /\r\n\r\n/);
    assert.match(out, /^HTTP\/1\.1 400/);
  });

  test('connection: close ends the connection after the response', async () => {
    const out = await raw(port, 'GET /close HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', /$^/);
    assert.match(out, /connection: close/i);
    assert.match(out, /\/close:/);
  });

  test('upstream connections are reused across sequential requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const c = proxy.cluster('u')!;
    const before = c.counters.upstream_cx_total;
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => http.get({ port, path: `/seq${i}`, agent }, (res) => (res.resume(), res.on('end', resolve))).on('error', reject));
    }
    agent.destroy();
    assert.ok(c.counters.upstream_cx_total - before <= 1);
  });
});
