// The downstream request body: streamed to the current upstream attempt with backpressure, buffered (up to a limit) for retries and mirrors.

import type { DownstreamRequest } from './http-stream.js';
import type { UpstreamStream } from '../upstream/pool.js';

/** Envoy buffers up to the connection buffer limit (1 MiB by default) to replay a body. */
export const DEFAULT_BUFFER_LIMIT = 1024 * 1024;

export class RequestBody {
  private chunks: Buffer[] = [];
  size = 0;
  ended = false;
  /** Too large to keep: the body can be sent once, never replayed. */
  overflowed = false;
  private sink: UpstreamStream | undefined;
  /** Chunks already delivered to the current sink (they are in `chunks` too while buffering). */
  private waitingForDrain = false;
  private readonly endWaiters: Array<() => void> = [];
  /** Filters waiting for the first bytes of the body before the router runs (ext_authz with_request_body). */
  private sizeWaiters: Array<{ bytes: number; cb: () => void }> = [];

  constructor(private readonly req: DownstreamRequest, private limit: number, private readonly onBytes: (n: number) => void) {
    req.on('data', (chunk: Buffer) => this.onData(chunk));
    req.on('end', () => this.onEnd());
  }

  /** Replayable: either nothing was dropped yet or the body was never streamed past the limit. */
  get replayable(): boolean {
    return !this.overflowed;
  }

  private onData(chunk: Buffer): void {
    this.onBytes(chunk.length);
    this.size += chunk.length;
    if (!this.overflowed) {
      if (this.size > this.limit && this.sink) {
        // Past the limit with an attempt consuming it: stop buffering, give up replay.
        this.overflowed = true;
        this.chunks = [];
      } else {
        this.chunks.push(chunk);
        this.wakeSizeWaiters();
        if (this.size > this.limit) {
          // no attempt yet: hold the client until one takes the data
          this.req.pause();
          return;
        }
      }
    }
    const sink = this.sink;
    if (sink && !sink.write(chunk) && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.req.pause();
      sink.onceDrain(() => {
        this.waitingForDrain = false;
        if (this.sink === sink) this.req.resume();
      });
    }
  }

  private onEnd(): void {
    this.ended = true;
    this.sink?.end();
    for (const w of this.endWaiters.splice(0)) w();
    this.wakeSizeWaiters();
  }

  private wakeSizeWaiters(): void {
    if (!this.sizeWaiters.length) return;
    const ready = this.sizeWaiters.filter((w) => this.ended || this.size >= w.bytes);
    if (!ready.length) return;
    this.sizeWaiters = this.sizeWaiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.cb();
  }

  /**
   * Calls `cb` once `bytes` have been buffered or the body ended, whichever comes first. Only meaningful before an
   * attempt takes the body (the reader holds the client once `limit` is passed, so choose limit >= bytes).
   */
  whenBuffered(bytes: number, cb: () => void): void {
    if (this.ended || this.size >= bytes) cb();
    else this.sizeWaiters.push({ bytes, cb });
  }

  /** The buffered chunks so far (what a filter inspects before the router forwards them). */
  get buffered(): readonly Buffer[] {
    return this.chunks;
  }

  /** How much to keep for replay from now on (a body read early by a filter is handed to the router this way). */
  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** Sends what was received so far to `stream` and streams the rest as it comes. */
  attach(stream: UpstreamStream): void {
    this.sink = stream;
    this.waitingForDrain = false;
    for (const c of this.chunks) stream.write(c);
    if (this.overflowed) {
      // only the first attempt can take an overflowed body, which it already has
    }
    if (this.ended) stream.end();
    else this.req.resume();
  }

  detach(stream: UpstreamStream): void {
    if (this.sink === stream) this.sink = undefined;
  }

  /** The whole body, once it has arrived (undefined if it could not be kept). */
  whenComplete(cb: (body: Buffer[] | undefined) => void): void {
    const done = () => cb(this.overflowed ? undefined : this.chunks);
    if (this.ended) done();
    else this.endWaiters.push(done);
  }
}
