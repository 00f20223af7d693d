// Behaviour of individual analyzers and of the index they read, on small inline configs (schema validation bypassed on purpose).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnosticFor, type Diagnostic } from '../diagnostics.js';
import { loadText } from '../loader.js';
import { buildMeshModel } from '../mesh-config.js';
import type { Analyzer } from './analyzer.js';
import { assumedResources, type AnalysisMode } from './assumed.js';
import { ConfigIndex } from './config-index.js';
import { credentialProblem, ingressGatewayPortAnalyzer } from './analyzers/gateway.js';
import { sidecarSelectorAnalyzer } from './analyzers/sidecar.js';
import { ANALYZERS } from './registry.js';
import { Messages } from './messages.js';

/** Run analyzers over every resource of `yaml`, as run.ts does (`local` mode unless told) but without schema validation in between. */
function analyze(yaml: string, analyzers: readonly Analyzer[] = ANALYZERS, mode: AnalysisMode = 'local'): Diagnostic[] {
  const { resources, errors } = loadText(yaml, 'inline.yaml');
  assert.deepEqual(errors, []);
  const out: Diagnostic[] = [];
  const index = new ConfigIndex([...resources, ...assumedResources(mode, resources, buildMeshModel(resources))]);
  const ctx = { resources, index, mode, report: (type: Parameters<typeof diagnosticFor>[0], r: Parameters<typeof diagnosticFor>[1], field: string, message: string) => out.push(diagnosticFor(type, r, field, message)) };
  for (const a of analyzers) a.analyze(ctx);
  return out;
}

const codes = (ds: Diagnostic[]) => ds.map((d) => `${d.code} ${d.resource?.name}`).sort();

const svc = (name: string, ns = 'default', ports = '[{port: 9080, name: http}]', extra = '') =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}${extra}}\nspec: {ports: ${ports}, selector: {app: ${name}}}\n---\n`;
const pod = (name: string, labels: string, ns = 'default') => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}, labels: ${labels}}\nspec: {containers: [{name: app, image: app}]}\n---\n`;
const vs = (name: string, body: string, ns = 'default') => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${body}\n---\n`;

test('Sidecar selectors use Istio\'s workloadSelector.labels: no match is IST0101, overlap is IST0110 on each', () => {
  const sidecar = (name: string, labels: string) => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: ${name}}\nspec: {workloadSelector: {labels: ${labels}}, egress: [{hosts: ["./*"]}]}\n---\n`;
  const ds = analyze(pod('ratings-v1', '{app: ratings, version: v1}') + sidecar('ratings', '{app: ratings}') + sidecar('ratings-v1', '{version: v1}') + sidecar('reviews', '{app: reviews}'), [sidecarSelectorAnalyzer]);
  assert.deepEqual(codes(ds), ['IST0101 reviews', 'IST0110 ratings', 'IST0110 ratings-v1']);
  assert.equal(ds.find((d) => d.code === 'IST0101')!.message, 'Referenced selector not found: "app=reviews"');
  assert.match(ds.find((d) => d.code === 'IST0110')!.message, /The Sidecars \[default\/ratings default\/ratings-v1\] in namespace "default" select the same workload pod "ratings-v1"/);
});

