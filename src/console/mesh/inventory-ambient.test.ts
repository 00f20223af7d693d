// The inventory's data-plane mode: Istio's ambient labels (namespace, pod opt-out) against sidecar injection.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../../config/loader.js';
import { buildInventory } from './inventory.js';

/** A one-container Deployment whose pods carry `labels` besides `app`. */
const deployment = (namespace: string, name: string, labels = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}${labels}}}
    spec: {containers: [{name: ${name}, image: ${name}}]}
`;

const YAML = [
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}\n',
  'apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy, labels: {istio-injection: enabled}}\n',
  deployment('shop', 'cart'),
  deployment('shop', 'batch', ', istio.io/dataplane-mode: none'),
  deployment('legacy', 'billing'),
].join('---\n');

test('inventory: ambient namespaces and workloads, a pod that opts out, sidecars elsewhere', () => {
  const { resources } = loadText(YAML, 'mesh.yaml');
  const inv = buildInventory(resources, [], '1');
  assert.equal(inv.namespaces.find((n) => n.name === 'shop')!.ambient, true);
  assert.equal(inv.namespaces.find((n) => n.name === 'legacy')!.ambient, undefined);
  const mode = (name: string) => inv.workloads.find((w) => w.name === name)!;
  assert.equal(mode('cart').dataplaneMode, 'ambient');
  assert.equal(mode('cart').sidecar, false);
  assert.match(mode('cart').ambientReason, /namespace label istio.io\/dataplane-mode=ambient/);
  assert.equal(mode('batch').dataplaneMode, 'none');
  assert.match(mode('batch').ambientReason, /dataplane-mode=none/);
  assert.equal(mode('billing').dataplaneMode, 'sidecar');
});
