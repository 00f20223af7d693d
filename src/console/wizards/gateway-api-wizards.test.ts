// The Gateway API wizards' output on Istio's own Bookinfo files: per-version Services found (or their YAML offered when
// missing), HTTPRoutes for the mesh (GAMMA) and at a Kubernetes Gateway, a new Gateway from the form — each loaded
// beside Bookinfo, clean for the analyzers, Accepted with resolved references in the status the control plane computes,
// and translated into the weights and matches a sidecar or the gateway proxy then applies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeResources } from '../../config/analysis/run.js';
import { loadText } from '../../config/loader.js';
import { istioSamplesDir } from '../../samples.js';
import { gatewayApiStatus, type RouteStatus } from '../../controlplane/translate/gateway-api/status.js';
import { buildGatewayApi, compiled, configFor, gatewayNode, outcome, sidecarNode } from '../../controlplane/translate/gateway-api/testing.js';
import { buildInventory } from '../mesh/inventory.js';
import { checkK8sGateway, defaultListener, k8sGatewayObject, k8sGatewayYaml, type K8sGatewayInput } from './k8s-gateway.js';
import { missingVersionServices, perVersionServicesYaml, versionServices } from './http-route.js';
import { checkWizard, wizardObjects, wizardYaml } from './routing.js';
import { subsetsFor, WHOLE_SERVICE, WIZARD_LABEL, type WizardInput } from './rules.js';

