// Decides which loaded resources a store may accept: schema-valid ones and unknown kinds (kept, inert); the rest are rejected.

import { analyzeResources } from '../../config/analysis/run.js';
import type { Diagnostic } from '../../config/diagnostics.js';
import { kindInfo } from '../../config/kinds.js';
import type { LoadError } from '../../config/loader.js';
import { resourceKey, type Resource } from '../../config/resource.js';

export interface Screened {
  accepted: Resource[];
  /** Keys (`resourceKey`) of resources that were loaded but not accepted. */
  rejectedKeys: Set<string>;
  /** Error-level findings: why something was rejected. */
  errors: Diagnostic[];
}

/**
 * Istio's webhook rejects an object that fails validation; cross-object problems (a
 * missing host) do not block it. So only loader and schema errors reject, per object.
 */
export function screen(resources: readonly Resource[], loadErrors: readonly LoadError[] = []): Screened {
  const { diagnostics, valid } = analyzeResources(resources, { loadErrors, analyzers: [] });
  const validSet = new Set(valid);
  const accepted: Resource[] = [];
  const rejectedKeys = new Set<string>();
  // The last definition of a key is the one that counts, as analyzeResources reads them.
  const last = new Map<string, Resource>();
  for (const r of resources) {
    last.delete(resourceKey(r));
    last.set(resourceKey(r), r);
  }
  for (const [key, r] of last) {
    if (validSet.has(r) || !kindInfo(r.group, r.kind)) accepted.push(r);
    else rejectedKeys.add(key);
  }
  return { accepted, rejectedKeys, errors: diagnostics.filter((d) => d.level === 'Error') };
}
