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

test('a Service without a selector takes its endpoints from its EndpointSlices, v1 and v1beta1 alike', () => {
  const slices = `apiVersion: v1
kind: Service
metadata: {name: legacy}
spec: {ports: [{name: http, port: 80, targetPort: 8080}, {name: grpc, port: 7070}]}
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: legacy-a, labels: {kubernetes.io/service-name: legacy}}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: grpc, port: 7071}]
endpoints:
- {addresses: [10.1.0.1], conditions: {ready: true}, topology: {topology.kubernetes.io/zone: a}}
- {addresses: [10.1.0.2], conditions: {ready: false}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: legacy-b, labels: {kubernetes.io/service-name: legacy}}
addressType: IPv4
ports: [{name: http, port: 8081}]
endpoints:
- {addresses: [10.1.0.3], zone: b}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: other, labels: {kubernetes.io/service-name: reviews}}
addressType: IPv4
ports: [{name: http, port: 1}]
endpoints: [{addresses: [10.9.9.9]}]`;
  const registry = new ServiceRegistry();
  const loaded = loadText(`${yaml}\n---\n${slices}`, 'r.yaml');
  assert.deepEqual(loaded.errors, []);
  registry.setResources(loaded.resources);
  const snapshot = registry.snapshot();
  const legacy = snapshot.service('legacy.default.svc.cluster.local')!;
  const [http, grpc] = legacy.ports;
  assert.deepEqual(snapshot.endpoints(legacy, http!).map((e) => `${e.address}:${e.port} ${e.healthy ? 'ready' : 'not ready'}`), ['10.1.0.1:8080 ready', '10.1.0.2:8080 not ready', '10.1.0.3:8081 ready']);
  // A slice without the port falls back to the Service's target port.
  assert.deepEqual(snapshot.endpoints(legacy, grpc!).map((e) => `${e.address}:${e.port}`), ['10.1.0.1:7071', '10.1.0.2:7071', '10.1.0.3:7070']);
  // A Service with a selector keeps its pods' endpoints: a stray slice does not add to them.
  const reviews = snapshot.service('reviews.default.svc.cluster.local')!;
  assert.deepEqual(snapshot.endpoints(reviews, reviews.ports[0]!).map((e) => e.address), ['10.0.0.2', '10.0.0.1']);
});