const S = `${istioSamplesDir()}/bookinfo`;
const BOOKINFO = readFileSync(`${S}/platform/kube/bookinfo.yaml`, 'utf8');
const VERSIONS = readFileSync(`${S}/platform/kube/bookinfo-versions.yaml`, 'utf8');
const GATEWAY = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bookinfo-gw, namespace: default}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
`;
const cluster = (name: string) => `outbound|9080||${name}.default.svc.cluster.local`;

/** The wizard's input for a service of the files, as the console builds it from its inventory. */
function inputFor(files: string, service: string, kind: WizardInput['kind'], rules: WizardInput['rules'], extra: Partial<WizardInput> = {}): WizardInput {
  const { resources, errors } = loadText(files, 'bookinfo.yaml', { defaultNamespace: 'default' });
  assert.deepEqual(errors, []);
  const inv = buildInventory(resources, [], 'test');
  const svc = inv.services.find((s) => s.name === service)!;
  const workloads = inv.workloads.filter((w) => svc.workloads.includes(w.name));
  return { kind, namespace: 'default', service, subsets: subsetsFor(workloads), rules, backends: versionServices(svc, inv.services, inv.workloads), ...extra };
}

/** The files and the wizard's YAML together: the analyzers' errors and warnings, and the route's status per parent. */
function applied(files: string, input: WizardInput, deployed: string[] = []) {
  const yaml = `${files}\n---\n${wizardYaml(input)}`;
  const { resources } = loadText(yaml, 'all.yaml', { defaultNamespace: 'default' });
  const findings = analyzeResources(resources, { mode: 'local' }).diagnostics.filter((d) => d.level !== 'Info' && d.resource?.kind !== 'Service' && d.resource?.kind !== 'Deployment').map((d) => `${d.code} ${d.resource?.kind} ${d.message}`);
  const b = buildGatewayApi(yaml, deployed);
  const route = gatewayApiStatus(b.push).find((o) => o.kind === 'HTTPRoute' && o.name === input.service)!.status as RouteStatus;
  return { findings, b, parents: route.parents.map((p) => `${p.parentRef.kind}/${p.parentRef.name} ${p.conditions.map((c) => `${c.type}=${c.status}`).join(' ')}`) };
}

test('per-version Services: found by the workloads they select (bookinfo-versions.yaml), each at the service\'s port', () => {
  const input = inputFor(`${BOOKINFO}\n---\n${VERSIONS}`, 'reviews', 'k8s_traffic_shifting', []);
  assert.deepEqual(input.backends, { port: 9080, versions: { v1: { name: 'reviews-v1', port: 9080 }, v2: { name: 'reviews-v2', port: 9080 }, v3: { name: 'reviews-v3', port: 9080 } } });
  // Without them there are none: a Service selecting every version (reviews itself) is not a version's.
  assert.deepEqual(inputFor(BOOKINFO, 'reviews', 'k8s_traffic_shifting', []).backends, { port: 9080, versions: {} });
});

test('K8s Traffic Shifting for the mesh: an HTTPRoute with the Service as parent and weighted per-version backends that sidecars apply', async () => {
  const files = `${BOOKINFO}\n---\n${VERSIONS}`;
  const input = inputFor(files, 'reviews', 'k8s_traffic_shifting', [{ weights: [{ subset: 'v1', weight: 80 }, { subset: 'v2', weight: 0 }, { subset: 'v3', weight: 20 }] }]);
  assert.equal(checkWizard(input), undefined);
  const [route] = wizardObjects(input) as Array<{ kind: string; metadata: { name: string; labels: Record<string, string> }; spec: unknown }>;
  assert.equal(route!.kind, 'HTTPRoute');
  assert.equal(route!.metadata.labels[WIZARD_LABEL], 'k8s_traffic_shifting');
  assert.deepEqual(route!.spec, {
    parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
    rules: [{ backendRefs: [{ name: 'reviews-v1', port: 9080, weight: 80 }, { name: 'reviews-v3', port: 9080, weight: 20 }] }],
  });
  const { findings, b, parents } = applied(files, input);
  assert.deepEqual(findings, []);
  assert.deepEqual(parents, ['Service/reviews Accepted=True ResolvedRefs=True']);
  const vhost = configFor(b, sidecarNode('default', 'productpage-v1-x', { app: 'productpage', version: 'v1' })).routes.find((r) => r.name === '9080')!.virtualHosts!.find((v) => v.name === 'reviews.default.svc.cluster.local:9080')!;
  assert.deepEqual(vhost.routes!.map((r) => r.route?.weightedClusters?.clusters?.map((c) => `${c.name}=${c.weight}`)), [[`${cluster('reviews-v1')}=80`, `${cluster('reviews-v3')}=20`]]);
});

test('K8s Request Routing: header and path matches become HTTPRoute matches, a version per rule, ranked by the spec\'s precedence rather than their order', async () => {
  const files = `${BOOKINFO}\n---\n${VERSIONS}`;
  const input = inputFor(files, 'reviews', 'k8s_request_routing', [
    { match: { header: { name: 'end-user', op: 'exact', value: 'jason' } }, weights: [{ subset: 'v2', weight: 100 }] },
    { match: { uri: { op: 'prefix', value: '/reviews' } }, weights: [{ subset: 'v3', weight: 100 }] },
    { weights: [{ subset: 'v1', weight: 100 }] },
  ]);
  const { spec } = wizardObjects(input)[0] as { spec: { rules: unknown[] } };
  assert.deepEqual(spec.rules, [
    { matches: [{ headers: [{ type: 'Exact', name: 'end-user', value: 'jason' }] }], backendRefs: [{ name: 'reviews-v2', port: 9080 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/reviews' } }], backendRefs: [{ name: 'reviews-v3', port: 9080 }] },
    { backendRefs: [{ name: 'reviews-v1', port: 9080 }] },
  ]);
  const { findings, b } = applied(files, input);
  assert.deepEqual(findings, []);
  const p = await compiled(configFor(b, sidecarNode('default', 'productpage-v1-x', { app: 'productpage', version: 'v1' })));
  try {
    assert.equal(outcome(p.route('9080', { host: 'reviews:9080', path: '/health', headers: { 'end-user': 'jason' } })), cluster('reviews-v2'));
    assert.equal(outcome(p.route('9080', { host: 'reviews:9080', path: '/reviews/0' })), cluster('reviews-v3'));
    // Unlike a VirtualService's ordered rules, the longer path prefix outranks the header match (the wizard says so).
    assert.equal(outcome(p.route('9080', { host: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'jason' } })), cluster('reviews-v3'));
    assert.equal(outcome(p.route('9080', { host: 'reviews:9080', path: '/health' })), cluster('reviews-v1'));
  } finally {
    await p.close();
  }
  // A prefix header match is Istio's alone.
  assert.match(checkWizard({ ...input, rules: [{ match: { header: { name: 'end-user', op: 'prefix', value: 'j' } }, weights: [{ subset: 'v2', weight: 100 }] }] })!, /rule 1: Gateway API header matches are exact or regex/);
});

test('at an existing Kubernetes Gateway: the route attaches there (and to the mesh when asked), the whole service as backend needs no per-version Service', async () => {
  const files = `${BOOKINFO}\n---\n${GATEWAY}`;
  const input = inputFor(files, 'productpage', 'k8s_request_routing', [{ weights: [{ subset: WHOLE_SERVICE, weight: 100 }] }], { gateway: { mode: 'existing', gateway: 'default/bookinfo-gw', hosts: ['*'], includeMesh: false } });
  assert.equal(checkWizard(input), undefined);
  const { spec } = wizardObjects(input)[0] as { spec: Record<string, unknown> };
  assert.deepEqual(spec, { parentRefs: [{ name: 'bookinfo-gw' }], rules: [{ backendRefs: [{ name: 'productpage', port: 9080 }] }] });
  const { findings, b, parents } = applied(files, input, ['default/bookinfo-gw']);
  assert.deepEqual(findings, []);
  assert.deepEqual(parents, ['Gateway/bookinfo-gw Accepted=True ResolvedRefs=True']);
  const p = await compiled(configFor(b, gatewayNode('default', 'bookinfo-gw')));
  try {
    assert.equal(outcome(p.route('http.80', { host: 'bookinfo.example', path: '/productpage' })), cluster('productpage'));
  } finally {
    await p.close();
  }
  const both = { ...input, gateway: { mode: 'existing' as const, gateway: 'default/bookinfo-gw', hosts: ['bookinfo.example.com'], includeMesh: true } };
  assert.deepEqual((wizardObjects(both)[0] as { spec: Record<string, unknown> }).spec.parentRefs, [{ name: 'bookinfo-gw' }, { group: '', kind: 'Service', name: 'productpage', port: 9080 }]);
  assert.deepEqual((wizardObjects(both)[0] as { spec: Record<string, unknown> }).spec.hostnames, ['bookinfo.example.com']);
  assert.deepEqual(applied(files, both, ['default/bookinfo-gw']).parents, ['Gateway/bookinfo-gw Accepted=True ResolvedRefs=True', 'Service/productpage Accepted=True ResolvedRefs=True']);
});

test('a new gateway for the service: <service>-gateway of class istio with one HTTP listener, written before the route', () => {
  const input = inputFor(BOOKINFO, 'productpage', 'k8s_request_routing', [{ weights: [{ subset: WHOLE_SERVICE, weight: 100 }] }], { gateway: { mode: 'new', port: 8081, protocol: 'HTTP', hosts: ['*'], includeMesh: false } });
  const [gw, route] = wizardObjects(input) as Array<{ kind: string; metadata: { name: string; labels: Record<string, string> }; spec: Record<string, unknown> }>;
  assert.equal(gw!.kind, 'Gateway');
  assert.deepEqual(gw!.metadata, { name: 'productpage-gateway', namespace: 'default', labels: { [WIZARD_LABEL]: 'k8s_request_routing' } });
  assert.deepEqual(gw!.spec, { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 8081, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }] });
  assert.deepEqual(route!.spec.parentRefs, [{ name: 'productpage-gateway' }]);
  assert.deepEqual(applied(BOOKINFO, input, ['default/productpage-gateway']).findings, []);
  assert.match(checkWizard({ ...input, gateway: { mode: 'new', port: 8081, protocol: 'TCP', hosts: ['*'], includeMesh: false } })!, /needs an HTTP listener/);
});

test('a service without per-version Services: the wizard refuses, naming the versions, and offers their YAML, which makes it work', () => {
  const input = inputFor(BOOKINFO, 'reviews', 'k8s_traffic_shifting', [{ weights: [{ subset: 'v1', weight: 50 }, { subset: 'v2', weight: 0 }, { subset: 'v3', weight: 50 }] }]);
  assert.deepEqual(missingVersionServices(input), ['v1', 'v3'], 'only the versions that get traffic');
  assert.match(checkWizard(input)!, /reviews has no Service for versions v1, v3: Gateway API routes weight Services, not subsets/);
  const { resources } = loadText(BOOKINFO, 'bookinfo.yaml', { defaultNamespace: 'default' });
  const reviews = buildInventory(resources, [], 'x').services.find((s) => s.name === 'reviews')!;
  const offered = perVersionServicesYaml(reviews, missingVersionServices(input));
  const fixed = inputFor(`${BOOKINFO}\n---\n${offered}`, 'reviews', 'k8s_traffic_shifting', input.rules);
  assert.deepEqual(Object.keys(fixed.backends!.versions), ['v1', 'v3']);
  assert.equal(checkWizard(fixed), undefined);
  assert.deepEqual(applied(`${BOOKINFO}\n---\n${offered}`, fixed).findings, []);
});

test('Create K8s Gateway: listeners with hostname, port, protocol and TLS; what status would refuse is refused first', () => {
  const input: K8sGatewayInput = {
    namespace: 'default',
    name: 'edge',
    className: 'istio',
    listeners: [
      { ...defaultListener(0), hostname: '*.example.com' },
      { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'shop.example.com', certificate: 'shop-cert', from: 'All' },
      { name: 'db', port: 5432, protocol: 'TCP', from: 'Same' },
      { name: 'tls', port: 443, protocol: 'TLS', tlsMode: 'Passthrough', hostname: 'mail.example.com', from: 'Same' },
    ],
  };
  assert.equal(checkK8sGateway(input), undefined);
  assert.deepEqual(k8sGatewayObject(input).spec.listeners, [
    { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'Same' } } },
    { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'shop.example.com', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'shop-cert' }] }, allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'db', port: 5432, protocol: 'TCP', allowedRoutes: { namespaces: { from: 'Same' } } },
    { name: 'tls', port: 443, protocol: 'TLS', hostname: 'mail.example.com', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Same' } } },
  ]);
  const gwOnly = analyzeResources(loadText(k8sGatewayYaml(input), 'gw.yaml').resources, { mode: 'local' }).diagnostics.filter((d) => d.code === 'TRL0108');
  assert.deepEqual(gwOnly, [], 'no listener the analyzers would call unservable');
  const bad = (patch: Partial<K8sGatewayInput['listeners'][number]>, i = 0) => checkK8sGateway({ ...input, listeners: input.listeners.map((l, j) => (j === i ? { ...l, ...patch } : l)) });
  assert.match(bad({ port: 443, protocol: 'TCP', hostname: undefined }, 2)!, /listener db cannot share port 443 with https \(HTTPS\)/);
  assert.match(bad({ certificate: undefined }, 1)!, /needs a certificate/);
  assert.match(bad({ hostname: '*' })!, /is not a host name/);
  assert.match(bad({ hostname: 'x.example.com' }, 2)!, /TCP listener matches no host name/);
  assert.match(bad({ name: 'https' })!, /two listeners are named https/);
  assert.match(checkK8sGateway({ ...input, name: 'Edge' })!, /DNS name/);
});