test('destination hosts: short names, FQDNs, other namespaces, wildcard ServiceEntries and exportTo', () => {
  const se = `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: wild, namespace: egress}\nspec: {hosts: ["*.example.com"], ports: [{number: 443, name: https, protocol: HTTPS}], resolution: NONE, exportTo: ["."]}\n---\n`;
  const hidden = svc('secret', 'other', '[{port: 80, name: http}]', ', annotations: {networking.istio.io/exportTo: "."}');
  const route = (host: string) => `{host: ${host}, port: {number: 443}}`;
  const yaml =
    svc('reviews', 'bookinfo') + se + hidden +
    vs('a', `{hosts: [a], http: [{route: [{destination: {host: reviews.bookinfo.svc.cluster.local}}]}, {route: [{destination: {host: reviews}}]}]}`, 'bookinfo') +
    vs('b', `{hosts: [b], http: [{route: [{destination: {host: reviews}}]}]}`, 'default') +
    vs('c', `{hosts: [c], tcp: [{route: [{destination: ${route('api.example.com')}}]}]}`, 'egress') +
    vs('d', `{hosts: [d], tcp: [{route: [{destination: ${route('api.example.com')}}]}]}`, 'default') +
    vs('e', `{hosts: [e], http: [{route: [{destination: {host: secret.other.svc.cluster.local}}]}]}`, 'default');
  const ds = analyze(yaml).filter((d) => d.code === 'IST0101');
  // b: "reviews" in default is reviews.default, which does not exist; d and e: not exported to default.
  assert.deepEqual(codes(ds), ['IST0101 b', 'IST0101 d', 'IST0101 e']);
});

test('a Gateway that selects Trellis\'s built-in ingress gateway is satisfied, unless a ServiceMeshControlPlane turns it off', () => {
  const gw = `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {selector: {istio: ingressgateway}, servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]}\n---\n`;
  assert.deepEqual(analyze(gw), []);
  const smcp = `apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: basic, namespace: mesh-system}\nspec: {gateways: {ingress: {enabled: false}}}\n---\n`;
  const ds = analyze(gw + smcp, [ingressGatewayPortAnalyzer]);
  assert.deepEqual(codes(ds), ['IST0101 gw']);
  assert.equal(ds[0]!.message, 'Referenced selector not found: "istio=ingressgateway"');
  // A loaded gateway deployment replaces the built-in one, ports and all.
  const own = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ingress, namespace: gw-ns}\nspec: {selector: {matchLabels: {istio: ingressgateway}}, template: {metadata: {labels: {istio: ingressgateway}}, spec: {containers: [{name: istio-proxy, image: auto}]}}}\n---\n` +
    `apiVersion: v1\nkind: Service\nmetadata: {name: ingress, namespace: gw-ns}\nspec: {selector: {istio: ingressgateway}, ports: [{port: 80, name: http2, targetPort: 9090}]}\n---\n`;
  assert.deepEqual(codes(analyze(gw + own).filter((d) => d.code === 'IST0162')), ['IST0162 gw']);
});

test('credential checks: data that is not PEM is reported', () => {
  const { resources } = loadText(
    `apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {tls.crt: ${Buffer.from('garbage').toString('base64')}, tls.key: ${Buffer.from('garbage').toString('base64')}}\n`,
    'x.yaml',
  );
  assert.match(credentialProblem(resources[0]!) ?? '', /tls.crt in secret default\/a is not a PEM certificate/);
});

test('a good certificate expires: the check uses the current time', async () => {
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const text = await readFile(fileURLToPath(new URL('../../../test/fixtures/analyze/gateway-credentials.yaml', import.meta.url)), 'utf8');
  const good = loadText(text, 'x.yaml').resources.find((r) => r.kind === 'Secret' && r.metadata.name === 'good')!;
  assert.equal(credentialProblem(good), undefined);
  assert.match(credentialProblem(good, { now: new Date('2200-01-01') }) ?? '', /expired on/);
});

test('OpenShift Service Mesh members inject per pod: no IST0102 for namespaces in a member roll', () => {
  const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n---\n`;
  const smmr = `apiVersion: maistra.io/v1\nkind: ServiceMeshMemberRoll\nmetadata: {name: default, namespace: istio-system}\nspec: {members: [bookinfo]}\n---\n`;
  assert.deepEqual(codes(analyze(ns('bookinfo') + ns('shop') + ns('istio-system') + ns('kube-system') + smmr)), ['IST0102 shop']);
});

