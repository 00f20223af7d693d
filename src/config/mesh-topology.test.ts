import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from './loader.js';
import { buildMeshTopology } from './mesh-topology.js';

const load = (yaml: string) => {
  const { resources, errors } = loadText(yaml, 'topology.yaml');
  assert.deepEqual(errors, []);
  return resources;
};
const ns = (name: string, labels = '{}') => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: ${labels}}\n---\n`;
const smcp = (name: string, namespace: string, spec = '{}') => `apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: ${spec}\n---\n`;
const smmr = (namespace: string, spec: string) => `apiVersion: maistra.io/v1\nkind: ServiceMeshMemberRoll\nmetadata: {name: default, namespace: ${namespace}}\nspec: ${spec}\n---\n`;
const smm = (namespace: string, cpNamespace: string, cpName: string) => `apiVersion: maistra.io/v1\nkind: ServiceMeshMember\nmetadata: {name: default, namespace: ${namespace}}\nspec: {controlPlaneRef: {name: ${cpName}, namespace: ${cpNamespace}}}\n---\n`;
const decide = (yaml: string, namespace: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}) => {
  const d = buildMeshTopology(load(yaml)).injection(namespace, labels, annotations);
  return [d.inject, d.controlPlane?.namespace];
};

test('no control plane declared and no injection label: one Istio control plane and every workload in the mesh', () => {
  const yaml = ns('a') + ns('b', '{istio-injection: disabled}');
  const t = buildMeshTopology(load(yaml));
  assert.equal(t.meshEverything, true);
  assert.deepEqual(t.controlPlanes.map((c) => [c.name, c.namespace, c.mode]), [['istio', 'istio-system', 'ClusterWide']]);
  assert.deepEqual(decide(yaml, 'a'), [true, 'istio-system']);
  assert.deepEqual(decide(yaml, 'b'), [false, 'istio-system']);
  assert.deepEqual(decide(yaml, 'a', { 'sidecar.istio.io/inject': 'false' }), [false, 'istio-system']);
});

test("Istio's rules once anything is labelled: the namespace label, else the pod's own opt-in", () => {
  const yaml = ns('on', '{istio-injection: enabled}') + ns('off');
  assert.equal(buildMeshTopology(load(yaml)).meshEverything, false);
  assert.deepEqual(decide(yaml, 'on'), [true, 'istio-system']);
  assert.deepEqual(decide(yaml, 'off'), [false, 'istio-system']);
  assert.deepEqual(decide(yaml, 'off', {}, { 'sidecar.istio.io/inject': 'true' }), [true, 'istio-system']);
  assert.deepEqual(decide(yaml, 'on', { 'sidecar.istio.io/inject': 'false' }), [false, 'istio-system']);
});

test("discoverySelectors in the istio ConfigMap limit what Istio's control plane watches", () => {
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    discoverySelectors: [{matchLabels: {team: a}}]\n---\n`;
  const t = buildMeshTopology(load(cm + ns('a', '{team: a}') + ns('b')));
  const [plane] = t.controlPlanes;
  assert.deepEqual(['a', 'b', 'istio-system'].map((n) => plane!.watches(n)), [true, false, true]);
  assert.equal(t.ownerOf('b'), undefined, 'a namespace the control plane does not see is in no mesh');
});

test('MultiTenant: members from the roll (and ServiceMeshMembers); their pods opt in; the control-plane namespace is not injected', () => {
  const yaml = smcp('basic', 'istio-system') + smmr('istio-system', '{members: [bookinfo, missing]}') + ns('bookinfo') + ns('joiner') + ns('outside') + smm('joiner', 'istio-system', 'basic');
  const t = buildMeshTopology(load(yaml));
  const [plane] = t.controlPlanes;
  assert.equal(plane!.mode, 'MultiTenant');
  assert.deepEqual([...plane!.members].sort(), ['bookinfo', 'istio-system', 'joiner']);
  assert.deepEqual(plane!.memberStatuses.map((s) => [s.namespace, s.state, s.via]), [['bookinfo', 'Configured', 'members'], ['missing', 'Pending', 'members'], ['joiner', 'Configured', 'ServiceMeshMember']]);
  assert.deepEqual(decide(yaml, 'bookinfo'), [false, 'istio-system'], 'no opt-in: no sidecar');
  assert.deepEqual(decide(yaml, 'bookinfo', { 'sidecar.istio.io/inject': 'true' }), [true, 'istio-system']);
  assert.deepEqual(decide(yaml, 'outside', { 'sidecar.istio.io/inject': 'true' }), [false, undefined], 'not a member: no sidecar whatever the pod asks');
  assert.deepEqual(decide(yaml, 'istio-system', { 'sidecar.istio.io/inject': 'true' }), [false, 'istio-system']);
  assert.deepEqual(['bookinfo', 'outside'].map((n) => plane!.watches(n)), [true, false]);
});

