import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigChange } from './config-store.js';
import { MemoryStore } from './memory-store.js';
import { ScopedStore } from './scoped-store.js';

const cp = (members: string) => `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: mesh}
spec: {version: v2.4}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: mesh}
spec: {members: ${members}}
`;
const objects = ['a', 'b'].map((ns) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: ${ns}}\nspec: {ports: [{port: 80}]}\n`).join('---\n');

test("a control plane's view holds its own and its members' namespaces, and follows the member roll", () => {
  const source = new MemoryStore();
  assert.deepEqual(source.applyYaml(cp('[a]') + '---\n' + objects, 'all.yaml'), []);
  const view = new ScopedStore(source, 'mesh');
  const services = () => view.list().filter((r) => r.kind === 'Service').map((r) => r.metadata.namespace);
  assert.deepEqual(services(), ['a']);
  assert.ok(view.list().some((r) => r.kind === 'Namespace' && r.metadata.name === 'b'), 'cluster-scoped objects are everyone\'s');
  const changes: string[] = [];
  view.on('change', (c: ConfigChange) => changes.push(c.added.map((r) => `${r.kind}/${r.metadata.namespace}`).join(',')));
  source.applyYaml(cp('[a, b]'), 'all.yaml');
  assert.deepEqual(services().sort(), ['a', 'b']);
  assert.ok(changes.some((c) => c.includes('Service/b')), 'the member added to the roll arrives as a change');
  view.setExtra([{ apiVersion: 'v1', group: '', version: 'v1', kind: 'Service', metadata: { name: 'istio-egressgateway', namespace: 'mesh', labels: {}, annotations: {} }, spec: {}, raw: {} }], 'gateways');
  assert.ok(view.list().some((r) => r.metadata.name === 'istio-egressgateway'), "objects the runtime adds for the control plane are in its view");
  assert.equal(view.watches('b'), true);
  assert.equal(view.watches('elsewhere'), false);
});

test('the Gateway API is in a control plane\'s view only when its ServiceMeshControlPlane serves it', () => {
  const route = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: a}\nspec: {parentRefs: [{name: svc, kind: Service, group: ""}]}\n';
  const source = new MemoryStore();
  assert.deepEqual(source.applyYaml(cp('[a]') + '---\n' + objects + '---\n' + route, 'all.yaml'), []);
  const view = new ScopedStore(source, 'mesh');
  const routes = () => view.list().filter((r) => r.kind === 'HTTPRoute').length;
  assert.equal(routes(), 0);
  source.applyYaml(cp('[a]').replace('spec: {version: v2.4}', 'spec: {version: v2.4, techPreview: {gatewayAPI: {enabled: true}}}') + '---\n' + objects + '---\n' + route, 'all.yaml');
  assert.equal(routes(), 1);
});
