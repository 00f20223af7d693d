// Two byte streams joined both ways (a captured connection and its tunnel or upstream), with TCP's half-close carried
// through and the bytes counted; either side failing takes the other down.

import type { Duplex } from 'node:stream';

export interface Bridged {
  /** Resolves once both sides closed: bytes that went a → b and b → a. */
  closed: Promise<{ aToB: number; bToA: number }>;
}

export function bridge(a: Duplex, b: Duplex): Bridged {
  let aToB = 0;
  let bToA = 0;
  a.on('data', (chunk: Buffer) => (aToB += chunk.length));
  b.on('data', (chunk: Buffer) => (bToA += chunk.length));
  a.pipe(b);
  b.pipe(a);
  // An error (a reset, a failed tunnel) on one side resets the other; a clean close was already carried by end().
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  const done = (s: Duplex) => new Promise<void>((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve())));
  a.once('close', () => {
    if (!a.readableEnded) b.destroy();
  });
  b.once('close', () => {
    if (!b.readableEnded) a.destroy();
  });
  return { closed: Promise.all([done(a), done(b)]).then(() => ({ aToB, bToA })) };
}
