// ZDS between the runtime's CNI agent and the node proxy over a real Unix socket: pods enrolled before the proxy
// connects arrive in its snapshot, later ones one by one, each enrolment resolving on the proxy's Ack (an Ack with an
// error rejects it); removals reach the proxy; a reconnecting proxy gets a new snapshot and lets go of pods not in it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ZdsClient } from '../../proxy/ztunnel/zds-client.js';
import type { EnrolledPod } from '../../proxy/ztunnel/ztunnel.js';
import { ZdsServer } from './zds-server.js';

const pod = (name: string) => ({ uid: `Kubernetes//Pod/default/${name}`, info: { name, namespace: 'default', serviceAccount: `sa-${name}` }, netnsPath: `/run/netns/${name}` });

/** A node proxy that records what it is told; `fail` names pods it cannot serve. */
function fakeProxy(fail = new Set<string>()) {
  const served = new Map<string, EnrolledPod>();
  const events: string[] = [];
  return {
    served,
    events,
    handler: {
      add: async (p: EnrolledPod) => {
        events.push(`add ${p.name}`);
        if (fail.has(p.name)) throw new Error(`no namespace at ${p.netns}`);
        served.set(p.uid, p);
      },
      remove: (uid: string) => {
        events.push(`del ${uid.split('/').pop()}`);
        served.delete(uid);
      },
      uids: () => [...served.keys()],
    },
  };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('snapshot on connect, then enrolments and removals one by one, each acknowledged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-zds-'));
  const server = await ZdsServer.listen(join(dir, 'ztunnel.sock'));
  const proxy = fakeProxy(new Set(['broken']));
  const client = new ZdsClient(server.path, proxy.handler, () => undefined);
  t.after(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Enrolled before any node proxy is there: served by the snapshot once it connects.
  const early = server.enroll(pod('early'));
  client.start();
  await early;
  assert.equal(proxy.served.get(pod('early').uid)?.netns, '/run/netns/early');
  assert.equal(proxy.served.get(pod('early').uid)?.serviceAccount, 'sa-early');
  await until(() => client.synced);
  await server.enroll(pod('late'));
  assert.ok(proxy.served.has(pod('late').uid));
  await assert.rejects(server.enroll(pod('broken')), /could not serve broken.default: no namespace at \/run\/netns\/broken/);
  await server.unenroll(pod('early').uid);
  assert.ok(!proxy.served.has(pod('early').uid));
  assert.deepEqual(proxy.events, ['add early', 'add late', 'add broken', 'del early']);
});

test('a reconnecting node proxy gets the whole set again and drops what is no longer enrolled', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-zds-'));
  const server = await ZdsServer.listen(join(dir, 'ztunnel.sock'));
  const proxy = fakeProxy();
  let client = new ZdsClient(server.path, proxy.handler, () => undefined);
  t.after(async () => {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  client.start();
  await server.enroll(pod('a'));
  await server.enroll(pod('b'));
  client.close();
  await until(() => !server.connected);
  // While it is away, b leaves; a stays; c arrives (its enrolment waits for the proxy).
  await server.unenroll(pod('b').uid);
  const c = server.enroll(pod('c'));
  client = new ZdsClient(server.path, proxy.handler, () => undefined);
  client.start();
  await c;
  await until(() => client.synced);
  assert.deepEqual([...proxy.served.keys()].sort(), [pod('a').uid, pod('c').uid]);
});
