// One task at a time for the control loops (operator, status writer): a request while the task runs makes exactly one
// more run after it, so a burst of changes coalesces and no two runs overlap.

export class SerialLoop {
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs the task now, or once more after the current run. */
  request(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = (async () => {
      do {
        this.again = false;
        await this.task().catch(this.onError);
      } while (this.again && !this.stopped);
      this.busy = false;
    })();
  }

  /** Resolves once no run is going or due. */
  async idle(): Promise<void> {
    while (this.busy || this.again) await this.running;
  }

  /** No more runs; resolves when the current one ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
