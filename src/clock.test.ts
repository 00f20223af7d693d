// The manual clock runs timers only when advanced, in due order, with Node's delay rules; the real clock is Node's own.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, MAX_TIMER_MS, realClock } from './clock.js';

test('the real clock hands out Node timers', async () => {
  assert.ok(Math.abs(realClock.now() - Date.now()) < 1_000);
  const fired = await new Promise<boolean>((resolve) => {
    const t = realClock.setTimeout(() => resolve(true), 1);
    assert.equal(typeof (t as NodeJS.Timeout).refresh, 'function');
  });
  assert.equal(fired, true);
  let ran = false;
  realClock.clearTimeout(realClock.setTimeout(() => (ran = true), 1));
  const interval = realClock.setInterval(() => (ran = true), 1);
  realClock.clearInterval(interval);
  await new Promise((r) => setImmediate(r));
  assert.equal(ran, false);
});

test('nothing runs until advance(); then due timers run in order, each seeing its own due time', () => {
  const clock = new ManualClock(1_000);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20);
  assert.deepEqual(seen, []);
  assert.equal(clock.pending, 3);
  assert.equal(clock.nextIn(), 10);
  clock.advance(9);
  assert.deepEqual(seen, []);
  assert.equal(clock.now(), 1_009);
  clock.advance(11);
  assert.deepEqual(seen, ['a@1010', 'b@1020', 'c@1020']);
  assert.equal(clock.pending, 0);
  assert.equal(clock.nextIn(), undefined);
});

test('timers scheduled by timers run in the same advance when they fall due within it', () => {
  const clock = new ManualClock(0);
  const seen: number[] = [];
  const chain = (n: number) => {
    seen.push(clock.now());
    if (n > 0) clock.setTimeout(() => chain(n - 1), 5);
  };
  clock.setTimeout(() => chain(3), 5);
  clock.advance(17);
  assert.deepEqual(seen, [5, 10, 15]);
  assert.equal(clock.nextIn(), 3);
  clock.advance(3);
  assert.deepEqual(seen, [5, 10, 15, 20]);
});

test('intervals repeat until cleared, also from their own callback', () => {
  const clock = new ManualClock(0);
  const ticks: number[] = [];
  const interval = clock.setInterval(() => {
    ticks.push(clock.now());
    if (ticks.length === 3) clock.clearInterval(interval);
  }, 50);
  clock.advance(1_000);
  assert.deepEqual(ticks, [50, 100, 150]);
  assert.equal(clock.pending, 0);
});

test('a cleared timer never runs; clearing twice or clearing a foreign handle is harmless', () => {
  const clock = new ManualClock(0);
  let ran = 0;
  const t = clock.setTimeout(() => ran++, 10);
  clock.clearTimeout(t);
  clock.clearTimeout(t);
  clock.clearTimeout(undefined);
  clock.clearTimeout(setTimeout(() => undefined, 0).unref());
  clock.advance(100);
  assert.equal(ran, 0);
  assert.equal(t.unref(), t);
});

test('Node\'s delay rules: below 1 ms, past 2^31-1 ms or NaN means 1 ms', () => {
  const clock = new ManualClock(0);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push('zero'), 0);
  clock.setTimeout(() => seen.push('huge'), MAX_TIMER_MS + 1);
  clock.setTimeout(() => seen.push('nan'), Number.NaN);
  clock.setTimeout(() => seen.push('max'), MAX_TIMER_MS);
  clock.advance(0);
  assert.deepEqual(seen, []);
  clock.advance(1);
  assert.deepEqual(seen, ['zero', 'huge', 'nan']);
  clock.advance(MAX_TIMER_MS);
  assert.deepEqual(seen, ['zero', 'huge', 'nan', 'max']);
  assert.throws(() => clock.advance(-1), RangeError);
});
