// The control-plane analyzer through `analyzeResources`: ServiceMeshControlPlane fields Trellis does not apply are
// reported where they are written; a namespace two member rolls claim is reported on the second.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from '../loader.js';
import { analyzeResources } from './run.js';

const YAML_TEXT = `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  version: v2.4
  runtime:
    components:
      pilot: {deployment: {replicas: 2}}
  security:
    identity: {type: ThirdParty}
    dataPlane: {mtls: true}
  gateways:
    ingress: {enabled: true, runtime: {deployment: {replicas: 2}}}
    additionalEgress:
      extra-egress: {enabled: true, service: {ports: [{name: http, port: 80}]}}
  addons:
    grafana: {enabled: true}
    prometheus: {enabled: true}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: istio-system}
spec: {members: [shared]}
---
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: other, namespace: other-cp}
spec: {version: v2.4}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: other-cp}
spec: {members: [shared]}
---
apiVersion: v1
kind: Namespace
metadata: {name: shared}
`;

test('ServiceMeshControlPlane fields Trellis does not apply are reported at their lines; the doubly claimed namespace on the second roll', () => {
  const { resources, errors } = loadText(YAML_TEXT, 'smcp.yaml');
  assert.deepEqual(errors, []);
  const { diagnostics } = analyzeResources(resources, {});
  const ignored = diagnostics.filter((d) => d.code === 'TRL0120').map((d) => `${d.field} smcp.yaml:${d.line}`);
  assert.deepEqual(ignored, ['/spec/runtime smcp.yaml:6', '/spec/security/identity smcp.yaml:10', '/spec/gateways/ingress/runtime smcp.yaml:13', '/spec/addons/grafana smcp.yaml:17']);
  const claimed = diagnostics.filter((d) => d.code === 'TRL0121');
  assert.deepEqual(claimed.map((d) => `${d.resource?.namespace}/${d.resource?.name} ${d.line}`), ['other-cp/default 33']);
  assert.match(claimed[0]!.message, /"shared" is already a member of control plane istio-system\/basic/);
});

test('Gateway API objects in a member of a control plane without techPreview.gatewayAPI are reported as ignored', () => {
  const text = (enabled: boolean) => `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec: {version: v2.4${enabled ? ', techPreview: {gatewayAPI: {enabled: true}}' : ''}}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: istio-system}
spec: {members: [shop]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
`;
  const codes = (enabled: boolean) => {
    const { resources } = loadText(text(enabled), 'gw.yaml');
    return analyzeResources(resources, {}).diagnostics.filter((d) => d.code === 'TRL0122').map((d) => `${d.resource?.kind} ${d.resource?.namespace}/${d.resource?.name} gw.yaml:${d.line}`);
  };
  assert.deepEqual(codes(false), ['Gateway shop/web gw.yaml:11']);
  assert.deepEqual(codes(true), []);
});
