// Compares two accepted resource sets by key, for change events.

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
