// `trellis up --network netns` leaves nothing behind: a stop removes every namespace, link, rule and file of the run;
// a run killed with SIGKILL leaves its namespaces (its pods die with it), and the next start removes them.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { istioSamplesDir } from '../../samples.js';
import { netnsAvailability } from '../network-mode.js';
import { findObjects } from './cleanup.js';
import { pidsIn } from './pod-network.js';

const BIN = fileURLToPath(new URL('../../../bin/trellis.js', import.meta.url));
const netns = netnsAvailability();

interface Up {
  child: ChildProcess;
  prefix: string;
  output: () => string;
}

/** `trellis up DIR --network netns` until its ready line; the run prefix is the bridge's name without `br`. */
function up(dir: string): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up', dir, '--network', 'netns', '--ingress-port', '0', '--xds-port', '0', '--ca-port', '0', '--debug-port', '0', '--prometheus-port', 'none', '--console-port', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trellis up not ready in 60 s:\n${out.slice(-3000)}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const prefix = /bridge (trl[0-9a-f]{5})br/.exec(out)?.[1];
      if (prefix && /^ready: /m.test(out)) {
        clearTimeout(timer);
        resolve({ child, prefix, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`trellis up exited (${code}) before ready:\n${out.slice(-3000)}`)));
  });
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = (prefix: string) => {
  const o = findObjects((p) => p === prefix);
  return { netns: o.netns.length, links: o.links.length, etc: o.etc.length, rules: o.rules.length, records: o.records.length };
};
const NOTHING = { netns: 0, links: 0, etc: 0, rules: 0, records: 0 };

describe('trellis up --network netns cleans up after itself', { skip: netns.ok ? false : netns.reason }, () => {
  let dir: string;
  const running: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-netns-'));
    copyFileSync(join(istioSamplesDir(), 'httpbin', 'httpbin.yaml'), join(dir, 'httpbin.yaml'));
    copyFileSync(join(istioSamplesDir(), 'sleep', 'sleep.yaml'), join(dir, 'sleep.yaml'));
  });

  after(async () => {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(running.map(exited));
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGKILL leaves the namespaces but no process; the next start removes them; a stop removes its own', async () => {
    const first = await up(dir);
    running.push(first.child);
    const made = count(first.prefix);
    assert.deepEqual({ netns: made.netns, links: made.links, etc: made.etc, records: made.records }, { netns: 2, links: 3, etc: 2, records: 1 }, 'two pods: two namespaces, the bridge and two veths, their /etc files, the run record');
    const namespaces = findObjects((p) => p === first.prefix).netns;
    assert.ok(namespaces.every((n) => pidsIn(n).length > 0), 'the pods run inside their namespaces');

    first.child.kill('SIGKILL');
    await exited(first.child);
    // Every pod process had the runtime as its parent with a death signal: none outlives it.
    await until('the pods to die with the runtime', () => namespaces.every((n) => pidsIn(n).length === 0));
    assert.equal(count(first.prefix).netns, 2, 'a killed run cannot clean up: its namespaces are still there');

    const second = await up(dir);
    running.push(second.child);
    assert.deepEqual(count(first.prefix), NOTHING, 'the next start removed every object of the killed run');
    assert.match(second.output(), new RegExp(`removed what an earlier run left: .*${first.prefix}`));
    assert.notEqual(second.prefix, first.prefix);

    second.child.kill('SIGTERM');
    await exited(second.child);
    assert.match(second.output(), /stopped/);
    assert.deepEqual(count(second.prefix), NOTHING, 'a stop removes its namespaces, links, files, rules and record');
  });
});
