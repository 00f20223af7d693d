// The TCP echo stand-in answers each line with its prefix, on every port it is given, as Istio's tcp-echo-server does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTcpEcho } from './tcp-echo.js';

function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(text));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      if (out.split('\n').length > text.split('\n').length - 1) s.end();
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

test('each line comes back after the prefix, on every port', async () => {
  const app = await startTcpEcho({ ports: [0, 0], prefix: 'one', host: '127.0.0.1', env: {} });
  try {
    assert.equal(app.ports.length, 2);
    assert.equal(await exchange(app.ports[0]!, 'world\nagain\n'), 'one world\none again\n');
    assert.equal(await exchange(app.ports[1]!, 'x\n'), 'one x\n');
  } finally {
    await app.close();
  }
});
