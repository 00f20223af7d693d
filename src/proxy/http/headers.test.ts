import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanResponseHeaders, upstreamRequestHeaders } from './headers.js';

test('response headers lose hop-by-hop fields and those the Connection header names, without touching the parsed object', () => {
  const parsed = { 'content-type': 'text/plain', connection: 'keep-alive, X-Private', 'keep-alive': 'timeout=5', 'x-private': '1', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'proxy-connection': 'x', 'set-cookie': ['a=1', 'b=2'] };
  const out = cleanResponseHeaders({ ...parsed });
  assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  const plain = { 'content-type': 'text/plain', 'content-length': '2' };
  assert.equal(cleanResponseHeaders(plain), plain, 'nothing to drop: the same object');
});

test('request headers keep te: trailers and drop the rest of the hop-by-hop set', () => {
  assert.deepEqual(upstreamRequestHeaders({ host: 'a', te: 'trailers, deflate', connection: 'x-hop', 'x-hop': '1', accept: '*/*' }), { te: 'trailers', accept: '*/*' });
});
