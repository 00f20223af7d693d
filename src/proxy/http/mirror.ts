// Request mirroring: a fire-and-forget copy to the mirror cluster, authority suffixed "-shadow"; its outcome never affects the request.

import type { IncomingHttpHeaders } from 'node:http';
import type { Clock, Timer } from '../../clock.js';
import type { HeaderMap } from '../config/header-mutation.js';
import type { CompiledMirror } from '../config/route-action.js';
import { sample } from '../config/values.js';
import { log } from '../log.js';
import type { UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from '../upstream/pool.js';
import { OVERFLOW } from '../upstream/upstream-cluster.js';
import type { HttpStream } from './http-stream.js';
import type { RequestBody } from './request-body.js';

const logger = log('router');

/** "reviews:9080" → "reviews-shadow:9080"; "[::1]:80" → "[::1]-shadow:80" is not meaningful, so IPv6 literals get the suffix after the bracket. */
export function shadowAuthority(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return `${authority.slice(0, close + 1)}-shadow${authority.slice(close + 1)}`;
  }
  const colon = authority.indexOf(':');
  return colon < 0 ? `${authority}-shadow` : `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}

class MirrorHandler implements UpstreamHandler {
  timer: Timer | undefined;
  stream: UpstreamStream | undefined;
  constructor(private readonly chunks: Buffer[] | undefined, private readonly clock: Clock) {}
  onStart(s: UpstreamStream): void {
    this.stream = s;
    if (this.chunks) for (const c of this.chunks) s.write(c);
    s.end();
  }
  onResponse(_status: number, _headers: IncomingHttpHeaders, _endStream: boolean): void {}
  onData(): void {}
  onEnd(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
  onError(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}

export function startMirrors(stream: HttpStream, mirrors: readonly CompiledMirror[], spec: UpstreamRequestSpec, body: RequestBody | undefined, hash: number | undefined, timeoutMs: number): void {
  for (const m of mirrors) {
    if (!sample(m.fraction)) continue;
    const name = m.cluster ?? (m.clusterHeader ? stream.header(m.clusterHeader) : undefined);
    const cluster = name ? stream.hcm.runtime.cluster(name) : undefined;
    if (!cluster) {
      logger.debug(`mirror cluster ${String(name)} not found`);
      continue;
    }
    const headers: HeaderMap = { ...spec.headers };
    const authority = m.appendShadowSuffix ? shadowAuthority(spec.authority) : spec.authority;
    headers.host = authority;
    const send = (chunks: Buffer[] | undefined) => {
      if (body && !chunks) return; // the body could not be kept: Envoy skips the shadow too
      const host = cluster.chooseHost(hash);
      if (!host) return;
      const clock = stream.hcm.runtime.clock;
      const handler = new MirrorHandler(chunks, clock);
      const mirrorSpec: UpstreamRequestSpec = { method: spec.method, path: stream.path, authority, headers, hasBody: !!chunks && chunks.length > 0 };
      const protocol = cluster.config.protocol === 'http2' ? 'http2' : cluster.config.protocol === 'downstream' && stream.protocol === 'HTTP/2' ? 'http2' : 'http1';
      const handle = cluster.dispatch(host, protocol, mirrorSpec, handler);
      if (handle === OVERFLOW) return;
      const limit = timeoutMs > 0 ? timeoutMs : 15_000;
      handler.timer = clock.setTimeout(() => handle.abort(), limit);
      handler.timer.unref();
    };
    if (body) body.whenComplete(send);
    else send(undefined);
  }
}
