// Compares two accepted resource sets by key, for change events, and keeps each object's generation as the API server
// would.

import { resourceKey, type Resource } from '../../config/resource.js';
import type { ConfigChange } from './config-store.js';

export function diffResources(before: readonly Resource[], after: readonly Resource[], reason: string): ConfigChange | undefined {
  const old = new Map(before.map((r) => [resourceKey(r), r]));
  const change: ConfigChange = { reason, added: [], updated: [], removed: [] };
  for (const r of after) {
    const prev = old.get(resourceKey(r));
    if (!prev) change.added.push(r);
    else if (prev !== r && JSON.stringify(prev.raw) !== JSON.stringify(r.raw)) change.updated.push(r);
    old.delete(resourceKey(r));
  }
  change.removed.push(...old.values());
  return change.added.length || change.updated.length || change.removed.length ? change : undefined;
}

/**
 * metadata.generation as the API server keeps it: 1 for a new object, one more each time its spec changes, the same
 * otherwise. An object whose YAML writes a generation keeps that one. Status (Gateway API observedGeneration) reads it.
 */
export function stampGenerations(before: readonly Resource[], after: readonly Resource[]): void {
  const old = new Map(before.map((r) => [resourceKey(r), r]));
  for (const r of after) {
    const written = (r.raw.metadata as { generation?: unknown } | undefined)?.generation;
    if (written !== undefined) continue;
    const prev = old.get(resourceKey(r));
    if (prev === r) continue;
    const was = prev?.metadata.generation ?? 0;
    r.metadata.generation = prev && JSON.stringify(prev.raw.spec ?? null) === JSON.stringify(r.raw.spec ?? null) ? Math.max(was, 1) : was + 1;
  }
}
