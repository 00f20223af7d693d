// The operator loop against a genuine kube-apiserver: a ServiceMeshControlPlane applied with kubectl becomes istiod's
// Deployment (on infrastructure nodes: its runtime nodeSelector, tolerations, replicas and resources), Service,
// ServiceAccount and per-member RBAC; its status, its member roll's and its members' appear in `kubectl get smcp,smmr,smm -o yaml`;
// member namespaces get maistra.io/member-of; deleting the SMCP removes what the operator made.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { KubeClient } from '../client/kube-client.js';
import { installCrds } from '../install-crds.js';
import { KubernetesStore } from '../kubernetes-store.js';
import { TestCluster, testClusterUnavailable } from '../testing/test-cluster.js';
import { ControlPlaneOperator } from './control-plane-operator.js';
import { until } from '../testing/until.js';

const skip = await testClusterUnavailable();

const SMCP = `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: mesh-system}
spec:
  version: v2.4
  runtime:
    defaults:
      container:
        resources: {requests: {cpu: 20m, memory: 64Mi}}
    components:
      pilot:
        deployment: {replicas: 2}
        pod:
          nodeSelector: {node-role.kubernetes.io/infra: ""}
          tolerations:
          - {key: node-role.kubernetes.io/infra, operator: Exists, effect: NoSchedule}
        container:
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 1Gi}}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: mesh-system}
spec:
  members: [frontend, missing]
`;

interface Status {
  conditions?: Array<{ type: string; status: string; reason: string }>;
  configuredMembers?: string[];
  pendingMembers?: string[];
  annotations?: Record<string, string>;
}

