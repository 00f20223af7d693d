// Envoy-style statistics of several worker processes as one proxy's: a connection or request is handled by exactly
// one worker, so counters and the per-traffic gauges add up; gauges that describe configuration (cluster membership,
// server state) are the same in every worker and are taken once.

import type { StatEntry } from '../admin/admin-target.js';

/** Gauges that count this worker's own connections and requests (Envoy keeps them process-wide): summed. */
function isTrafficGauge(name: string): boolean {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  return (/^(downstream|upstream)_/.test(leaf) && leaf.endsWith('_active')) || name === 'server.total_connections';
}

/**
 * Sums the workers' entries. `retired` holds the counters of workers that have exited (the last values seen from
 * them), so that a counter never goes backwards when a worker is replaced.
 */
export function mergeStats(perWorker: StatEntry[][], retired: ReadonlyMap<string, number> = new Map()): StatEntry[] {
  const out = new Map<string, StatEntry>();
  for (const [name, value] of retired) out.set(name, [name, value, 'counter']);
  for (const entries of perWorker) {
    for (const [name, value, kind] of entries) {
      const into = out.get(name);
      if (!into) out.set(name, [name, value, kind]);
      else if (kind === 'counter' || isTrafficGauge(name)) into[1] += value;
      else into[1] = Math.max(into[1], value);
    }
  }
  return [...out.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Adds an exited worker's last counters to the retired totals (its gauges go with it). */
export function retireCounters(retired: Map<string, number>, last: readonly StatEntry[]): void {
  for (const [name, value, kind] of last) if (kind === 'counter') retired.set(name, (retired.get(name) ?? 0) + value);
}