test('a mesh default access log provider makes provider-less Telemetry logging meaningful (no IST0157)', () => {
  const tel = `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: mesh-default, namespace: istio-system}\nspec: {accessLogging: [{}]}\n---\n`;
  assert.deepEqual(codes(analyze(tel)), ['IST0157 mesh-default']);
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    defaultProviders:\n      accessLogging: [envoy]\n---\n`;
  assert.deepEqual(codes(analyze(tel + cm)), []);
});

test('mTLS: a workload policy overrides a STRICT namespace; a DISABLE server conflicts with ISTIO_MUTUAL clients', () => {
  const deploy = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ratings}\nspec: {selector: {matchLabels: {app: ratings}}, template: {metadata: {labels: {app: ratings}}, spec: {containers: [{name: r, image: r}]}}}\n---\n`;
  const pa = (name: string, spec: string) => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`;
  const dr = (mode: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings}\nspec: {host: ratings, trafficPolicy: {tls: {mode: ${mode}}}}\n---\n`;
  const base = svc('ratings') + deploy + pa('default', '{mtls: {mode: STRICT}}');
  assert.deepEqual(codes(analyze(base + dr('DISABLE')).filter((d) => d.code === 'IST0113')), ['IST0113 ratings']);
  assert.deepEqual(codes(analyze(base + pa('ratings', '{selector: {matchLabels: {app: ratings}}, mtls: {mode: PERMISSIVE}}') + dr('DISABLE')).filter((d) => d.code === 'IST0113')), []);
  assert.deepEqual(codes(analyze(base + pa('ratings', '{selector: {matchLabels: {app: ratings}}, mtls: {mode: DISABLE}}') + dr('ISTIO_MUTUAL')).filter((d) => d.code === 'IST0113')), ['IST0113 ratings']);
  assert.deepEqual(codes(analyze(base + dr('ISTIO_MUTUAL')).filter((d) => d.code === 'IST0113')), []);
});

test('Gateway API: a ReferenceGrant permits a cross-namespace backend; listeners with a namespace selector accept labelled namespaces', () => {
  const yaml =
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: frontend, labels: {shared-gateway: "true", istio-injection: enabled}}\n---\n` +
    `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: shared, namespace: infra}\nspec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {shared-gateway: "true"}}}}}]}\n---\n` +
    svc('reviews', 'bookinfo') +
    `apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: bookinfo}\nspec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: frontend}], to: [{group: "", kind: Service}]}\n---\n` +
    `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: frontend}\nspec: {parentRefs: [{name: shared, namespace: infra}], rules: [{backendRefs: [{name: reviews, namespace: bookinfo, port: 9080}]}]}\n---\n` +
    `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: elsewhere}\nspec: {parentRefs: [{name: shared, namespace: infra}]}\n---\n`;
  assert.deepEqual(codes(analyze(yaml)), ['TRL0103 r']);
});

test('policies ignore workloads that opted out of the sidecar', () => {
  const optedOut = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ext-authz}\nspec: {selector: {matchLabels: {app: ext-authz}}, template: {metadata: {labels: {app: ext-authz, sidecar.istio.io/inject: "false"}}, spec: {containers: [{name: e, image: e}]}}}\n---\n`;
  const ap = `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ext-authz}\nspec: {selector: {matchLabels: {app: ext-authz}}}\n---\n`;
  assert.deepEqual(codes(analyze(optedOut + ap)), ['IST0127 ext-authz']);
});

test('the catalogue: codes are unique, Istio codes are IST, Trellis codes TRL, and every analyzer has a name', () => {
  const all = Object.values(Messages);
  assert.equal(new Set(all.map((t) => t.code)).size, all.length);
  for (const t of all) assert.match(t.code, /^(IST|TRL)\d{4}$/);
  assert.equal(Messages.ReferencedResourceNotFound.level, 'Error');
  assert.equal(Messages.NoMatchingWorkloadsFound.code, 'IST0127');
  assert.equal(new Set(ANALYZERS.map((a) => a.name)).size, ANALYZERS.length);
});

