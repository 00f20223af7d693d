// The registry's workload lookups (indexed by label, name and address): the same answers, in the same order, as
// scanning every workload.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../../config/loader.js';
import { ServiceRegistry } from './service-registry.js';

const pod = (name: string, labels: string, ip: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {${labels}}}
spec: {containers: [{name: app, image: app}]}
status: {podIP: ${ip}}`;

const yaml = [
  `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews, tier: back}, ports: [{name: http, port: 9080}]}`,
  pod('reviews-v2', 'app: reviews, tier: back, version: v2', '10.0.0.2'),
  pod('reviews-front', 'app: reviews, tier: front', '10.0.0.3'),
  pod('reviews-v1', 'app: reviews, tier: back, version: v1', '10.0.0.1'),
].join('\n---\n');

test('endpoints match every selector label and keep registry order; local workloads join and leave', () => {
  const registry = new ServiceRegistry();
  registry.setResources(loadText(yaml, 'r.yaml').resources);
  const before = registry.snapshot();
  const svc = before.service('reviews.default.svc.cluster.local')!;
  const port = svc.ports[0]!;
  assert.deepEqual(before.endpoints(svc, port).map((e) => e.address), ['10.0.0.2', '10.0.0.1']);
  assert.deepEqual(before.endpoints(svc, port, { version: 'v1' }).map((e) => e.address), ['10.0.0.1']);
  registry.upsertWorkload({ name: 'reviews-local', namespace: 'default', labels: { app: 'reviews', tier: 'back' }, serviceAccount: 'default', address: '127.0.0.9', ports: {}, healthy: true, meshed: true });
  assert.deepEqual(registry.snapshot().endpoints(svc, port).map((e) => e.address), ['10.0.0.2', '10.0.0.1', '127.0.0.9']);
  // A snapshot taken before the change still answers as it did: a push built from it sees one consistent registry.
  assert.deepEqual(before.endpoints(svc, port).map((e) => e.address), ['10.0.0.2', '10.0.0.1']);
  assert.equal(before.workloadOf('default', 'reviews-local'), undefined);
  registry.removeWorkload('default', 'reviews-local');
  assert.deepEqual(registry.snapshot().endpoints(svc, port).map((e) => e.address), ['10.0.0.2', '10.0.0.1']);
});

test('workloadOf: by namespace and name, else by address, the first in registry order', () => {
  const registry = new ServiceRegistry();
  registry.setResources(loadText(yaml, 'r.yaml').resources);
  assert.equal(registry.snapshot().workloadOf('default', 'reviews-v1')?.address, '10.0.0.1');
  assert.equal(registry.snapshot().workloadOf('default', 'unknown', '10.0.0.3')?.name, 'reviews-front');
  // Both match: the one earlier in the registry wins (reviews-v2 by address comes before reviews-v1 by name).
  assert.equal(registry.snapshot().workloadOf('default', 'reviews-v1', '10.0.0.2')?.name, 'reviews-v2');
  assert.equal(registry.snapshot().workloadOf('other', 'reviews-v1'), undefined);
});
