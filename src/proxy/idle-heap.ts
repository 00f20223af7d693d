// Gives memory back when the proxy goes quiet: V8 grows its young generation under load (from 1 to 8 MiB of semi-space
// in a sidecar that served a page) and only shrinks it at a garbage collection that sees a low allocation rate, which
// an idle process never runs. Once the process has used almost no CPU for an interval, one full collection lets V8
// shrink it back — about 2–4 MiB of resident memory per idle sidecar — in the spirit of Envoy's shrink_heap overload
// action. V8 shrinks only when its allocation rate over the last 5 s is low, so a collection soon after load may
// not shrink yet: the next quiet intervals try again, a few times at most until the process is busy again. Under
// load nothing happens: the check is a timer every few seconds and two counters.

import v8 from 'node:v8';
import vm from 'node:vm';

export interface IdleHeapOptions {
  /** How often to look (ms). */
  intervalMs?: number;
  /** The CPU share (of one core) below which an interval counts as idle. */
  idleCpu?: number;
}

/** The young generation V8 starts with; above it, there is something to give back. */
const MIN_YOUNG_BYTES = 1024 * 1024;
/** Collections that did not shrink before the watcher waits for the next busy spell. */
const MAX_TRIES = 4;

const youngBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

let gc: (() => void) | undefined;
/** V8's collector, exposed once for this process (`--expose-gc` after start-up applies to contexts created later). */
function collector(): () => void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  return gc;
}

/** Starts watching; returns how to stop, and how many collections it ran. The timer does not keep the process alive. */
export function shrinkHeapWhenIdle(o: IdleHeapOptions = {}): { stop(): void; readonly collections: number } {
  const intervalMs = o.intervalMs ?? 2_500;
  const idleCpu = o.idleCpu ?? 0.01;
  let last = process.cpuUsage();
  let collections = 0;
  let tries = 0;
  const timer = setInterval(() => {
    const used = process.cpuUsage(last);
    last = process.cpuUsage();
    const share = (used.user + used.system) / 1000 / intervalMs;
    if (share >= idleCpu) {
      tries = 0;
      return;
    }
    if (youngBytes() <= MIN_YOUNG_BYTES || tries >= MAX_TRIES) return;
    collector()();
    collections++;
    tries++;
    last = process.cpuUsage(); // the collection's own CPU does not count against the next interval
  }, intervalMs);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get collections() {
      return collections;
    },
  };
}
