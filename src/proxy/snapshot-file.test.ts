// The static configuration file's three shapes read into the same snapshot.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeUrl } from '../xds/resource.js';
import { readSnapshot } from './snapshot-file.js';
import { edsCluster, httpListener } from './testing.js';

test('reads the snapshot object, an Envoy bootstrap with static resources, and a list of xDS resources', () => {
  const l = httpListener('l', 'r');
  const c = edsCluster('c');
  assert.deepEqual(readSnapshot(JSON.stringify({ listeners: [l], clusters: [c] })).clusters, [c]);
  const boot = readSnapshot(`staticResources:\n  clusters:\n    - name: c\n      type: STATIC\n`);
  assert.deepEqual(boot.clusters, [{ name: 'c', type: 'STATIC' }]);
  const list = readSnapshot(JSON.stringify([{ name: 'c', typeUrl: TypeUrl.Cluster, value: c }, { name: 'l', typeUrl: TypeUrl.Listener, value: l }]));
  assert.deepEqual(list.clusters, [c]);
  assert.deepEqual(list.listeners, [l]);
});
