// discoverySelectors against a genuine kube-apiserver: a cluster-wide control plane whose mesh config selects
// namespaces watches only those (and its own), one informer per kind and namespace instead of one across the cluster;
// labelling a namespace adds it live and unlabelling removes it with its objects.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from './client/kube-client.js';
import { installCrds } from './install-crds.js';
import { KubernetesStore } from './kubernetes-store.js';
import { TestCluster, testClusterUnavailable } from './testing/test-cluster.js';
import { until } from './testing/until.js';

const skip = await testClusterUnavailable();

const MESH = `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    discoverySelectors:
    - matchLabels: {team: x}
`;

const service = (ns: string) => `apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ${ns}}
spec:
  clusterIP: None
  ports: [{name: http, port: 80}]
---
`;

describe('discoverySelectors', { skip }, () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let store: KubernetesStore;

  before(async () => {
    cluster = await TestCluster.start();
    client = await KubeClient.fromKubeconfig(cluster.kubeconfig);
    await installCrds(client);
    for (const ns of ['istio-system', 'a', 'b']) cluster.kubectl(['create', 'namespace', ns]);
    cluster.kubectl(['label', 'namespace', 'a', 'team=x']);
    cluster.kubectl(['apply', '-f', '-'], `${MESH}---\n${service('a')}${service('b')}`);
    store = await KubernetesStore.open({ client, controlPlaneNamespace: 'istio-system', log: () => {} });
  });

  after(async () => {
    await store?.close();
    client?.close();
    await cluster?.stop();
  });

  const scope = () => {
    const s = store.watchScope();
    return s.cluster ? 'cluster' : [...s.namespaces].sort().join(',');
  };
  const services = () => store.list().filter((r) => r.kind === 'Service' && r.metadata.name === 'svc').map((r) => r.metadata.namespace).sort().join(',');

  test('only selected namespaces are watched; namespace labels add and remove them live', { timeout: 60_000 }, async () => {
    await until('the scope of the selectors, with only a\'s objects', () => scope() === 'a,istio-system' && services() === 'a');
    const paths = [...store.informerStats().keys()];
    assert.ok(paths.includes('/api/v1/namespaces/a/services') && !paths.includes('/api/v1/services') && !paths.some((p) => p.includes('/namespaces/b/')), paths.join(' '));

    // The API calls show it: nothing is listed or watched in b.
    const callsBefore = client.totalCalls();
    cluster.kubectl(['label', 'namespace', 'b', 'team=x']);
    await until('b watched', () => scope() === 'a,b,istio-system' && services() === 'a,b');
    assert.ok(client.totalCalls() > callsBefore, 'b is listed once it is selected');

    cluster.kubectl(['label', 'namespace', 'a', 'team-']);
    await until('a no longer watched, its objects gone', () => scope() === 'b,istio-system' && services() === 'b');
    assert.ok(![...store.informerStats().keys()].some((p) => p.includes('/namespaces/a/')));

    // Without selectors the whole cluster is watched again.
    cluster.kubectl(['delete', 'configmap', 'istio', '-n', 'istio-system']);
    await until('the whole cluster watched', () => scope() === 'cluster' && services() === 'a,b');
  });
});
