// Giving memory back when idle: a young generation grown by allocation shrinks to V8's minimum once the process has
// been quiet for an interval, and not while it is busy.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { shrinkHeapWhenIdle } from './idle-heap.js';
import { waitFor } from './testing.js';

const youngMiB = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 2 ** 20;

test('a young generation grown under load shrinks back once the process is idle, not while it is busy', async () => {
  // A short interval, and a threshold the test's own polling stays under.
  const watcher = shrinkHeapWhenIdle({ intervalMs: 500, idleCpu: 0.25 });
  try {
    // Load: short-lived objects that survive a while make V8 grow the semi-spaces.
    let keep: unknown[] = [];
    const started = Date.now();
    while (youngMiB() <= 1 && Date.now() - started < 10_000) {
      for (let i = 0; i < 20_000; i++) keep.push({ i, s: `x${i}` });
      if (keep.length > 200_000) keep = [];
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(youngMiB() > 1, `the young generation grew (${youngMiB()} MiB)`);
    keep = [];
    // Busy for two intervals: the check that follows sees a busy process and leaves the heap alone.
    const until = Date.now() + 1000;
    while (Date.now() < until) Math.sqrt(Math.random());
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(watcher.collections, 0);
    // V8 shrinks once its allocation rate over the last 5 s is low: within a few quiet intervals.
    await waitFor(() => youngMiB() === 1, 15_000, 'the young generation back to 1 MiB');
    assert.ok(watcher.collections > 0);
  } finally {
    watcher.stop();
  }
});
