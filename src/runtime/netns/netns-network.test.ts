// Two runs side by side (two `trellis up` at once, or two engineers' test runs on one machine): each gets ranges the
// other does not use, its own bridge, and its stop removes only its own objects.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { netnsAvailability } from '../network-mode.js';
import { findObjects } from './cleanup.js';
import { NetnsNetwork } from './netns-network.js';

const netns = netnsAvailability();

test('two live runs get disjoint pod and service ranges; stopping one leaves the other whole', { skip: netns.ok ? false : netns.reason }, async () => {
  const logs: string[] = [];
  const a = NetnsNetwork.start({ family: 'dual', log: (l) => logs.push(l) });
  let b: NetnsNetwork | undefined;
  try {
    b = NetnsNetwork.start({ family: 'dual', log: (l) => logs.push(l) });
    assert.notEqual(a.plan.v4!.podCidr, b.plan.v4!.podCidr);
    assert.notEqual(a.plan.v4!.serviceCidr, b.plan.v4!.serviceCidr);
    assert.notEqual(a.plan.v6!.podCidr, b.plan.v6!.podCidr);
    assert.ok(!logs.some((l) => l.includes(a.prefix)), "b's start did not take a's objects for a crashed run's");
    a.addPod({ key: 'default/p', number: 1, name: 'p', namespace: 'default', annotations: {}, rules: 'capture', dnsCapture: false });
    await a.stop();
    const left = findObjects((p) => p === a.prefix);
    assert.deepEqual([left.netns, left.links, left.etc, left.records], [[], [], [], []]);
    assert.equal(findObjects((p) => p === b!.prefix).links.length, 1, "b's bridge is still there");
  } finally {
    await a.stop();
    await b?.stop();
  }
  assert.equal(findObjects((p) => p === b!.prefix).links.length, 0);
});
