// The service wizards' output: subsets from version labels, weights that add up, faults, timeouts, TCP routes and
// gateways as Kiali writes them, and YAML that Istio's schema rules and analyzers accept beside Bookinfo.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { analyzeResources } from '../../config/analysis/run.js';
import { loadText } from '../../config/loader.js';
import { buildWizard, checkWizard, wizardYaml } from './routing.js';
import { defaultRule, evenWeights, subsetsFor, WIZARD_LABEL, type WizardInput } from './rules.js';

const reviews: Array<{ name: string; labels: Record<string, string> }> = [
  { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
  { name: 'reviews-v3', labels: { app: 'reviews', version: 'v3' } },
  { name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } },
  { name: 'reviews-canary', labels: { app: 'reviews' } },
];
const subsets = subsetsFor(reviews);
const HOST = 'reviews.default.svc.cluster.local';
const base = (kind: WizardInput['kind'], rules: WizardInput['rules'], extra: Partial<WizardInput> = {}): WizardInput => ({ kind, namespace: 'default', service: 'reviews', subsets, rules, ...extra });

/** Bookinfo's reviews Service and its three Deployments, for the analyzers to check references against. */
const BOOKINFO_REVIEWS = `apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: default}\nspec:\n  selector: {app: reviews}\n  ports: [{name: http, port: 9080}]\n` +
  ['v1', 'v2', 'v3'].map((v) => `---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-${v}, namespace: default}\nspec:\n  selector: {matchLabels: {app: reviews, version: ${v}}}\n  template:\n    metadata: {labels: {app: reviews, version: ${v}}}\n    spec: {containers: [{name: reviews, image: reviews, ports: [{containerPort: 9080}]}]}\n`).join('') +
  `---\napiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: bookinfo-gateway, namespace: default}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n`;

/** The wizard's YAML loaded beside Bookinfo's reviews: its errors, and any finding on its VirtualService or DestinationRule. */
function findings(input: WizardInput): string[] {
  const loaded = loadText(`${BOOKINFO_REVIEWS}---\n${wizardYaml(input)}`, 'wizard.yaml');
  assert.deepEqual(loaded.errors, []);
  return analyzeResources(loaded.resources).diagnostics.filter((d) => d.level === 'Error' || (d.resource?.name === 'reviews' && d.resource.kind !== 'Service')).map((d) => `${d.code} ${d.resource?.kind} ${d.message}`);
}

test('subsets come from the version labels, weights start even and add up to 100', () => {
  assert.deepEqual(subsets, [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }, { name: 'v3', labels: { version: 'v3' } }]);
  assert.deepEqual(evenWeights(subsets).map((w) => w.weight), [34, 33, 33]);
});

test('checkWizard refuses what would be invalid config, naming the rule', () => {
  assert.equal(checkWizard(base('traffic_shifting', [defaultRule(subsets)])), undefined);
  assert.match(checkWizard(base('traffic_shifting', [{ weights: [{ subset: 'v1', weight: 60 }, { subset: 'v2', weight: 60 }] }]))!, /rule 1: weights must add up to 100/);
  assert.match(checkWizard(base('traffic_shifting', [{ weights: [{ subset: 'v9', weight: 100 }] }]))!, /unknown subset/);
  assert.match(checkWizard(base('traffic_shifting', [{ weights: [{ subset: 'v1', weight: 100.5 }] }]))!, /whole number/);
  assert.match(checkWizard({ ...base('traffic_shifting', []), subsets: [] })!, /no version label/);
  assert.match(checkWizard(base('request_routing', [{ match: {}, weights: [{ subset: 'v2', weight: 100 }] }]))!, /header or a URI/);
  assert.match(checkWizard(base('fault_injection', [{ weights: [{ subset: 'v1', weight: 100 }], fault: { delay: { percent: 100, fixedDelay: 'soon' } } }]))!, /not a duration/);
  assert.match(checkWizard(base('fault_injection', [{ weights: [{ subset: 'v1', weight: 100 }], fault: { abort: { percent: 150, httpStatus: 503 } } }]))!, /percentage/);
  assert.match(checkWizard(base('fault_injection', [{ weights: [{ subset: 'v1', weight: 100 }], fault: { abort: { percent: 10, httpStatus: 99 } } }]))!, /HTTP status/);
  assert.match(checkWizard(base('request_timeouts', [{ weights: [{ subset: 'v1', weight: 100 }], timeout: '0s' }]))!, /more than 0/);
  assert.match(checkWizard(base('tcp_traffic_shifting', [{ match: { uri: { op: 'prefix', value: '/' } }, weights: [{ subset: 'v1', weight: 100 }] }]))!, /TCP routes/);
  assert.match(checkWizard(base('request_routing', [defaultRule(subsets)], { gateway: { mode: 'new', port: 80, protocol: 'HTTP', hosts: ['*'], includeMesh: true } }))!, /cannot be used with the mesh/);
  assert.match(checkWizard(base('request_routing', [defaultRule(subsets)], { gateway: { mode: 'existing', gateway: 'bookinfo-gateway', hosts: [], includeMesh: true } }))!, /namespace\/name/);
});

