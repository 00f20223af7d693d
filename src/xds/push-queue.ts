// Pushes to many proxies in slices of a few milliseconds: the responses of the first proxies go on the wire while
// the rest are still being prepared, and ACKs and new streams are served during a large push. A proxy asked for
// again while it waits is pushed once, with the newest config (Istio's push queue merges requests the same way).

/** What one run of the queue did, from the first request until nothing was left waiting. */
export interface PushBatch {
  reasons: Set<string>;
  /** Proxies pushed (each once, however many requests named it). */
  reached: number;
  /** Responses sent. */
  sent: number;
  start: number;
}

export class PushQueue<T> {
  private readonly waiting = new Set<T>();
  private batch: PushBatch | undefined;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    /** Push to one proxy; returns how many responses it sent. */
    private readonly pushOne: (item: T) => number,
    /** Called when the queue has drained. */
    private readonly drained: (batch: PushBatch) => void,
    /** Work done before yielding to the event loop. Small enough that ACKs are not held up for long. */
    private readonly sliceMs = 10,
  ) {}

  /** A push is under way (proxies are waiting for their slice). */
  get busy(): boolean {
    return this.batch !== undefined;
  }

  /** Queue proxies for a push; the first slice runs now, so a small push has finished when this returns. */
  add(reason: string, items: Iterable<T>): void {
    const batch = (this.batch ??= { reasons: new Set(), reached: 0, sent: 0, start: performance.now() });
    batch.reasons.add(reason);
    for (const item of items) this.waiting.add(item); // one already waiting keeps its place
    if (!this.scheduled) this.run();
  }

  /** Drop everything waiting (the server is closing). */
  clear(): void {
    this.waiting.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.batch = undefined;
  }

  private run(): void {
    this.scheduled = undefined;
    const batch = this.batch!;
    const until = performance.now() + this.sliceMs;
    for (const item of this.waiting) {
      this.waiting.delete(item);
      batch.reached++;
      batch.sent += this.pushOne(item);
      if (this.waiting.size && performance.now() >= until) {
        this.scheduled = setImmediate(() => this.run());
        return;
      }
    }
    this.batch = undefined;
    this.drained(batch);
  }
}
