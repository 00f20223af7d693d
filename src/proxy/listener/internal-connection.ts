// Envoy's internal connections: an upstream connection to an internal listener (`envoy_internal_address`) is a pair of
// in-process streams, one end for the upstream side, the other served by the internal listener as a downstream
// connection. Each end looks enough like a net.Socket for the layers above (bytes counted, `connect` emitted, no-op
// socket options), and a half-close on one end is an end of the other.

import { Duplex } from 'node:stream';

/** One end of an in-process connection. */
export class InternalSocket extends Duplex {
  peer!: InternalSocket;
  bytesRead = 0;
  bytesWritten = 0;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  connecting = true;
  private wantsData = false;
  private readonly waiting: Array<{ chunk: Buffer; callback: (error?: Error | null) => void }> = [];

  constructor(addresses: { local?: { address: string; port: number }; remote?: { address: string; port: number } } = {}) {
    super({ allowHalfOpen: true });
    this.localAddress = addresses.local?.address;
    this.localPort = addresses.local?.port;
    this.remoteAddress = addresses.remote?.address;
    this.remotePort = addresses.remote?.port;
  }

  // Flow control: a write is taken once the other end wants data (its push() returned true or it asked to read).
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.peer.bytesRead += chunk.length;
    if (this.peer.destroyed) return callback(new Error('the other end of the internal connection is closed'));
    if (this.peer.wantsData) {
      this.peer.wantsData = this.peer.push(chunk);
      callback();
    } else this.peer.waiting.push({ chunk, callback });
  }

  override _read(): void {
    this.wantsData = true;
    while (this.wantsData && this.waiting.length) {
      const { chunk, callback } = this.waiting.shift()!;
      this.wantsData = this.push(chunk);
      callback();
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const w of this.waiting.splice(0)) w.callback(new Error('internal connection closed'));
    // Closing one end closes the other: after both ends ended that is the clean close; before, the other side sees its
    // stream close without an end, as a reset.
    // A listener that drops the connection before it was established refuses it, as a closed port would.
    const refused = this.peer.connecting ? Object.assign(new Error('the internal listener closed the connection'), { code: 'ECONNREFUSED' }) : undefined;
    if (!this.peer.destroyed) this.peer.destroy(error ?? refused);
    callback(error);
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  destroySoon(): void {
    this.end();
  }
}

/** A connected pair: `[upstream end, downstream end]`; `connect` is emitted on the upstream end on the next tick. */
export function internalConnectionPair(addresses: { local: { address: string; port: number }; remote: { address: string; port: number } }): [InternalSocket, InternalSocket] {
  const up = new InternalSocket({ local: addresses.remote, remote: addresses.local });
  const down = new InternalSocket({ local: addresses.local, remote: addresses.remote });
  up.peer = down;
  down.peer = up;
  down.connecting = false;
  setImmediate(() => {
    up.connecting = false;
    if (!up.destroyed) up.emit('connect');
  });
  return [up, down];
}
