// The config-store contract: the current accepted resources, why anything was rejected, and change events.

import { EventEmitter } from 'node:events';
import type { Diagnostic } from '../../config/diagnostics.js';
import type { Resource } from '../../config/resource.js';

export interface ConfigChange {
  /** Why the config changed, for logs and push reasons (`file reviews.yaml changed`). */
  reason: string;
  added: Resource[];
  updated: Resource[];
  removed: Resource[];
}

/** A source (a file, a Kubernetes object) whose latest version was not accepted. */
export interface Rejection {
  source: string;
  /** When the rejected version was seen (ms since epoch). */
  at: number;
  diagnostics: Diagnostic[];
}

/**
 * Where config comes from: a watched directory, memory (tests, the console's editor),
 * or later the Kubernetes API. A store only ever exposes accepted resources; a bad
 * change is recorded as a rejection and the last good version stays in force.
 */
export interface ConfigStore {
  /** The accepted resources now (an immutable array; replaced, never mutated, on change). */
  list(): readonly Resource[];
  /** The sources whose latest version was rejected, with the reasons. */
  rejections(): readonly Rejection[];
  /** Increases on every accepted change; 0 before the first load. */
  revision(): number;
  on(event: 'change', listener: (change: ConfigChange) => void): this;
  on(event: 'rejected', listener: (rejection: Rejection) => void): this;
  off(event: 'change', listener: (change: ConfigChange) => void): this;
  off(event: 'rejected', listener: (rejection: Rejection) => void): this;
  close(): Promise<void>;
}

/** Shared event plumbing for stores. */
export abstract class BaseStore extends EventEmitter {
  protected current: readonly Resource[] = [];
  protected rev = 0;

  list(): readonly Resource[] {
    return this.current;
  }

  revision(): number {
    return this.rev;
  }
}
