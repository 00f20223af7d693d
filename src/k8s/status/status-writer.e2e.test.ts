// Status written back by the Kubernetes-mode control plane, against a genuine kube-apiserver: an Istio object's
// analyzer findings appear as Istio's `status.validationMessages` (and go once it is fixed), Gateways and HTTPRoutes get
// their Gateway API conditions, and the status writes neither loop nor come back as a config change (no push).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { ControlPlane } from '../../controlplane/control-plane.js';
import type { ConfigChange } from '../../controlplane/store/config-store.js';
import { KubeClient } from '../client/kube-client.js';
import { installCrds } from '../install-crds.js';
import { openKubernetesSource, type KubernetesSource } from '../kubernetes-source.js';
import { TestCluster, testClusterUnavailable } from '../testing/test-cluster.js';
import { until } from '../testing/until.js';
import { StatusWriter, type ValidationMessage } from './status-writer.js';

const skip = await testClusterUnavailable();

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  clusterIP: 10.96.0.60
  selector: {app: echo}
  ports: [{name: http, port: 8080}]
`;

const virtualService = (gateways: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo]
  gateways: ${gateways}
  http:
  - route: [{destination: {host: echo}}]
`;

const GATEWAY_API = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: echo, port: 8080}]}]
`;

type Status = { validationMessages?: ValidationMessage[]; conditions?: Array<{ type: string; status: string }>; parents?: Array<{ conditions: Array<{ type: string; status: string }> }> };

describe('status written back in Kubernetes mode', { skip }, () => {
  let cluster: TestCluster;
  let source: KubernetesSource;
  let cp: ControlPlane;
  let writer: StatusWriter;
  const changes: ConfigChange[] = [];
  const statusOf = (what: string): Status => (parse(cluster.kubectl(['get', what, '-o', 'yaml'])) as { status?: Status }).status ?? {};

  before(async () => {
    cluster = await TestCluster.start();
    const client = await KubeClient.fromKubeconfig(cluster.kubeconfig);
    await installCrds(client);
    client.close();
    source = await openKubernetesSource({ kubeconfig: cluster.kubeconfig, namespace: 'istio-system', log: () => {} });
    cp = new ControlPlane({ store: source.store, log: () => {} });
    source.store.on('change', (c: ConfigChange) => changes.push(c));
    writer = new StatusWriter({ controlPlane: cp, store: source.kubernetes, debounceMs: 20, log: (l) => process.stderr.write(`${l}\n`) });
    await writer.start();
  });

  after(async () => {
    await writer?.stop();
    await cp?.close();
    await cluster?.stop();
  });

  test("an analyzer finding becomes Istio's validationMessages, removed once fixed; the write causes no push", { timeout: 60_000 }, async () => {
    cluster.kubectl(['apply', '-f', '-'], `${SERVICE}---\n${virtualService('[missing-gateway]')}`);
    await until('validationMessages on the VirtualService', () => (statusOf('virtualservice/echo').validationMessages ?? []).length > 0);
    const [message] = statusOf('virtualservice/echo').validationMessages!;
    assert.deepEqual(message!.type, { code: 'IST0101', name: 'ReferencedResourceNotFound' });
    assert.equal(message!.level, 'ERROR');
    assert.match(message!.description, /missing-gateway/);
    assert.equal(message!.documentationUrl, 'https://istio.io/latest/docs/reference/config/analysis/ist0101/');

    // The status write came back through the watch (the store saw it) without a config change: a later unrelated
    // change is the next one the control plane sees, and the VirtualService is not in it.
    await until('the store to see the written status', () => (source.kubernetes.statusOf(source.kubernetes.typeOf('networking.istio.io', 'VirtualService')!, 'default', 'echo') as Status | undefined)?.validationMessages !== undefined);
    await writer.idle();
    const writes = writer.patcher.writes;
    const before = changes.length;
    cluster.kubectl(['create', 'configmap', 'sentinel', '-n', 'default', '--from-literal=a=b']);
    await until('the sentinel change', () => changes.length > before);
    await writer.idle();
    assert.equal(changes.length, before + 1, 'only the sentinel changed config');
    assert.deepEqual([...changes.at(-1)!.added, ...changes.at(-1)!.updated].map((r) => r.kind), ['ConfigMap']);
    assert.equal(writer.patcher.writes, writes, 'an unrelated change rewrites no status');

    cluster.kubectl(['apply', '-f', '-'], virtualService('[mesh]'));
    await until('validationMessages removed', () => statusOf('virtualservice/echo').validationMessages === undefined);
  });

  test('Gateways and HTTPRoutes get their Gateway API conditions on the status subresource', { timeout: 60_000 }, async () => {
    cluster.kubectl(['apply', '-f', '-'], GATEWAY_API);
    await until('the Gateway Accepted', () => statusOf('gateway.gateway.networking.k8s.io/gw').conditions?.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false);
    await until('the HTTPRoute Accepted by its parent', () => statusOf('httproute/echo').parents?.[0]?.conditions.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false);
    const route = statusOf('httproute/echo');
    assert.ok(route.parents![0]!.conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'True'), JSON.stringify(route));

    // A backend that does not exist: ResolvedRefs turns False on the route.
    cluster.kubectl(['patch', 'httproute', 'echo', '--type=json', '-p', '[{"op":"replace","path":"/spec/rules/0/backendRefs/0/name","value":"nowhere"}]']);
    await until('ResolvedRefs False', () => statusOf('httproute/echo').parents?.[0]?.conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'False') ?? false);
  });
});
