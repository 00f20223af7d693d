// The push queue: small pushes finish synchronously, large ones yield between slices, and a proxy asked for twice
// while it waits is pushed once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushQueue, type PushBatch } from './push-queue.js';

test('a push that fits in one slice is done when add returns', () => {
  const pushed: string[] = [];
  const batches: PushBatch[] = [];
  const q = new PushQueue<string>((p) => (pushed.push(p), 2), (b) => batches.push(b));
  q.add('edit', ['a', 'b']);
  assert.deepEqual(pushed, ['a', 'b']);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.reached, 2);
  assert.equal(batches[0]!.sent, 4);
  assert.equal(q.busy, false);
});

test('a large push yields to the event loop between slices; requests meanwhile merge into it', async () => {
  const pushed: string[] = [];
  let drained: PushBatch | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  // A slice of 0 ms: one proxy per turn of the event loop.
  const q = new PushQueue<string>((p) => (pushed.push(p), 1), (b) => ((drained = b), done()), 0);
  q.add('first', ['a', 'b', 'c']);
  assert.deepEqual(pushed, ['a'], 'the rest waits for the next turn');
  assert.equal(q.busy, true);
  q.add('second', ['c', 'd']); // c is already waiting: pushed once, with whatever config is newest then
  await finished;
  assert.deepEqual(pushed, ['a', 'b', 'c', 'd']);
  assert.deepEqual([...drained!.reasons], ['first', 'second']);
  assert.equal(drained!.reached, 4);
});

test('clear drops what is waiting', async () => {
  const pushed: string[] = [];
  const q = new PushQueue<string>((p) => (pushed.push(p), 1), () => assert.fail('not drained after clear'), 0);
  q.add('x', ['a', 'b', 'c']);
  q.clear();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(pushed, ['a']);
  assert.equal(q.busy, false);
});
