// The test cluster itself: a real kube-apiserver over etcd that kubectl talks to, and that keeps its data across an API
// server restart.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, testClusterUnavailable } from './test-cluster.js';

const skip = await testClusterUnavailable();

describe('test cluster', { skip }, () => {
  let cluster: TestCluster;
  before(async () => (cluster = await TestCluster.start()));
  after(async () => cluster?.stop());

  test('kubectl reaches a v1.20 API server that serves EndpointSlice as v1beta1 and TokenReview', () => {
    assert.match(cluster.kubectl(['get', 'namespaces', '-o', 'name']), /namespace\/default/);
    const resources = cluster.kubectl(['api-resources', '-o', 'wide']);
    assert.match(resources, /endpointslices\s+discovery\.k8s\.io\/v1beta1/);
    assert.match(resources, /tokenreviews\s+authentication\.k8s\.io\/v1/);
  });

  test('objects survive an API server restart (etcd keeps them)', async () => {
    cluster.kubectl(['create', 'namespace', 'kept']);
    await cluster.stopApiServer();
    await cluster.startApiServer();
    assert.match(cluster.kubectl(['get', 'namespace', 'kept', '-o', 'name']), /namespace\/kept/);
  });

});