describe('control plane operator', { skip }, () => {
  let cluster: TestCluster;
  let client: KubeClient;
  let store: KubernetesStore;
  let operator: ControlPlaneOperator;
  const log: string[] = [];

  before(async () => {
    cluster = await TestCluster.start();
    client = await KubeClient.fromKubeconfig(cluster.kubeconfig);
    await installCrds(client);
    store = await KubernetesStore.open({ client, controlPlaneNamespace: 'mesh-system', log: () => {} });
    operator = new ControlPlaneOperator({ store, client, image: 'trellis:test', log: (l) => log.push(l) });
    await operator.start();
  });

  after(async () => {
    await operator?.stop();
    await store?.close();
    client?.close();
    await cluster?.stop();
  });

  test('an SMCP applied with kubectl produces istiod on infra nodes, RBAC per member, and status in kubectl get smcp,smmr', async () => {
    cluster.kubectl(['create', 'namespace', 'mesh-system']);
    cluster.kubectl(['create', 'namespace', 'frontend']);
    cluster.kubectl(['apply', '-f', '-'], SMCP);
    const get = (args: string[]) => {
      try {
        return cluster.kubectl(args);
      } catch {
        return '';
      }
    };
    await until('the istiod Service', () => get(['get', 'service', 'istiod-basic', '-n', 'mesh-system', '-o', 'name']) !== '' || log.length > 0);
    assert.deepEqual(log.filter((l) => l.startsWith('operator:')), []);
    const deployment = JSON.parse(cluster.kubectl(['get', 'deployment', 'istiod-basic', '-n', 'mesh-system', '-o', 'json'])) as {
      metadata: { ownerReferences?: Array<{ kind: string; name: string }> };
      spec: { replicas: number; template: { spec: { nodeSelector?: Record<string, string>; tolerations?: unknown[]; serviceAccountName: string; containers: Array<{ image: string; args: string[]; resources: unknown }> } } };
    };
    const pod = deployment.spec.template.spec;
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(pod.nodeSelector, { 'node-role.kubernetes.io/infra': '' });
    assert.deepEqual(pod.tolerations, [{ key: 'node-role.kubernetes.io/infra', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(pod.containers[0]!.resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } }, 'the component overrides the defaults');
    assert.equal(pod.containers[0]!.image, 'trellis:test');
    assert.deepEqual(pod.containers[0]!.args.slice(0, 4), ['controlplane', '--in-cluster', '--namespace', 'mesh-system']);
    assert.equal(pod.serviceAccountName, 'istiod-basic');
    assert.deepEqual(deployment.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ['ServiceMeshControlPlane/basic']);
    assert.match(cluster.kubectl(['get', 'service', 'istiod-basic', '-n', 'mesh-system', '-o', 'jsonpath={.spec.ports[*].name}']), /grpc-xds https-dns https-webhook http-monitoring/);
    cluster.kubectl(['get', 'serviceaccount', 'istiod-basic', '-n', 'mesh-system']);
    // MultiTenant: a Role where it serves (its namespace and its configured member), none elsewhere.
    cluster.kubectl(['get', 'role,rolebinding', 'istiod-basic', '-n', 'frontend']);
    cluster.kubectl(['get', 'role,rolebinding', 'istiod-basic', '-n', 'mesh-system']);
    assert.match(cluster.kubectl(['get', 'clusterrole', 'istiod-basic-mesh-system', '-o', 'jsonpath={.rules[*].resources}']), /tokenreviews/);

    const statuses = async () => {
      const list = YAML.parse(cluster.kubectl(['get', 'smcp,smmr', '-n', 'mesh-system', '-o', 'yaml'])) as { items: Array<{ kind: string; status?: Status }> };
      return { smcp: list.items.find((i) => i.kind === 'ServiceMeshControlPlane')?.status, smmr: list.items.find((i) => i.kind === 'ServiceMeshMemberRoll')?.status };
    };
    await until('SMCP and SMMR status', async () => {
      const s = await statuses();
      return !!s.smcp?.conditions && !!s.smmr?.conditions;
    });
    const { smcp, smmr } = await statuses();
    assert.deepEqual(smcp!.conditions!.map((c) => `${c.type}=${c.status}`), ['Installed=True', 'Reconciled=True', 'Ready=False']);
    assert.equal(smcp!.annotations?.readyComponentCount, '0/1');
    assert.deepEqual(smmr!.configuredMembers, ['frontend']);
    assert.deepEqual(smmr!.pendingMembers, ['missing']);
    await until('the member is labelled member-of', () => get(['get', 'namespace', 'frontend', '-o', 'jsonpath={.metadata.labels.maistra\\.io/member-of}']) === 'mesh-system');

    // What a Deployment controller would write once istiod's pods are available: the SMCP becomes Ready.
    cluster.kubectl(['patch', 'deployment', 'istiod-basic', '-n', 'mesh-system', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":2,"readyReplicas":2,"availableReplicas":2}}']);
    await until('the SMCP is Ready', async () => (await statuses()).smcp?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');

    // The missing member appears: it is configured, gets its Role and its label.
    cluster.kubectl(['create', 'namespace', 'missing']);
    await until('the new member is configured', async () => (await statuses()).smmr?.configuredMembers?.includes('missing') === true);
    await until('its Role', () => get(['get', 'role', 'istiod-basic', '-n', 'missing', '-o', 'name']) !== '');

    // ServiceMeshMembers: one naming this SMCP joins; one naming an SMCP that does not exist says so in its status.
    cluster.kubectl(['create', 'namespace', 'backend']);
    cluster.kubectl(['create', 'namespace', 'orphan']);
    const member = (ns: string, plane: string) => `apiVersion: maistra.io/v1\nkind: ServiceMeshMember\nmetadata: {name: default, namespace: ${ns}}\nspec:\n  controlPlaneRef: {name: ${plane}, namespace: mesh-system}\n`;
    cluster.kubectl(['apply', '-f', '-'], `${member('backend', 'basic')}---\n${member('orphan', 'nope')}`);
    const ready = (ns: string) => (YAML.parse(get(['get', 'smm', 'default', '-n', ns, '-o', 'yaml']) || '{}') as { status?: Status }).status?.conditions?.find((c) => c.type === 'Ready');
    // (The first status may come before the namespace is seen: the member is configured once it is.)
    await until('the joined member Ready', () => ready('backend')?.status === 'True' && ready('backend')?.reason === 'Configured');
    await until('the orphan member not Ready', () => ready('orphan')?.status === 'False' && ready('orphan')?.reason === 'SMCPMissing');

    cluster.kubectl(['delete', 'smcp', 'basic', '-n', 'mesh-system']);
    await until('what the operator made is gone', () => get(['get', 'deployment,service,serviceaccount', '-n', 'mesh-system', '-l', 'maistra.io/owner=mesh-system', '-o', 'name']) === '' && get(['get', 'clusterrole', 'istiod-basic-mesh-system', '-o', 'name']) === '' && get(['get', 'role', '-n', 'frontend', '-o', 'name']) === '');
  });

  test('the CRDs carry OpenAPI schemas from Trellis\'s validation: the API server refuses a wrongly typed field', () => {
    const bad = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: typo, namespace: default}\nspec: {hosts: reviews}\n';
    assert.throws(() => cluster.kubectl(['apply', '-f', '-'], bad), /spec\.hosts.*must be of type array/);
  });
});
