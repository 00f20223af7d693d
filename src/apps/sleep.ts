// The sleep stand-in (`/bin/sleep infinity` in curlimages/curl pods): waits for the given time, or forever, and exits 0 on SIGTERM/SIGINT.

import { isMain } from './lib/serve.js';

/** GNU sleep's argument: a number with an optional s/m/h/d suffix, or `infinity`. Returns milliseconds (Infinity for forever). */
export function parseSleep(args: readonly string[]): number {
  if (args.length === 0) return Infinity;
  let total = 0;
  for (const arg of args) {
    if (/^inf(inity)?$/i.test(arg)) return Infinity;
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
    if (!m) throw new Error(`invalid time interval '${arg}'`);
    const unit = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
    total += Number(m[1]) * unit;
  }
  return total;
}

/** Sleeps until `ms` pass (never, for Infinity) or SIGTERM/SIGINT arrives; resolves with the exit code. */
export function sleep(ms: number): Promise<number> {
  return new Promise((resolve) => {
    // A long-period interval keeps the event loop alive without busy work.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const timer = Number.isFinite(ms) ? setTimeout(() => done(0), Math.min(ms, 2 ** 31 - 1)) : undefined;
    const onSignal = (): void => done(0);
    function done(code: number): void {
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(code);
    }
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // When started with an IPC channel (tests), say the signal handlers are in place.
    if (process.send) {
      process.send('ready');
      process.channel?.unref();
    }
  });
}

if (isMain(import.meta.url)) {
  let ms: number;
  try {
    ms = parseSleep(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sleep: ${(err as Error).message}\n`);
    process.exit(1);
  }
  sleep(ms).then((code) => process.exit(code));
}
