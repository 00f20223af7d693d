// Named loggers with Envoy's levels, changed at runtime through the admin /logging endpoint; cheap level checks on the hot path.

export const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type Level = (typeof LEVELS)[number];

export const LOGGER_NAMES = ['admin', 'config', 'connection', 'http', 'http2', 'router', 'upstream', 'pool', 'tcp', 'filter', 'main'] as const;

/** Names the process in every line when a proxy runs several (`[worker 2]`); empty in a single-process proxy. */
let processTag = '';

export function setProcessTag(tag: string): void {
  processTag = tag ? `[${tag}]` : '';
}

export class Logger {
  /** Index into LEVELS; messages below it are dropped before any formatting. */
  threshold: number = LEVELS.indexOf('info');
  constructor(readonly name: string) {}

  get level(): Level {
    return LEVELS[this.threshold]!;
  }

  enabled(level: Level): boolean {
    return LEVELS.indexOf(level) >= this.threshold;
  }

  private write(level: Level, msg: string): void {
    process.stderr.write(`[${new Date().toISOString()}]${processTag}[${level}][${this.name}] ${msg}\n`);
  }

  trace(msg: string | (() => string)): void {
    if (this.threshold <= 0) this.write('trace', typeof msg === 'function' ? msg() : msg);
  }
  debug(msg: string | (() => string)): void {
    if (this.threshold <= 1) this.write('debug', typeof msg === 'function' ? msg() : msg);
  }
  info(msg: string): void {
    if (this.threshold <= 2) this.write('info', msg);
  }
  warn(msg: string): void {
    if (this.threshold <= 3) this.write('warning', msg);
  }
  error(msg: string): void {
    if (this.threshold <= 4) this.write('error', msg);
  }
}

const loggers = new Map<string, Logger>();

export function log(name: string): Logger {
  let l = loggers.get(name);
  if (!l) loggers.set(name, (l = new Logger(name)));
  return l;
}

for (const n of LOGGER_NAMES) log(n);

export function allLoggers(): Logger[] {
  return [...loggers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Sets one logger (or all when `name` is undefined); false when the level or logger is unknown. */
export function setLevel(level: string, name?: string): boolean {
  const i = LEVELS.indexOf(level as Level);
  if (i < 0) return false;
  if (name === undefined) {
    for (const l of loggers.values()) l.threshold = i;
    return true;
  }
  const l = loggers.get(name);
  if (!l) return false;
  l.threshold = i;
  return true;
}