test("ClusterWide: the default member selector istio-injection=enabled, members' pods injected, discoverySelectors limit what it sees", () => {
  const yaml = smcp('cw', 'cw-system', '{mode: ClusterWide, meshConfig: {discoverySelectors: [{matchLabels: {mesh: cw}}]}}') + ns('labelled', '{istio-injection: enabled, mesh: cw}') + ns('seen', '{mesh: cw}') + ns('unseen');
  const t = buildMeshTopology(load(yaml));
  const [plane] = t.controlPlanes;
  assert.equal(plane!.mode, 'ClusterWide');
  assert.deepEqual([...plane!.members].sort(), ['cw-system', 'labelled']);
  assert.deepEqual(decide(yaml, 'labelled'), [true, 'cw-system']);
  assert.deepEqual(decide(yaml, 'seen'), [false, undefined]);
  assert.deepEqual(['labelled', 'seen', 'unseen', 'cw-system'].map((n) => plane!.watches(n)), [true, true, false, true]);
});

test('two control planes side by side: a namespace claimed by both joins the first, the second reports the conflict', () => {
  const yaml = smcp('a', 'mesh-a') + smmr('mesh-a', '{members: [shared, only-a]}') + smcp('b', 'mesh-b') + smmr('mesh-b', '{members: [shared, only-b, mesh-a]}') + ns('shared') + ns('only-a') + ns('only-b');
  const t = buildMeshTopology(load(yaml));
  const [a, b] = t.controlPlanes;
  assert.deepEqual([...a!.members].sort(), ['mesh-a', 'only-a', 'shared']);
  assert.deepEqual([...b!.members].sort(), ['mesh-b', 'only-b']);
  assert.deepEqual(b!.memberStatuses.filter((s) => s.state === 'Conflict').map((s) => [s.namespace, s.claimedBy]), [['shared', 'mesh-a/a'], ['mesh-a', 'mesh-a/a']]);
  assert.equal(t.ownerOf('shared')?.name, 'a');
  assert.equal(t.ownerOf('only-b')?.name, 'b');
});

test("a control plane's runtime settings: gateways, certificate authority, add-ons", () => {
  const t = buildMeshTopology(
    load(
      smcp('x', 'x-system', '{gateways: {egress: {enabled: false}, additionalIngress: {istio-ingress-2: {enabled: true}}}, security: {certificateAuthority: {type: cert-manager, certManager: {address: "csr.x-system.svc:443"}}}, addons: {kiali: {enabled: false}}}'),
    ),
  );
  const s = t.controlPlanes[0]!.settings;
  assert.deepEqual(s.gateways.map((g) => [g.name, g.kind, g.istioLabel]), [['istio-ingressgateway', 'ingress', 'ingressgateway'], ['istio-ingress-2', 'ingress', 'ingress-2']]);
  assert.deepEqual(s.ca, { type: 'cert-manager', address: 'csr.x-system.svc:443' });
  assert.equal(s.console, false);
  assert.equal(s.prometheus, true);
  assert.equal(s.gatewayAPI, false, 'the Gateway API is a technology preview an SMCP turns on');
  assert.equal(buildMeshTopology(load(smcp('y', 'y-system', '{techPreview: {gatewayAPI: {enabled: true}}}'))).controlPlanes[0]!.settings.gatewayAPI, true);
  assert.equal(buildMeshTopology([]).controlPlanes[0]!.settings.gatewayAPI, true, "Istio's control plane serves it");
  const plain = buildMeshTopology([]).controlPlanes[0]!.settings;
  assert.deepEqual(plain.gateways.map((g) => g.name), ['istio-ingressgateway'], "Istio's default profile: an ingress gateway only");
});

test("ambient mode: istio.io/dataplane-mode on the namespace or the pod enrols it; `none` and a sidecar keep a pod out; labelling turns off mesh-everything", () => {
  const yaml = ns('amb', '{istio.io/dataplane-mode: ambient}') + ns('side', '{istio-injection: enabled}') + ns('plain');
  const t = buildMeshTopology(load(yaml));
  assert.equal(t.meshEverything, false, 'an ambient label is opting in to Istio\'s own rules');
  const ambient = (namespace: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => t.ambient(namespace, labels, annotations);
  assert.deepEqual([ambient('amb').ambient, ambient('amb').reason], [true, 'namespace label istio.io/dataplane-mode=ambient']);
  assert.deepEqual([ambient('amb', { 'istio.io/dataplane-mode': 'none' }).ambient, ambient('amb', { 'istio.io/dataplane-mode': 'none' }).reason], [false, 'pod label istio.io/dataplane-mode=none']);
  assert.equal(ambient('plain').ambient, false);
  assert.equal(ambient('plain', { 'istio.io/dataplane-mode': 'ambient' }).ambient, true, 'a pod may enrol itself');
  // A pod with a sidecar is never captured by the node proxy, whatever the labels say.
  assert.match(ambient('side', { 'istio.io/dataplane-mode': 'ambient' }).reason, /has a sidecar/);
  assert.equal(ambient('amb', { 'sidecar.istio.io/inject': 'true' }).ambient, false);
  assert.equal(ambient('amb').controlPlane?.namespace, 'istio-system');
});
