// metadata.generation as the API server keeps it, in both stores: 1 when created, one more per spec change, unchanged
// when only metadata changes, and as written when the YAML says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore } from './directory-store.js';
import { MemoryStore } from './memory-store.js';

const route = (path: string, labels = '{}') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, labels: ${labels}}
spec:
  rules: [{matches: [{path: {value: ${path}}}]}]
`;
const generation = (list: readonly { kind: string; metadata: { generation?: number } }[]) => list.find((r) => r.kind === 'HTTPRoute')?.metadata.generation;

test('memory store: generation 1, bumped by a spec change, kept by a label change, as written when given', () => {
  const store = new MemoryStore();
  assert.deepEqual(store.applyYaml(route('/a'), 'r.yaml'), []);
  assert.equal(generation(store.list()), 1);
  store.applyYaml(route('/b'), 'r.yaml');
  assert.equal(generation(store.list()), 2);
  store.applyYaml(route('/b', '{team: x}'), 'r.yaml');
  assert.equal(generation(store.list()), 2);
  store.applyYaml(route('/c').replace('metadata: {name: r,', 'metadata: {name: r, generation: 7,'), 'r.yaml');
  assert.equal(generation(store.list()), 7);
});

test('directory store: editing a file bumps the generation of the object whose spec changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-gen-'));
  try {
    writeFileSync(join(dir, 'r.yaml'), route('/a'));
    const store = await DirectoryStore.open(dir, { pollMs: 0, watch: false, log: () => {} });
    assert.equal(generation(store.list()), 1);
    writeFileSync(join(dir, 'r.yaml'), route('/b'));
    await store.sync();
    assert.equal(generation(store.list()), 2);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
