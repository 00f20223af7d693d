import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestId } from './request-id.js';

test('request ids are distinct version-4 UUIDs, across pool refills', () => {
  const seen = new Set<string>();
  const bits = new Array<number>(122).fill(0);
  for (let i = 0; i < 1000; i++) {
    const id = requestId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
    // every random bit takes both values (a stuck byte in the pool or the hex table would not)
    const hex = id.replace(/-/g, '');
    let k = 0;
    for (let n = 0; n < 32; n++) {
      if (n === 12) continue; // version nibble
      const v = parseInt(hex[n]!, 16);
      for (let b = n === 16 ? 1 : 3; b >= 0; b--) if (k < bits.length) bits[k++]! += (v >> b) & 1;
    }
  }
  assert.equal(seen.size, 1000);
  assert.ok(bits.every((c) => c > 300 && c < 700), 'every random bit is set about half the time');
});
