// Time for components that schedule (outlier detection, retries, timeouts, certificate rotation): the real clock, or a manual one that tests advance.

/** A scheduled timer, as the components use it; Node's own Timeout is one. */
export interface Timer {
  /** Lets the process exit while the timer is pending (background sweeps and renewals). */
  unref(): Timer;
}

export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
  setInterval(fn: () => void, ms: number): Timer;
  clearInterval(timer: Timer | undefined): void;
}

/**
 * Node's own functions, not wrappers: a component on the request path pays one property load for its clock and
 * nothing else (no closure, no extra frame, the handle is Node's Timeout). Node's clear functions take any value
 * and ignore what is not one of their timers, hence the casts.
 */
export const realClock: Clock = {
  now: Date.now,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout as Clock['clearTimeout'],
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval as Clock['clearInterval'],
};

/** Node runs a timer whose delay is below 1 ms, above this, or not a number after 1 ms (with a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

class ManualTimer implements Timer {
  cleared = false;
  constructor(
    public due: number,
    public seq: number,
    readonly fn: () => void,
    /** The interval's period; 0 for a one-shot timer. */
    readonly every: number,
  ) {}

  unref(): Timer {
    return this;
  }
}

/**
 * A clock that stands still until `advance(ms)`, which runs the timers that fall due in order of due time (ties in
 * the order they were scheduled), each with `now()` at its due time, including timers scheduled by those timers.
 * Nothing runs on its own, so a test decides exactly when each timeout, back-off or renewal happens.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers: ManualTimer[] = [];

  /** `start`: the initial now(); the real time by default so certificates it dates are valid for real TLS too. */
  constructor(start = Date.now()) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, false);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, true);
  }

  clearTimeout(timer: Timer | undefined): void {
    if (!(timer instanceof ManualTimer) || timer.cleared) return;
    timer.cleared = true;
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }

  clearInterval(timer: Timer | undefined): void {
    this.clearTimeout(timer);
  }

  /** How many timers are scheduled. */
  get pending(): number {
    return this.timers.length;
  }

  /** Milliseconds until the next timer falls due, or undefined when none is scheduled. */
  nextIn(): number | undefined {
    const next = this.peek();
    return next ? next.due - this.t : undefined;
  }

  /** Moves time forward by `ms`, running every timer due by then. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    const target = this.t + ms;
    for (let next = this.peek(); next && next.due <= target; next = this.peek()) {
      this.t = next.due;
      if (next.every > 0) {
        next.due += next.every;
        next.seq = this.seq++;
      } else {
        this.timers.splice(this.timers.indexOf(next), 1);
        next.cleared = true;
      }
      next.fn();
    }
    this.t = target;
  }

  private add(fn: () => void, ms: number, repeat: boolean): Timer {
    const delay = ms >= 1 && ms <= MAX_TIMER_MS ? ms : 1;
    const timer = new ManualTimer(this.t + delay, this.seq++, fn, repeat ? delay : 0);
    this.timers.push(timer);
    return timer;
  }

  private peek(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    return best;
  }
}
