// The README's main command, as a user runs it: `trellis demo` runs examples/bookinfo (nothing from outside the
// repository), prints a ready line, serves Bookinfo through the ingress gateway, and stops every process on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('trellis demo serves /productpage through the ingress gateway and stops every process on SIGTERM', { timeout: 90_000 }, async () => {
  const child = spawn(process.execPath, [`${root}bin/trellis.js`, 'demo', '--ingress-port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in time:\n${out}`)), 60_000);
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
    const [, suggested, dir] = /^try: cp (\S+) (\S+)\/$/m.exec(out)!;
    assert.equal(suggested, `${root}examples/bookinfo/routing/virtual-service-reviews-v3.yaml`);
    // It says which pod network it uses: network namespaces where it can make them, else loopback addresses.
    assert.match(out, /^network: (network namespaces, \w+|loopback addresses) \(/m);
    const netns = /^network: network namespaces/m.test(out);
    assert.match(out, netns ? /^  pod\s+reviews-v3-\S+\.default\s+10\.\d+\.\d+\.\d+\s+admin/m : /^  pod\s+reviews-v3-\S+\.default\s+127\.10\.\d+\.\d+\s+admin/m);
    // The gateway is a pod of its own: its admin port is Istio's, on its own address, and answers there.
    assert.match(out, /^  gateway\s+istio-ingressgateway-local\.istio-system\s+127\.10\.255\.1\s+admin http:\/\/127\.10\.255\.1:15000\s/m);
    assert.equal(await (await fetch('http://127.10.255.1:15000/ready')).text(), 'LIVE\n');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.equal(existsSync(dir), false, 'the config directory is removed');
    // No process of the demo is left: no sidecar, app or gateway.
    // Sidecars in namespaces dial the control plane at the bridge's address, the gateway at 127.0.0.1: same port.
    const xdsPort = /controlplane \S+ \([^)]*\)\s+xDS 127\.0\.0\.1:(\d+)/.exec(out)![1]!;
    const left = spawnSync('pgrep', ['-f', `--xds \\S+:${xdsPort} `], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '');
    const bridge = /bridge (trl[0-9a-f]{5}br)/.exec(out)?.[1];
    if (bridge) assert.equal(spawnSync('ip', ['link', 'show', bridge]).status !== 0, true, `the run's bridge ${bridge} is gone`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
