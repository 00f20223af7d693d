// A cheaper AsyncResource.prototype.bind for the proxy process, because node:http2 calls it on every upstream request.
//
// Node 20's ClientHttp2Session.request() wraps each new stream's connect callback with `AsyncResource#bind`, and that
// bind defines the deprecated `asyncResource` accessor (DEP0172) through two `util.deprecate()` wrappers and
// Object.defineProperties. A CPU profile of the gRPC bench path (one hop, 1000 rps) put 10.7% of the proxy's busy time
// in that bind alone. The replacement keeps what a bound function does (run `fn` in the resource's async scope, with
// the same `this` and arguments) and exposes `asyncResource` as a plain property without the deprecation wrappers.
//
// The HTTP/2 upstream pool installs it when it is first created, so a process that never proxies to an HTTP/2
// upstream keeps Node's own bind. TRELLIS_LEAN_ASYNC_BIND=0 leaves Node's bind in place (for A/B comparisons).

import { AsyncResource } from 'node:async_hooks';

let installed = false;

export function installLeanAsyncBind(): boolean {
  if (installed || process.env.TRELLIS_LEAN_ASYNC_BIND === '0') return installed;
  const proto = AsyncResource.prototype as AsyncResource & { bind: typeof AsyncResource.prototype.bind };
  proto.bind = function leanBind<Func extends (...args: any[]) => any>(this: AsyncResource, fn: Func, thisArg?: unknown): Func {
    if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function');
    const resource = this;
    const bound =
      thisArg === undefined
        ? function (this: unknown, ...args: unknown[]) {
            return resource.runInAsyncScope(fn, this, ...args);
          }
        : function (...args: unknown[]) {
            return resource.runInAsyncScope(fn, thisArg, ...args);
          };
    (bound as unknown as { asyncResource: AsyncResource }).asyncResource = resource;
    return bound as unknown as Func;
  } as typeof proto.bind;
  installed = true;
  return true;
}
