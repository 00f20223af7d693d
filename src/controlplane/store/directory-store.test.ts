// Tests of the watched-directory store: live edits, rejected changes keeping the last good config, removals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, unlink, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore } from './directory-store.js';
import type { ConfigChange } from './config-store.js';

const vs = (host: string, timeout = '5s') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - timeout: ${timeout}
    route:
    - destination: {host: ${host}}
`;

const sa = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: bookinfo-reviews}\n';

/** Wait for `predicate` to hold, checking after every change event, with a deadline. */
function until(store: DirectoryStore, predicate: () => boolean, ms = 5000): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      store.off('change', check);
      store.off('rejected', check);
      reject(new Error('condition not reached before the deadline'));
    }, ms);
    function check() {
      if (!predicate()) return;
      clearTimeout(timer);
      store.off('change', check);
      store.off('rejected', check);
      resolve();
    }
    store.on('change', check);
    store.on('rejected', check);
  });
}

const host = (s: DirectoryStore) =>
  ((s.list().find((r) => r.kind === 'VirtualService')?.spec as { http?: Array<{ route?: Array<{ destination?: { host?: string } }> }> })?.http?.[0]?.route?.[0]?.destination?.host);

test('a watched directory follows edits, and a bad edit keeps the last good version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-store-'));
  const logs: string[] = [];
  const store = await DirectoryStore.open(dir, { debounceMs: 20, log: (l) => logs.push(l) });
  try {
    assert.equal(store.list().length, 0);
    const changes: ConfigChange[] = [];
    store.on('change', (c) => changes.push(c));

    await writeFile(join(dir, 'vs.yaml'), vs('reviews') + '---\n' + sa);
    await until(store, () => host(store) === 'reviews');
    assert.equal(store.list().length, 2);

    // A schema error in one object: that object keeps its last good version, the rest applies.
    await writeFile(join(dir, 'vs.yaml'), vs('reviews-v2', 'five seconds') + '---\n' + sa.replace('bookinfo-reviews', 'bookinfo-ratings'));
    await until(store, () => store.rejections().length === 1);
    assert.equal(host(store), 'reviews', 'the rejected VirtualService keeps its previous version');
    assert.deepEqual(store.list().filter((r) => r.kind === 'ServiceAccount').map((r) => r.metadata.name), ['bookinfo-ratings']);
    const rejection = store.rejections()[0]!;
    assert.equal(rejection.source, join(dir, 'vs.yaml'));
    assert.ok(rejection.diagnostics.some((d) => d.code === 'IST0106'), JSON.stringify(rejection.diagnostics));
    assert.ok(logs.some((l) => l.startsWith('config: rejected Error [IST0106] (VirtualService default/reviews vs.yaml:')), logs.join('\n'));

    // Unparseable YAML: the whole previous version of the file stays.
    await writeFile(join(dir, 'vs.yaml'), 'apiVersion: [\n');
    await until(store, () => store.rejections()[0]?.diagnostics[0]?.code === 'TRL0002');
    assert.equal(host(store), 'reviews');
    assert.equal(store.list().length, 2);

    // Fixing the file clears the rejection; an editor-style atomic rename is seen too.
    await writeFile(join(dir, '.vs.yaml.tmp'), vs('ratings'));
    await rename(join(dir, '.vs.yaml.tmp'), join(dir, 'vs.yaml'));
    await until(store, () => host(store) === 'ratings');
    assert.equal(store.rejections().length, 0);
    assert.equal(store.list().length, 1);

    await unlink(join(dir, 'vs.yaml'));
    await until(store, () => store.list().length === 0);
    assert.ok(changes.length >= 4);
    assert.ok(changes.at(-1)!.removed.length === 1);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('without file events the poll still follows edits and removals', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-store-poll-'));
  const store = await DirectoryStore.open(dir, { watch: false, pollMs: 30, log: () => {} });
  try {
    await writeFile(join(dir, 'vs.yaml'), vs('reviews'));
    await until(store, () => host(store) === 'reviews');
    await writeFile(join(dir, 'vs.yaml'), vs('ratings-with-a-longer-name'));
    await until(store, () => host(store) === 'ratings-with-a-longer-name');
    await unlink(join(dir, 'vs.yaml'));
    await until(store, () => store.list().length === 0);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a burst of writes is one rescan; sync() applies immediately', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-store-'));
  const store = await DirectoryStore.open(dir, { debounceMs: 10_000, pollMs: 0, log: () => {} });
  try {
    let changes = 0;
    store.on('change', () => changes++);
    for (let i = 0; i < 5; i++) await writeFile(join(dir, `sa-${i}.yaml`), sa.replace('bookinfo-reviews', `sa-${i}`));
    await store.sync('test');
    assert.equal(store.list().length, 5);
    assert.equal(changes, 1);
    assert.equal(store.revision(), 1);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
