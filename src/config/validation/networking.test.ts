// The networking.istio.io validators as a whole: every kind is registered, every API version is read alike, and Istio's samples pass.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KINDS } from '../kinds.js';
import { loadPaths } from '../loader.js';
import { resourceLabel } from '../resource.js';
import { networkingValidators } from './networking.js';
import { issuesOf, manifest } from './testing.js';
import { istioSamplesDir } from '../../samples.js';

const SAMPLES = istioSamplesDir();

test('every networking.istio.io kind in the catalogue has a validator', () => {
  const kinds = KINDS.filter((k) => k.group === 'networking.istio.io').map((k) => `${k.group}/${k.kind}`);
  assert.ok(kinds.length >= 8);
  for (const key of kinds) assert.ok(networkingValidators[key], `validator for ${key}`);
});

test('v1alpha3, v1beta1 and v1 are validated the same way', () => {
  const body = 'spec:\n  host: reviews\n  subsets:\n  - name: V1\n    labels: {version: v1}';
  const results = ['v1alpha3', 'v1beta1', 'v1'].map((version) => issuesOf(networkingValidators, manifest(`networking.istio.io/${version}`, 'DestinationRule', body)));
  assert.equal(results[0]!.length, 1);
  assert.equal(results[0]![0]!.path, '/spec/subsets/0/name');
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
});

test('messages name the field the way people write it', () => {
  const yaml = manifest('networking.istio.io/v1', 'VirtualService', 'spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: 60\n    - destination: {host: b}\n      weight: 30');
  const [issue] = issuesOf(networkingValidators, yaml);
  assert.equal(issue?.message, 'spec.http[0].route: total weight is 90, not 100; traffic is split in proportion to the weights');
});

test('a null field reads as unset, as Kubernetes prunes it', () => {
  const yaml = manifest('networking.istio.io/v1', 'DestinationRule', 'spec:\n  host: reviews\n  trafficPolicy:\n  subsets:');
  assert.deepEqual(issuesOf(networkingValidators, yaml), []);
});

test('every upstream sample of networking.istio.io validates without an Error', async () => {
  const { resources, errors } = await loadPaths([SAMPLES]);
  assert.deepEqual(errors, [], 'the samples load');
  let checked = 0;
  const problems: string[] = [];
  for (const r of resources) {
    const validate = networkingValidators[`${r.group}/${r.kind}`];
    if (!validate) continue;
    checked++;
    for (const issue of validate(r)) {
      if (issue.level === 'Error') problems.push(`${r.source?.file}: ${resourceLabel(r)}: ${issue.message}`);
    }
  }
  // Guard against a vacuous pass: Bookinfo's networking folder alone holds dozens of these objects.
  assert.ok(checked >= 30, `expected at least 30 networking objects in the samples, found ${checked}`);
  assert.deepEqual(problems, []);
});
