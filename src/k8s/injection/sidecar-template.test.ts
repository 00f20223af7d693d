// The injection patch against a golden file: Istio's shape (istio-init with the pod's capture annotations, istio-proxy
// with Istio's environment, probe, ports and mounts, the eight volumes, the status and default-container annotations,
// the tlsMode and canonical-service labels). Regenerate with TRELLIS_UPDATE_GOLDEN=1 after a deliberate change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { injectionPatch, STATUS_ANNOTATION, type PodObject } from './sidecar-template.js';

const GOLDEN = fileURLToPath(new URL('../../../test/fixtures/injection/reviews-v1.patch.json', import.meta.url));

/** A pod as a ReplicaSet of Deployment reviews-v1 submits it: labels and annotations, no init containers or volumes. */
const pod: PodObject = {
  metadata: {
    generateName: 'reviews-v1-5d4b8c7f9-',
    namespace: 'bookinfo',
    labels: { app: 'reviews', version: 'v1', 'pod-template-hash': '5d4b8c7f9' },
    annotations: { 'traffic.sidecar.istio.io/excludeOutboundPorts': '3306', 'traffic.sidecar.istio.io/excludeInboundPorts': '9999' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'reviews-v1-5d4b8c7f9', controller: true }],
  },
  spec: { serviceAccountName: 'bookinfo-reviews', containers: [{ name: 'reviews', image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.17.0', ports: [{ containerPort: 9080, protocol: 'TCP' }] }] },
};

test('the injection patch of a Deployment pod matches Istio\'s shape (golden)', () => {
  const patch = injectionPatch(pod, { controlPlaneNamespace: 'istio-system', image: 'docker.io/istio/proxyv2:1.16.7' });
  if (process.env.TRELLIS_UPDATE_GOLDEN) writeFileSync(GOLDEN, `${JSON.stringify(patch, null, 2)}\n`);
  assert.deepEqual(patch, JSON.parse(readFileSync(GOLDEN, 'utf8')));
});

test('what the patch adds is consistent: every mount has its volume, the status annotation lists what was added', () => {
  const patch = injectionPatch(pod, { controlPlaneNamespace: 'istio-system', image: 'proxy' });
  const value = (path: string) => patch.find((op) => op.path === path)?.value as Array<Record<string, unknown>>;
  const proxy = patch.find((op) => op.path === '/spec/containers/-')?.value as { name: string; volumeMounts: Array<{ name: string }> } | undefined;
  assert.equal(proxy?.name, 'istio-proxy', 'istio-proxy is appended after the app container');
  const volumes = value('/spec/volumes').map((v) => v.name);
  const mounts = proxy!.volumeMounts.map((m) => m.name);
  assert.deepEqual(mounts.filter((m) => !volumes.includes(m)), []);
  const status = JSON.parse(String(patch.find((op) => op.path === `/metadata/annotations/${STATUS_ANNOTATION.replace('/', '~1')}`)?.value));
  assert.deepEqual(status, { initContainers: ['istio-init'], containers: ['istio-proxy'], volumes, imagePullSecrets: null, revision: 'default' });
  const init = value('/spec/initContainers')[0] as { args: string[] };
  assert.equal(init.args[init.args.indexOf('-o') + 1], '3306', 'excludeOutboundPorts reaches istio-iptables');
  assert.equal(init.args[init.args.indexOf('-d') + 1], '15090,15021,15020,9999', 'excludeInboundPorts joins the always-excluded ports');
});

test('a pod with init containers, volumes and no labels: items are appended, maps created', () => {
  const bare: PodObject = { metadata: { name: 'job', namespace: 'ns' }, spec: { containers: [{ name: 'main' }], initContainers: [{ name: 'setup' }], volumes: [{ name: 'data', emptyDir: {} }] } };
  const patch = injectionPatch(bare, { controlPlaneNamespace: 'istio-system', image: 'proxy' });
  assert.deepEqual(
    patch.map((op) => op.path),
    ['/spec/initContainers/-', '/spec/containers/-', ...Array(8).fill('/spec/volumes/-'), '/metadata/annotations', '/metadata/labels'],
  );
  assert.deepEqual(patch.at(-1)!.value, { 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': 'job', 'service.istio.io/canonical-revision': 'latest' });
  const env = (patch[1]!.value as { env: Array<{ name: string; value?: string }> }).env;
  assert.equal(env.find((e) => e.name === 'ISTIO_META_OWNER')?.value, 'kubernetes://apis/v1/namespaces/ns/pods/job', 'a bare pod owns itself');
});

test('a bad capture annotation is an error, not a patch', () => {
  assert.throws(() => injectionPatch({ ...pod, metadata: { ...pod.metadata, annotations: { 'traffic.sidecar.istio.io/excludeInboundPorts': 'http' } } }, { controlPlaneNamespace: 'istio-system', image: 'proxy' }), /excludeInboundPorts: "http" is not a port/);
});
