// The TCP echo stand-in answers each line with its prefix, on every port it is given, as Istio's tcp-echo-server does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parseArgs, startTcpEcho } from './tcp-echo.js';

function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.end(text));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('each line comes back after the prefix, on every port; a last line without a newline too', async () => {
  const app = await startTcpEcho([0, 0], 'one', {}, '127.0.0.1');
  try {
    assert.equal(app.ports.length, 2);
    assert.equal(await exchange(app.ports[0]!, 'world\nagain\n'), 'one world\none again\n');
    assert.equal(await exchange(app.ports[1]!, 'tail'), 'one tail');
  } finally {
    await app.close();
  }
});

test('arguments as the image takes them: ports separated by commas, then the prefix', () => {
  assert.deepEqual(parseArgs(['9000,9001,9002', 'hello'], {}), { ports: [9000, 9001, 9002], prefix: 'hello' });
  assert.deepEqual(parseArgs([], { PORT: '9000' }), { ports: [9000], prefix: 'hello' });
  assert.throws(() => parseArgs(['nine'], {}), /usage/);
});
