import assert from 'node:assert/strict';
import { AsyncLocalStorage, AsyncResource, executionAsyncId } from 'node:async_hooks';
import { test } from 'node:test';
import { installLeanAsyncBind } from './lean-async-bind.js';

test('the lean AsyncResource bind keeps the async scope, this and arguments of a bound function', () => {
  installLeanAsyncBind();
  const als = new AsyncLocalStorage<string>();
  let resource!: AsyncResource;
  const fn = function (this: unknown, a: number, b: number) {
    return { store: als.getStore(), self: this, sum: a + b, id: executionAsyncId() };
  };
  const boundBoth = als.run('request-1', () => {
    resource = new AsyncResource('Test');
    return { plain: resource.bind(fn), withThis: (resource.bind as (f: typeof fn, self: unknown) => typeof fn)(fn, 'fixed') };
  });
  assert.equal(als.getStore(), undefined);
  const holder = { f: boundBoth.plain };
  const r1 = holder.f(1, 2);
  assert.deepEqual([r1.store, r1.self, r1.sum, r1.id], ['request-1', holder, 3, resource.asyncId()]);
  const r2 = boundBoth.withThis.call({ other: true }, 5, 6);
  assert.deepEqual([r2.store, r2.self, r2.sum], ['request-1', 'fixed', 11]);
  assert.equal((boundBoth.plain as unknown as { asyncResource: AsyncResource }).asyncResource, resource);
  assert.throws(() => resource.bind(42 as unknown as () => void), TypeError);
});
