// The README's main command, as a user runs it: `trellis demo` prints a ready line, serves Bookinfo, stops on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('trellis demo serves /productpage with ratings and stops cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, [`${root}bin/trellis.js`, 'demo', '--port', '0', '--reviews', 'v3'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in time:\n${out}`)), 20_000);
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const m = /^ready: Bookinfo at (\S+)/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`demo exited early (${code}):\n${out}`)));
    });
    assert.match(out, /analyzed \d+ Bookinfo resources: no issues/);
    const page = await (await fetch(url)).text();
    assert.match(page, /The Comedy of Errors/);
    assert.match(page, /Reviewer1/);
    assert.match(page, /color:\s*red/, 'reviews v3 shows red stars');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
