// The loopback address plan: pods, their apps and the gateway never share an address, whatever the pod count.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appAddress, gatewayAddress, MAX_PODS, podAddress } from './addresses.js';

test('pods count up from 127.<base>.0.1, apps one block up, the gateway past the last pod', () => {
  assert.equal(podAddress(10, 1), '127.10.0.1');
  assert.equal(podAddress(10, 256), '127.10.1.0');
  assert.equal(appAddress(10, 1), '127.11.0.1');
  assert.equal(gatewayAddress(10), '127.10.255.1');
  assert.equal(podAddress(10, MAX_PODS), '127.10.254.255');
  const pods = new Set(Array.from({ length: MAX_PODS }, (_, i) => podAddress(30, i + 1)));
  assert.equal(pods.size, MAX_PODS);
  assert.equal(pods.has(gatewayAddress(30)), false);
  assert.throws(() => podAddress(10, MAX_PODS + 1), RangeError);
  assert.throws(() => podAddress(10, 0), RangeError);
  assert.throws(() => appAddress(255, 1), RangeError, 'apps need the block above');
});