test('label selectors: matchLabels and matchExpressions, printed as kubectl prints them', async () => {
  const { matchesLabelSelector, matchesLabels, selectorString } = await import('../labels.js');
  const labels = { app: 'reviews', version: 'v2', tier: 'backend' };
  assert.equal(matchesLabels({ app: 'reviews' }, labels), true);
  assert.equal(matchesLabels({ app: 'reviews', version: 'v1' }, labels), false);
  assert.equal(matchesLabels({}, labels), true);
  const sel = (e: Array<{ key: string; operator: string; values?: string[] }>) => matchesLabelSelector({ matchLabels: { app: 'reviews' }, matchExpressions: e }, labels);
  assert.equal(sel([{ key: 'version', operator: 'In', values: ['v1', 'v2'] }]), true);
  assert.equal(sel([{ key: 'version', operator: 'NotIn', values: ['v2'] }]), false);
  assert.equal(sel([{ key: 'canary', operator: 'DoesNotExist' }, { key: 'tier', operator: 'Exists' }]), true);
  assert.equal(sel([{ key: 'tier', operator: 'Sometimes' }]), false);
  assert.equal(selectorString({ version: 'v1', app: 'reviews' }), 'app=reviews,version=v1');
});

test('the index: DestinationRules by host with exportTo and wildcards; namespaces known from the objects in them', () => {
  const dr = (name: string, ns: string, host: string, exportTo = '') => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {host: "${host}"${exportTo}}\n---\n`;
  const { resources } = loadText(dr('local', 'bookinfo', 'reviews', ', exportTo: ["."]') + dr('global', 'istio-system', '*.bookinfo.svc.cluster.local') + dr('other', 'shop', 'cart'), 'x.yaml');
  const index = new ConfigIndex(resources);
  const names = (host: string, from: string) => index.destinationRulesFor(host, from).map((r) => r.metadata.name).sort();
  assert.deepEqual(names('reviews.bookinfo.svc.cluster.local', 'bookinfo'), ['global', 'local']);
  assert.deepEqual(names('reviews.bookinfo.svc.cluster.local', 'default'), ['global']);
  assert.deepEqual(names('cart.shop.svc.cluster.local', 'default'), ['other']);
  assert.deepEqual([...index.knownNamespaces].sort(), ['bookinfo', 'istio-system', 'shop']);
  assert.equal(index.rootNamespace, 'istio-system');
});

test('a URI prefix match under an earlier prefix (other conditions equal, no method = GET) is IST0131, within a rule too; one with extra conditions is not', () => {
  const d = `route: [{destination: {host: web}}]`;
  const yaml =
    svc('web') +
    vs('web', `{hosts: [web], http: [{match: [{uri: {prefix: /api}}], ${d}}, {match: [{uri: {exact: /api/v2}}, {uri: {prefix: /api/v1}, headers: {x: {exact: "1"}}}], ${d}}, {match: [{uri: {prefix: /apix}}, {uri: {prefix: /apix/y}, method: {exact: GET}}], ${d}}]}`);
  const ds = analyze(yaml).filter((x) => x.code === 'IST0131' || x.code === 'IST0130');
  // As Istio: only prefixes are compared, and an overlap never makes a whole rule unreachable (IST0130 is for duplicates).
  assert.deepEqual(ds.map((x) => `${x.code} ${x.field}`), ['IST0131 /spec/http/2/match/0', 'IST0131 /spec/http/2/match/1', 'IST0131 /spec/http/2/match/1']);
  assert.equal(ds[1]!.message, 'VirtualService rule #2 match #1 of prefix /apix/y is not used (duplicate/overlapping match in rule #0 of prefix /api on #0).');
  assert.equal(ds[2]!.message, 'VirtualService rule #2 match #1 of prefix /apix/y is not used (duplicate/overlapping match in rule #0 of prefix /apix on #2).');
});
