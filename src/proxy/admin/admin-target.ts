// What the admin port reads and controls, as one seam: the in-process proxy, or (with --concurrency) the primary's view
// over its worker processes, where the numbers come from every worker and are summed.

import type { ServerState, TrellisProxy } from '../proxy.js';
import { clusterStatuses, type ClusterStatus } from './clusters-text.js';
import { configDump } from './config-dump.js';

type Awaitable<T> = T | Promise<T>;

/** One statistic: name, value, kind. */
export type StatEntry = [string, number, 'counter' | 'gauge'];

export interface ListenerStatus {
  name: string;
  address: string;
  port: number;
}

/** /config_dump's query; the name filter stays a string so that it can cross a process boundary. */
export interface ConfigDumpQuery {
  includeEds: boolean;
  resource?: string;
  nameRegex?: string;
}

export interface AdminTarget {
  readonly options: { nodeId?: string; serviceCluster?: string; listenerDrainMs: number };
  readonly startedAt: number;
  readonly state: ServerState;
  /** A snapshot is applied and the server is LIVE (/ready answers 200). */
  readonly ready: boolean;
  configDump(q: ConfigDumpQuery): Awaitable<Record<string, unknown>>;
  clusters(): Awaitable<ClusterStatus[]>;
  listeners(): Awaitable<ListenerStatus[]>;
  stats(): Awaitable<StatEntry[]>;
  /** /drain_listeners: stop accepting, let open connections finish. */
  drainListeners(): void;
  /** /logging changed a level here; a target with other processes passes it on (name undefined: every logger). */
  loggingChanged?(level: string, name?: string): void;
}

/** The admin view of one in-process proxy. */
export function proxyTarget(proxy: TrellisProxy): AdminTarget {
  return {
    get options() {
      return proxy.options;
    },
    startedAt: proxy.startedAt,
    get state() {
      return proxy.state;
    },
    get ready() {
      return proxy.ready;
    },
    configDump: (q) => configDump(proxy, { includeEds: q.includeEds, resource: q.resource, nameRegex: q.nameRegex ? new RegExp(q.nameRegex) : undefined }),
    clusters: () => clusterStatuses(proxy),
    listeners: () => proxy.listenerList().map((l) => ({ name: l.name, address: l.address, port: l.port })),
    stats: () => proxy.stats.entries(),
    drainListeners: () => void proxy.drain(proxy.options.listenerDrainMs),
  };
}
