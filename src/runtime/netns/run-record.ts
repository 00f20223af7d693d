// Which pod-network runs are alive: every run writes a record (its prefix, pid and the pid's start time) under
// /run/trellis/netns before it creates anything, so a later start can tell a crashed run's leftovers (record gone, or
// its process gone) from another live run's, and remove only the former.

import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const RUN_DIR = '/run/trellis/netns';
/** Every name Trellis gives a namespace, link, rule comment or /etc/netns folder starts with `trl` and a run id. */
export const NAME_PREFIX = 'trl';
const PREFIX_RE = /^trl[0-9a-f]{5}/;

export interface RunRecord {
  /** `trl` + 5 hex digits: short enough that `<prefix>h<pod>` fits Linux's 15-character interface names. */
  prefix: string;
  pid: number;
  /** The pid's start time (clock ticks since boot, /proc/<pid>/stat field 22): a reused pid is not the run. */
  startTime: string;
  /** What the run reserved, so concurrent runs pick other ranges. */
  podCidr4?: string;
  serviceCidr4?: string;
  ula?: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The run prefix a name belongs to, if it is one of Trellis's. */
export function prefixOf(name: string): string | undefined {
  return PREFIX_RE.exec(name)?.[0];
}

export function readRuns(dir = RUN_DIR): RunRecord[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: RunRecord[] = [];
  // Folders without a record (a crash between the two) count as runs too, so they are found and removed.
  for (const d of readdirSync(dir).filter((f) => f.endsWith('.d') && !files.includes(`${f.slice(0, -2)}.json`))) out.push({ prefix: d.slice(0, -2), pid: 0, startTime: '' });
  for (const f of files) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
    } catch {
      // A record cut short by a crash: its prefix (the file name) still marks the run as dead.
      out.push({ prefix: f.slice(0, -5), pid: 0, startTime: '' });
    }
  }
  return out;
}

export function isAlive(r: RunRecord): boolean {
  return r.pid > 0 && startTimeOf(r.pid) === r.startTime;
}

/** Prefixes of runs whose process is still there (their objects must be left alone). */
export function livePrefixes(dir = RUN_DIR): Set<string> {
  return new Set(readRuns(dir).filter(isAlive).map((r) => r.prefix));
}

/**
 * Runs `fn` holding the runs' lock (an exclusive file beside the records), so two runs starting at once do not pick
 * the same address ranges. A lock older than 10 s belongs to a start that died: it is taken over.
 */
export function withRunLock<T>(fn: () => T, dir = RUN_DIR): T {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another starting run`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A new run of this process, recorded before anything is created. */
export function newRun(fields: Omit<RunRecord, 'prefix' | 'pid' | 'startTime'>, dir = RUN_DIR): RunRecord {
  mkdirSync(dir, { recursive: true });
  const taken = new Set(readRuns(dir).map((r) => r.prefix));
  let prefix: string;
  do prefix = NAME_PREFIX + randomBytes(3).toString('hex').slice(0, 5);
  while (taken.has(prefix));
  const record: RunRecord = { prefix, pid: process.pid, startTime: startTimeOf(process.pid) ?? '', ...fields };
  writeRun(record, dir);
  return record;
}

export function writeRun(record: RunRecord, dir = RUN_DIR): void {
  writeFileSync(join(dir, `${record.prefix}.json`), JSON.stringify(record));
}

/** A run's folder of files its pods read (`<prefix>.d`), beside its record. */
export const publicDirOf = (prefix: string, dir = RUN_DIR): string => join(dir, `${prefix}.d`);

export function removeRun(prefix: string, dir = RUN_DIR): void {
  rmSync(publicDirOf(prefix, dir), { recursive: true, force: true });
  rmSync(join(dir, `${prefix}.json`), { force: true });
}
