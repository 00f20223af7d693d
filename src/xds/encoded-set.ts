// One generated resource list, encoded for the wire: its resources by name, and the state-of-the-world responses
// for the subscriptions that select from it, each encoded once however many proxies receive it.

import type { XdsResource } from './resource.js';
import { encodeResource, versionOf, type EncodedResource } from './wire.js';

/** What one subscription gets from a list: the resources, their version, and the response last encoded for them. */
export interface Selection {
  readonly resources: readonly EncodedResource[];
  readonly version: string;
  /** The encoded DiscoveryResponse, shared by every stream this selection is sent to (see AdsServer.respond). */
  response?: { nonce: string; bytes: Buffer };
}

/** The subscription key of a wildcard subscription (a named one is its sorted names, see `namesKey`). */
export const WILDCARD = '\0*';

export class EncodedSet {
  readonly byName = new Map<string, EncodedResource>();
  /** Selections by subscription key; proxies of one shape subscribe alike, so they share one. */
  private readonly selections = new Map<string, Selection>();

  constructor(list: readonly XdsResource[]) {
    for (const r of list) this.byName.set(r.name, encodeResource(r));
  }

  /** Everything (`key` WILDCARD) or the named resources that exist (`key` from namesKey(names)). */
  select(key: string, names: Iterable<string>): Selection {
    let s = this.selections.get(key);
    if (!s) {
      const resources = key === WILDCARD ? [...this.byName.values()] : [...names].sort().flatMap((n) => this.byName.get(n) ?? []);
      this.selections.set(key, (s = { resources, version: versionOf(resources) }));
    }
    return s;
  }
}

/** What a delta stream holding exactly one selection is sent to hold another. */
export interface SelectionDiff {
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
}

const diffs = new WeakMap<Selection, WeakMap<Selection, SelectionDiff>>();

/** The diff from `from` to `to`, computed once per pair: every stream of a shape moves between the same selections. */
export function selectionDiff(from: Selection, to: Selection): SelectionDiff {
  let byTarget = diffs.get(from);
  if (!byTarget) diffs.set(from, (byTarget = new WeakMap()));
  let diff = byTarget.get(to);
  if (!diff) {
    const before = new Map(from.resources.map((r) => [r.name, r.hash]));
    const after = new Set(to.resources.map((r) => r.name));
    diff = { changed: to.resources.filter((r) => before.get(r.name) !== r.hash), removed: from.resources.filter((r) => !after.has(r.name)).map((r) => r.name) };
    byTarget.set(to, diff);
  }
  return diff;
}

/** A subscription's names as one key, equal for equal sets whatever their order. */
export function namesKey(names: Iterable<string>): string {
  return [...names].sort().join('\n');
}

// The generator hands proxies of one shape the same list object (see ConfigGenerator), so lists are encoded by identity.
const sets = new WeakMap<readonly XdsResource[], EncodedSet>();

export function encodedSet(list: readonly XdsResource[]): EncodedSet {
  let set = sets.get(list);
  if (!set) sets.set(list, (set = new EncodedSet(list)));
  return set;
}
