// The routing wizards' output: subsets from version labels, weights that add up, and YAML Istio's analyzers accept.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { analyzeResources } from '../../config/analysis/run.js';
import { loadText } from '../../config/loader.js';
import { buildRouting, checkWizard, evenWeights, routingYaml, subsetsFor } from './routing.js';

const reviews: Array<{ name: string; labels: Record<string, string> }> = [
  { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } },
  { name: 'reviews-v3', labels: { app: 'reviews', version: 'v3' } },
  { name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } },
  { name: 'reviews-canary', labels: { app: 'reviews' } },
];

test('subsets come from the version labels, weights start even and add up to 100', () => {
  const subsets = subsetsFor(reviews);
  assert.deepEqual(subsets, [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }, { name: 'v3', labels: { version: 'v3' } }]);
  assert.deepEqual(evenWeights(subsets).map((w) => w.weight), [34, 33, 33]);
});

test('checkWizard refuses what would be invalid config', () => {
  const subsets = subsetsFor(reviews);
  const base = { namespace: 'default', service: 'reviews', subsets };
  assert.equal(checkWizard({ ...base, weights: evenWeights(subsets) }), undefined);
  assert.match(checkWizard({ ...base, weights: [{ subset: 'v1', weight: 60 }, { subset: 'v2', weight: 60 }] })!, /add up to 100/);
  assert.match(checkWizard({ ...base, weights: [{ subset: 'v9', weight: 100 }] })!, /unknown subset/);
  assert.match(checkWizard({ ...base, weights: [{ subset: 'v1', weight: 100.5 }] })!, /whole number/);
  assert.match(checkWizard({ ...base, subsets: [] })!, /no version label/);
  assert.match(checkWizard({ ...base, rules: [{ subset: 'v2' }] })!, /header or a URI/);
});

test('traffic shifting: weighted routes to subsets; a zero weight is left out', () => {
  const { virtualService, destinationRule } = buildRouting({ namespace: 'default', service: 'reviews', subsets: subsetsFor(reviews), weights: [{ subset: 'v1', weight: 80 }, { subset: 'v2', weight: 0 }, { subset: 'v3', weight: 20 }] }, 'traffic-shifting');
  assert.deepEqual((virtualService.spec as { http: unknown[] }).http, [
    { route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews.default.svc.cluster.local', subset: 'v3' }, weight: 20 }] },
  ]);
  assert.equal((destinationRule.spec as { host: string }).host, 'reviews.default.svc.cluster.local');
});

test('request routing: a header match first, then everything else', () => {
  const { virtualService } = buildRouting({ namespace: 'default', service: 'reviews', subsets: subsetsFor(reviews), rules: [{ header: { name: 'end-user', op: 'exact', value: 'jason' }, subset: 'v2' }], weights: [{ subset: 'v1', weight: 100 }] }, 'request-routing');
  assert.deepEqual((virtualService.spec as { http: unknown[] }).http, [
    { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v2' } }] },
    { route: [{ destination: { host: 'reviews.default.svc.cluster.local', subset: 'v1' } }] },
  ]);
});

test('the YAML is two documents that pass schema validation and the analyzers with the Bookinfo service', () => {
  const yaml = routingYaml({ namespace: 'default', service: 'reviews', subsets: subsetsFor(reviews), weights: evenWeights(subsetsFor(reviews)) }, 'traffic-shifting');
  assert.equal(parseAllDocuments(yaml).length, 2);
  const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: default}\nspec:\n  selector: {app: reviews}\n  ports: [{name: http, port: 9080}]\n';
  const pods = ['v1', 'v2', 'v3'].map((v) => `---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-${v}, namespace: default}\nspec:\n  selector: {matchLabels: {app: reviews, version: ${v}}}\n  template:\n    metadata: {labels: {app: reviews, version: ${v}}}\n    spec: {containers: [{name: reviews, image: reviews, ports: [{containerPort: 9080}]}]}\n`).join('');
  const loaded = loadText(`${svc}${pods}---\n${yaml}`, 'wizard.yaml');
  assert.deepEqual(loaded.errors, []);
  const { diagnostics } = analyzeResources(loaded.resources);
  assert.deepEqual(diagnostics.filter((d) => d.level === 'Error' || d.resource?.kind === 'VirtualService' || d.resource?.kind === 'DestinationRule'), []);
});
