// An in-memory config store: tests and the console's editor apply YAML or resources to it directly.

import type { Diagnostic } from '../../config/diagnostics.js';
import { loadText } from '../../config/loader.js';
import { resourceKey, type Resource } from '../../config/resource.js';
import { BaseStore, type ConfigStore, type Rejection } from './config-store.js';
import { diffResources, stampGenerations } from './diff.js';
import { screen } from './screen.js';

export class MemoryStore extends BaseStore implements ConfigStore {
  private readonly byKey = new Map<string, Resource>();
  private readonly rejected = new Map<string, Rejection>();

  constructor(initial: readonly Resource[] = []) {
    super();
    if (initial.length) this.apply(initial, 'initial');
  }

  rejections(): readonly Rejection[] {
    return [...this.rejected.values()];
  }

  /** Apply resources (create or replace by key). Invalid ones are rejected; returns their errors. */
  apply(resources: readonly Resource[], source = 'memory'): Diagnostic[] {
    const { accepted, errors } = screen(resources);
    for (const r of accepted) this.byKey.set(resourceKey(r), r);
    this.record(source, errors);
    this.commit(`${source}: applied ${accepted.length} object(s)`);
    return errors;
  }

  /** Parse YAML text and apply it; a syntax error rejects the whole text. */
  applyYaml(text: string, source = 'memory'): Diagnostic[] {
    const { resources, errors: loadErrors } = loadText(text, source);
    if (loadErrors.length) {
      const { errors } = screen([], loadErrors);
      this.record(source, errors);
      return errors;
    }
    return this.apply(resources, source);
  }

  delete(key: string, source = 'memory'): boolean {
    const existed = this.byKey.delete(key);
    if (existed) this.commit(`${source}: deleted ${key}`);
    return existed;
  }

  async close(): Promise<void> {
    this.removeAllListeners();
  }

  private record(source: string, errors: Diagnostic[]): void {
    if (!errors.length) {
      this.rejected.delete(source);
      return;
    }
    const rejection: Rejection = { source, at: Date.now(), diagnostics: errors };
    this.rejected.set(source, rejection);
    this.emit('rejected', rejection);
  }

  private commit(reason: string): void {
    const next = [...this.byKey.values()];
    stampGenerations(this.current, next);
    const change = diffResources(this.current, next, reason);
    if (!change) return;
    this.current = next;
    this.rev++;
    this.emit('change', change);
  }
}
