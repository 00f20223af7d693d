// An informer: the objects of one resource type (in one namespace or cluster-wide) kept in memory by
// @kubernetes/client-node's ListWatch (a list, then a watch from its resourceVersion; a 410 Gone becomes a fresh list
// reconciled against the cache). Around it: paginated, counted lists; watches that ask for bookmarks and a server-side
// timeout; and a restart with exponential back-off after a failure, which ListWatch leaves to its user.

import { EventEmitter } from 'node:events';
import { ADD, DELETE, ERROR, ListWatch, UPDATE, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { realClock, type Clock, type Timer } from '../clock.js';
import { KubeApiError, type KubeClient, type KubeList, type KubeObject } from './client/kube-client.js';

export interface InformerOptions {
  client: KubeClient;
  /** The collection: `/api/v1/pods`, `/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices`. */
  path: string;
  labelSelector?: string;
  /** Page size of lists (the API server's `limit`). */
  pageSize?: number;
  /** A watch asks the server to end it after this long (client-go picks 5-10 minutes); a new one resumes. */
  watchTimeoutSeconds?: number;
  /** Back-off after a failure: doubles from `initialMs` to `maxMs`, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  clock?: Clock;
  log?: (line: string) => void;
}

/** What one list item or watch event changed. */
export interface InformerChange {
  upserted: KubeObject[];
  deleted: KubeObject[];
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Watches or lists that ended with 410 Gone (the resourceVersion had expired) and became a new list. */
  expired: number;
  bookmarks: number;
  failures: number;
}

type WatchCallback = (phase: string, object: KubeObject, event?: unknown) => void;

/**
 * client-node's Watch with what ListWatch does not ask for: bookmarks (the server then sends its resourceVersion now
 * and then, so a resumed watch rarely expires), a server-side timeout, and counting. It also refuses to open a watch once
 * the informer stopped (ListWatch may still be inside its list when stop() is called).
 */
class InformerWatch extends Watch {
  constructor(private readonly informer: Informer) {
    super(informer.client.kubeConfig);
  }

  override async watch(path: string, query: Record<string, string | number | boolean | undefined>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    return this.informer.openWatch(path, query, callback, done, (p, q, c, d) => super.watch(p, q, c, d));
  }
}

export class Informer extends EventEmitter<{ change: [InformerChange]; synced: []; failure: [Error] }> {
  private readonly listWatch: ListWatch<KubernetesObject>;
  private synced = false;
  private stopped = false;
  private retryTimer: Timer | undefined;
  /** The watch opened last: ListWatch can abort it only once its response started, so stop() aborts it too. */
  private latestWatch: Promise<AbortController> | undefined;
  private delay: number;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  readonly stats: InformerStats = { lists: 0, watches: 0, expired: 0, bookmarks: 0, failures: 0 };

  constructor(private readonly o: InformerOptions) {
    super();
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.delay = this.backoff.initialMs;
    this.listWatch = new ListWatch(o.path, new InformerWatch(this), () => this.list(), false, o.labelSelector);
    const upsert = (obj: KubernetesObject) => this.emit('change', { upserted: [obj as KubeObject], deleted: [] });
    this.listWatch.on(ADD, upsert);
    this.listWatch.on(UPDATE, upsert);
    this.listWatch.on(DELETE, (obj) => this.emit('change', { upserted: [], deleted: [obj as KubeObject] }));
    this.listWatch.on(ERROR, (err: unknown) => this.failed(err));
  }

  get client(): KubeClient {
    return this.o.client;
  }

  get path(): string {
    return this.o.path;
  }

  private get backoff(): { initialMs: number; maxMs: number } {
    return this.o.backoff ?? { initialMs: 200, maxMs: 10_000 };
  }

  /** The objects now. */
  objects(): readonly KubeObject[] {
    return this.listWatch.list() as KubeObject[];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Starts listing and watching; resolves after the first list (or when stopped before it). */
  start(): Promise<void> {
    const first = this.synced ? Promise.resolve() : new Promise<void>((resolve) => this.once('synced', resolve));
    void this.listWatch.start();
    return first;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.retryTimer);
    await this.listWatch.stop();
    (await this.latestWatch?.catch(() => undefined))?.abort();
    // Whoever waits for the first list stops waiting.
    this.emit('synced');
    this.removeAllListeners();
  }

  /** A failed list or watch: ListWatch stops; start it again after the back-off (it resumes from its resourceVersion). */
  private failed(err: unknown): void {
    if (this.stopped) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.stats.failures++;
    this.emit('failure', error);
    const delay = this.delay * (1 + Math.random() * 0.2);
    this.log(`informer ${this.o.path}: ${error.message}; retrying in ${Math.round(delay)} ms`);
    this.delay = Math.min(this.delay * 2, this.backoff.maxMs);
    this.retryTimer = this.clock.setTimeout(() => {
      if (!this.stopped) void this.listWatch.start();
    }, delay);
  }

  /** A full list, page by page; ListWatch makes the cache exactly its items. */
  private async list(): Promise<KubernetesListObject<KubernetesObject>> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      this.stats.lists++;
      let page: KubeList;
      try {
        page = await this.o.client.request<KubeList>('GET', this.o.path, { verb: 'list', query: { limit: this.o.pageSize ?? 500, continue: cont, labelSelector: this.o.labelSelector } });
      } catch (err) {
        // An expired continue token: the next start lists from the beginning.
        if (err instanceof KubeApiError && err.status === 410) this.stats.expired++;
        throw err;
      }
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? '';
    } while (cont && !this.stopped);
    this.delay = this.backoff.initialMs;
    return { metadata: { resourceVersion }, items: items as KubernetesObject[] };
  }

  /**
   * Called by ListWatch (through InformerWatch) after each list and whenever a watch ended: the first call means the
   * first list is in the cache.
   */
  openWatch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (err: unknown) => void,
    open: (path: string, query: Record<string, string | number | boolean | undefined>, callback: WatchCallback, done: (err: unknown) => void) => Promise<AbortController>,
  ): Promise<AbortController> {
    if (!this.synced && !this.stopped) {
      this.synced = true;
      this.emit('synced');
    }
    if (this.stopped) return Promise.resolve(new AbortController());
    this.stats.watches++;
    this.o.client.record('watch', path);
    const timeoutSeconds = this.o.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const onEvent: WatchCallback = (phase, object, event) => {
      if (phase === 'BOOKMARK') this.stats.bookmarks++;
      else if (phase === 'ERROR' && (object as { code?: number }).code === 410) this.expired(object.metadata?.resourceVersion ?? query.resourceVersion);
      else this.delay = this.backoff.initialMs;
      callback(phase, object, event);
    };
    const onDone = (err: unknown) => {
      if ((err as { statusCode?: number } | null)?.statusCode === 410) this.expired(query.resourceVersion);
      done(err);
    };
    this.latestWatch = open(path, { ...query, allowWatchBookmarks: true, timeoutSeconds }, onEvent, onDone);
    return this.latestWatch;
  }

  private expired(resourceVersion: unknown): void {
    this.stats.expired++;
    this.log(`informer ${this.o.path}: resourceVersion ${String(resourceVersion ?? '')} expired (410 Gone); listing again`);
  }
}
