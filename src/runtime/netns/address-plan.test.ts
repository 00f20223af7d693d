// The pod network's address plan: per-run ranges that avoid the host's routes and other runs, both families.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayAddresses, planAddresses, podAddresses, serviceAddresses } from './address-plan.js';

test('IPv4: the first free pair of /20s in 10.200.0.0/13, skipping what the host or another run uses', () => {
  const free = planAddresses('ipv4', ['192.0.2.0/24']);
  assert.deepEqual(free.v4, { podCidr: '10.200.0.0/20', gateway: '10.200.0.1', serviceCidr: '10.200.16.0/20', prefixLen: 20 });
  assert.equal(free.v6, undefined);
  const taken = planAddresses('ipv4', ['10.200.0.0/20', '10.200.40.7/32', '10.0.0.0/16']);
  assert.equal(taken.v4!.podCidr, '10.200.64.0/20', 'the pairs holding 10.200.0.0/20 and 10.200.40.7 are skipped');
  assert.throws(() => planAddresses('ipv4', ['10.0.0.0/8']), /no free \/20 pair/);
  assert.deepEqual(podAddresses(free, 2), ['10.200.0.2']);
  assert.deepEqual(serviceAddresses(free, 1), ['10.200.16.1']);
  assert.deepEqual(gatewayAddresses(free), ['10.200.0.1/20']);
});

test('IPv6 and dual stack: a random ULA /48 (fd…), pods in its first /64, services in a /112; IPv4 first in dual stack', () => {
  const v6 = planAddresses('ipv6', []);
  assert.equal(v6.v4, undefined);
  assert.match(v6.v6!.podCidr, /^fd[0-9a-f]{2}:[0-9a-f]{4}:[0-9a-f]{4}::\/64$/);
  const ula = v6.v6!.podCidr.slice(0, -5);
  assert.deepEqual(podAddresses(v6, 2), [`${ula}::2`]);
  assert.deepEqual(podAddresses(v6, 300), [`${ula}::12c`]);
  assert.deepEqual(serviceAddresses(v6, 1), [`${ula}:1::1`]);
  const dual = planAddresses('dual', []);
  const [a4, a6] = podAddresses(dual, 2);
  assert.equal(a4, '10.200.0.2');
  assert.match(a6!, /^fd.*::2$/);
  assert.equal(serviceAddresses(dual, 3).length, 2);
});
