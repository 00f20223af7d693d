// Removing a run's pod network, and whatever crashed runs left: namespaces, links, /etc/netns folders, host FORWARD
// rules and run records whose prefix belongs to no live run. Another live run's objects are never touched.

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ipBatch, run, tryRun } from './commands.js';
import { ETC_NETNS, pidsIn } from './pod-network.js';
import { livePrefixes, prefixOf, readRuns, removeRun, RUN_DIR } from './run-record.js';

export interface NetworkObjects {
  netns: string[];
  links: string[];
  etc: string[];
  /** `iptables -D …` argument lists (per tool) of host rules carrying a run's comment. */
  rules: Array<{ tool: string; args: string[] }>;
  records: string[];
}

function netnsNames(): string[] {
  try {
    return run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  } catch {
    return [];
  }
}

function linkNames(): string[] {
  try {
    return run('ip', ['-o', 'link', 'show']).split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter(Boolean);
  } catch {
    return [];
  }
}

function hostRules(): Array<{ tool: string; args: string[]; comment: string }> {
  const out: Array<{ tool: string; args: string[]; comment: string }> = [];
  for (const tool of ['iptables', 'ip6tables']) {
    let text = '';
    try {
      text = run(tool, ['-S', 'FORWARD']);
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const comment = /--comment "?(trl[0-9a-f]{5})"?/.exec(line)?.[1];
      if (!comment || !line.startsWith('-A ')) continue;
      out.push({ tool, comment, args: ['-D', ...line.slice(3).replace(/"/g, '').split(' ')] });
    }
  }
  return out;
}

/** Everything on this machine that belongs to the runs `belongs` picks (by prefix). */
export function findObjects(belongs: (prefix: string) => boolean): NetworkObjects {
  const mine = (name: string) => {
    const p = prefixOf(name);
    return p !== undefined && belongs(p);
  };
  let etc: string[] = [];
  try {
    etc = readdirSync(ETC_NETNS).filter(mine);
  } catch {
    /* no /etc/netns */
  }
  return {
    netns: netnsNames().filter(mine),
    links: linkNames().filter(mine),
    etc,
    rules: hostRules().filter((r) => belongs(r.comment)),
    records: readRuns().map((r) => r.prefix).filter((p) => belongs(p)),
  };
}

/** Deletes the objects found; namespaces first (their veths go with them), then bridges and stray links. */
export function removeObjects(o: NetworkObjects): void {
  // A namespace lives on while a process is in it: a crashed run's pods go first.
  for (const n of o.netns) {
    for (const pid of pidsIn(n)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  ipBatch(o.netns.map((n) => `netns del ${n}`), { force: true });
  // A veth whose namespace is gone has gone too; what is left are bridges and orphaned host ends.
  const remaining = new Set(linkNames());
  ipBatch(o.links.filter((l) => remaining.has(l)).map((l) => `link del ${l}`), { force: true });
  for (const e of o.etc) rmSync(join(ETC_NETNS, e), { recursive: true, force: true });
  for (const r of o.rules) tryRun(r.tool, r.args);
  for (const p of o.records) removeRun(p);
}

/** Removes one run's network (the run stopping). */
export function removeRunNetwork(prefix: string): void {
  removeObjects(findObjects((p) => p === prefix));
}

/**
 * Removes what crashed runs left: every Trellis-named object whose run is not alive. Returns what it removed, so a
 * start can say so.
 */
export function removeStaleNetworks(): NetworkObjects {
  const live = livePrefixes();
  const stale = findObjects((p) => !live.has(p));
  removeObjects(stale);
  return stale;
}

export { RUN_DIR };