test('traffic shifting: weighted routes to subsets, a zero weight left out, Kiali\'s label on both objects', () => {
  const { virtualService, destinationRule } = buildWizard(base('traffic_shifting', [{ weights: [{ subset: 'v1', weight: 80 }, { subset: 'v2', weight: 0 }, { subset: 'v3', weight: 20 }] }]));
  assert.deepEqual(virtualService.spec.http, [{ route: [{ destination: { host: HOST, subset: 'v1' }, weight: 80 }, { destination: { host: HOST, subset: 'v3' }, weight: 20 }] }]);
  assert.equal(destinationRule.spec.host, HOST);
  assert.equal(virtualService.metadata.labels[WIZARD_LABEL], 'traffic_shifting');
  assert.equal(destinationRule.metadata.labels[WIZARD_LABEL], 'traffic_shifting');
});

test('request routing: a header match first, then everything else', () => {
  const { virtualService } = buildWizard(base('request_routing', [{ match: { header: { name: 'end-user', op: 'exact', value: 'jason' } }, weights: [{ subset: 'v2', weight: 100 }] }, { weights: [{ subset: 'v1', weight: 100 }] }]));
  assert.deepEqual(virtualService.spec.http, [
    { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: HOST, subset: 'v2' } }] },
    { route: [{ destination: { host: HOST, subset: 'v1' } }] },
  ]);
});

test('fault injection: delay and abort per route, as percentages', () => {
  const input = base('fault_injection', [
    { match: { header: { name: 'end-user', op: 'exact', value: 'jason' } }, weights: [{ subset: 'v1', weight: 100 }], fault: { delay: { percent: 100, fixedDelay: '2s' } } },
    { weights: evenWeights(subsets), fault: { abort: { percent: 12.5, httpStatus: 503 } } },
  ]);
  const { virtualService } = buildWizard(input);
  assert.deepEqual(virtualService.spec.http![0]!.fault, { delay: { percentage: { value: 100 }, fixedDelay: '2s' } });
  assert.deepEqual(virtualService.spec.http![1]!.fault, { abort: { percentage: { value: 12.5 }, httpStatus: 503 } });
  assert.deepEqual(findings(input), []);
});

test('request timeouts: timeout and retries on the route', () => {
  const input = base('request_timeouts', [{ weights: evenWeights(subsets), timeout: '500ms', retries: { attempts: 3, perTryTimeout: '200ms', retryOn: 'gateway-error,connect-failure,refused-stream' } }]);
  const route = buildWizard(input).virtualService.spec.http![0]!;
  assert.equal(route.timeout, '500ms');
  assert.deepEqual(route.retries, { attempts: 3, perTryTimeout: '200ms', retryOn: 'gateway-error,connect-failure,refused-stream' });
  assert.deepEqual(findings(input), []);
});

test('TCP traffic shifting: tcp routes with weights, no http', () => {
  const input = base('tcp_traffic_shifting', [{ weights: [{ subset: 'v1', weight: 30 }, { subset: 'v3', weight: 70 }] }]);
  const { virtualService } = buildWizard(input);
  assert.equal(virtualService.spec.http, undefined);
  assert.deepEqual(virtualService.spec.tcp, [{ route: [{ destination: { host: HOST, subset: 'v1' }, weight: 30 }, { destination: { host: HOST, subset: 'v3' }, weight: 70 }] }]);
  assert.deepEqual(findings(input), []);
});

test('gateways: a new Gateway for the service, or an existing one; hosts and the mesh as asked', () => {
  // Port 9081: bookinfo-gateway holds 8080 for every host, and a second server there would conflict (IST0145).
  const fresh = base('request_routing', [defaultRule(subsets)], { gateway: { mode: 'new', port: 9081, protocol: 'HTTP', hosts: ['reviews.example.com'], includeMesh: true } });
  const o = buildWizard(fresh);
  assert.deepEqual(o.gateway?.spec, { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 9081, name: 'http-9081', protocol: 'HTTP' }, hosts: ['reviews.example.com'] }] });
  assert.equal(o.gateway?.metadata.name, 'reviews-gateway');
  assert.deepEqual(o.virtualService.spec.gateways, ['default/reviews-gateway', 'mesh']);
  assert.deepEqual(o.virtualService.spec.hosts, ['reviews', 'reviews.example.com']);
  assert.deepEqual(findings(fresh), []);
  assert.deepEqual(wizardYaml(fresh).split('---\n').map((d) => /kind: (\w+)/.exec(d)?.[1]), ['DestinationRule', 'Gateway', 'VirtualService']);

  const existing = base('tcp_traffic_shifting', [defaultRule(subsets)], { gateway: { mode: 'existing', gateway: 'default/bookinfo-gateway', hosts: ['*'], includeMesh: false } });
  const e = buildWizard(existing);
  assert.equal(e.gateway, undefined);
  assert.deepEqual(e.virtualService.spec.gateways, ['default/bookinfo-gateway']);
  assert.deepEqual(e.virtualService.spec.hosts, ['reviews']);
});

test('the YAML is documents that pass schema validation and the analyzers with the Bookinfo service', () => {
  const input = base('traffic_shifting', [defaultRule(subsets)], { trafficPolicy: { tls: 'ISTIO_MUTUAL', loadBalancer: 'LEAST_REQUEST' } });
  const yaml = wizardYaml(input);
  assert.equal(parseAllDocuments(yaml).length, 2);
  assert.deepEqual(buildWizard(input).destinationRule.spec.trafficPolicy, { tls: { mode: 'ISTIO_MUTUAL' }, loadBalancer: { simple: 'LEAST_REQUEST' } });
  assert.deepEqual(findings(input), []);
});
