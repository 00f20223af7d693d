// The primary of `trellis proxy --concurrency N`: forks N worker processes that share the listening sockets
// (node:cluster with SCHED_NONE: the kernel hands each accepted connection to one worker; this process never touches
// a connection), and keeps the proxy's single identity: it alone holds the configuration, the secrets and the
// counters' history. Every snapshot and secret goes to every worker; a snapshot counts as applied (the xDS ACK) only
// when every worker applied it. A worker that exits unexpectedly is replaced, and the replacement gets the current
// secrets and snapshot before it binds anything.

import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { AdminTarget, ConfigDumpQuery, ListenerStatus, StatEntry } from '../admin/admin-target.js';
import { mergeClusterStatuses } from '../admin/clusters-text.js';
import type { EnvoySnapshot, Secret } from '../../xds/envoy/index.js';
import { ProxyConfigError } from '../errors.js';
import { allLoggers, log } from '../log.js';
import type { ApplyResult, ServerState } from '../proxy.js';
import type { TlsSecret } from '../tls/tls-context.js';
import type { MetricsJson, MetricsSource } from '../../telemetry/merged-metrics.js';
import type { Dataplane } from './dataplane.js';
import { PortPins } from './port-pins.js';
import { WORKER_SETUP_ENV, type FromWorker, type Op, type Operations, type TelemetrySetup, type WorkerSetup } from './protocol.js';
import { mergeStats, retireCounters } from './stats-merge.js';

const logger = log('main');

type Json = Record<string, unknown>;

export interface WorkerPoolOptions {
  count: number;
  proxy: { nodeId?: string; serviceCluster?: string; listenerDrainMs: number };
  /** How long a worker may take to apply a snapshot before the update is refused (default 60 s). */
  applyTimeoutMs?: number;
  /** How long admin and stats requests wait for a worker (default 5 s). */
  requestTimeoutMs?: number;
  /** How long a new worker may take to start (default 30 s). */
  startTimeoutMs?: number;
}

/** A worker's status on the admin's /workers. */
export interface WorkerStatus {
  slot: number;
  pid: number;
  state: 'starting' | 'serving';
  /** The pool's snapshot version this worker applied last. */
  version: number;
  restarts: number;
  startedAt: string;
  downstreamConnections?: number;
  downstreamRequests?: number;
}

/** A request failed because the worker went away, not because it refused anything. */
class WorkerGone extends Error {}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

class WorkerSlot {
  state: 'starting' | 'serving' = 'starting';
  helloed = false;
  /** Exited: its last counters are in the retired totals, so nothing it answered before counts again. */
  gone = false;
  version = 0;
  readonly startedAt = new Date();
  readonly pending = new Map<number, Pending>();
  lastStats: StatEntry[] = [];
  lastMetrics: MetricsJson = [];
  readonly hello: Promise<void>;
  readonly exited: Promise<void>;
  private sayHello!: () => void;

  constructor(
    readonly slot: number,
    readonly worker: Worker,
    readonly restarts: number,
  ) {
    this.hello = new Promise((resolve) => (this.sayHello = resolve));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.worker.process.pid ?? 0;
  }

  greeted(): void {
    this.helloed = true;
    this.sayHello();
  }
}

const sumOf = (entries: StatEntry[], re: RegExp) => entries.reduce((a, [n, v]) => (re.test(n) ? a + v : a), 0);

export class WorkerPool implements Dataplane {
  readonly admin: AdminTarget;
  readonly startedAt = Date.now();
  private readonly slots = new Map<number, WorkerSlot>();
  private readonly restarts = new Map<number, { count: number; quickCrashes: number }>();
  private readonly secrets = new Map<string, TlsSecret>();
  private readonly pins = new PortPins();
  private readonly retiredStats = new Map<string, number>();
  private current: { snapshot: EnvoySnapshot; sds?: readonly Secret[] } | undefined;
  private version = 0;
  private listeners: ListenerStatus[] = [];
  private serverState: ServerState = 'PRE_INITIALIZING';
  private stopping = false;
  private telemetry: TelemetrySetup | undefined;
  /** The last Istio metrics of workers that exited (folded into one entry now and then). */
  private retiredMetrics: MetricsJson[] = [];
  private folding = false;
  /** Applies and worker initialisations run one at a time, so a new worker never misses a snapshot. */
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;

  constructor(private readonly o: WorkerPoolOptions) {
    const pool = this;
    this.admin = {
      options: o.proxy,
      startedAt: this.startedAt,
      get state() {
        return pool.serverState;
      },
      get ready() {
        return pool.ready;
      },
      configDump: (q) => this.configDump(q),
      clusters: async () => mergeClusterStatuses(await this.gather('clusters', null)),
      listeners: () => this.listeners,
      stats: () => this.stats(),
      drainListeners: () => {
        this.serverState = 'DRAINING';
        void this.gather('drainListeners', null);
      },
      loggingChanged: (level, name) => void this.gather('logging', { level, name }),
    };
  }

  get ready(): boolean {
    return this.serverState === 'LIVE' && this.version > 0;
  }

  get count(): number {
    return this.o.count;
  }

  /** How many snapshots the pool has applied (every worker that is serving has this one). */
  get configVersion(): number {
    return this.version;
  }

  async enableTelemetry(setup: TelemetrySetup): Promise<MetricsSource> {
    this.telemetry = setup;
    const { MergedMetrics } = await import('../../telemetry/merged-metrics.js');
    return new MergedMetrics(() => this.collectMetrics());
  }

  /** Forks the workers; resolves once each is ready for snapshots. */
  async start(): Promise<void> {
    // SCHED_NONE: the workers accept on the shared socket themselves. The default (round-robin) would accept every
    // connection here and hand it to a worker over IPC: an extra process hop per connection, and this process a
    // bottleneck that serves nothing.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [], silent: false });
    // Whatever ends this process, no worker outlives it (they also exit by themselves when the IPC channel closes).
    process.once('exit', () => {
      for (const s of this.slots.values()) s.worker.process.kill('SIGKILL');
    });
    await Promise.all(Array.from({ length: this.o.count }, (_, i) => this.spawn(i + 1)));
  }

  private spawn(slot: number): Promise<void> {
    const setup: WorkerSetup = {
      slot,
      proxy: this.o.proxy,
      levels: Object.fromEntries(allLoggers().map((l) => [l.name, l.level])),
      telemetry: this.telemetry,
    };
    // The CA token stays in the primary: workers get certificates from it, never from the CA.
    const worker = cluster.fork({ [WORKER_SETUP_ENV]: JSON.stringify(setup), TRELLIS_CA_TOKEN: undefined });
    const s = new WorkerSlot(slot, worker, this.restarts.get(slot)?.count ?? 0);
    this.slots.set(slot, s);
    worker.on('message', (m: FromWorker) => this.onMessage(s, m));
    worker.once('exit', (code, signal) => this.onExit(s, code, signal));
    return this.enqueue(() =>
      this.initialize(s).catch((err: Error) => {
        // A worker that cannot take the current state is replaced like one that crashed (with back-off).
        if (!s.worker.isDead()) s.worker.process.kill('SIGKILL');
        throw err;
      }),
    );
  }

  /** Secrets, then the current snapshot, then the worker counts as serving (and is included in every apply). */
  private async initialize(s: WorkerSlot): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.o.startTimeoutMs ?? 30_000;
    await Promise.race([
      s.hello,
      s.exited.then(() => Promise.reject(new WorkerGone(`worker ${s.slot} exited while starting`))),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`worker ${s.slot} did not start within ${timeoutMs} ms`)), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    for (const [name, secret] of this.secrets) await this.request(s, 'secret', { name, secret });
    if (this.current) {
      const r = await this.request(s, 'apply', this.current, this.o.applyTimeoutMs ?? 60_000);
      s.version = this.version;
      if (!this.listeners.length) this.listeners = r.listeners;
    }
    s.state = 'serving';
    if (s.restarts) logger.info(`worker ${s.slot} restarted (pid ${s.pid})${this.current ? ` with config version ${this.version}` : ''}`);
  }

  private onMessage(s: WorkerSlot, m: FromWorker): void {
    if (m.t === 'hello') return s.greeted();
    if (m.t !== 'res') return;
    const p = s.pending.get(m.id);
    if (!p) return;
    s.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(m.issues?.length ? new ProxyConfigError(m.issues) : new Error(m.error));
  }

  private onExit(s: WorkerSlot, code: number | null, signal: string | null): void {
    s.gone = true;
    if (this.slots.get(s.slot) === s) this.slots.delete(s.slot);
    for (const p of s.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new WorkerGone(`worker ${s.slot} (pid ${s.pid}) exited`));
    }
    s.pending.clear();
    // Its counters stay in the totals: /stats and istio_requests_total never go backwards.
    retireCounters(this.retiredStats, s.lastStats);
    if (s.lastMetrics.length) this.retireMetrics(s.lastMetrics);
    if (this.stopping) return;
    const r = this.restarts.get(s.slot) ?? { count: 0, quickCrashes: 0 };
    r.count++;
    // A worker that dies right after starting (a bad build, a config that crashes it) is restarted ever more slowly.
    r.quickCrashes = Date.now() - s.startedAt.getTime() < 5_000 ? r.quickCrashes + 1 : 0;
    this.restarts.set(s.slot, r);
    const delay = r.quickCrashes ? Math.min(10_000, 100 * 2 ** r.quickCrashes) : 0;
    logger.warn(`worker ${s.slot} (pid ${s.pid}) exited (${signal ?? `code ${code}`}); restarting it${delay ? ` in ${delay} ms` : ''}`);
    setTimeout(() => {
      if (!this.stopping) this.spawn(s.slot).catch((err: Error) => logger.error(`worker ${s.slot} failed to start: ${err.message}`));
    }, delay).unref();
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private request<O extends Op>(s: WorkerSlot, op: O, args: Operations[O]['args'], timeoutMs = this.o.requestTimeoutMs ?? 5_000): Promise<Operations[O]['value']> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        s.pending.delete(id);
        reject(new Error(`worker ${s.slot} (pid ${s.pid}) did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      s.worker.send({ t: 'req', id, op, args }, (err: Error | null) => {
        if (!err || !s.pending.delete(id)) return;
        clearTimeout(timer);
        reject(new WorkerGone(`worker ${s.slot} (pid ${s.pid}) is gone: ${err.message}`));
      });
    });
  }

  private serving(): WorkerSlot[] {
    return [...this.slots.values()].filter((s) => s.state === 'serving').sort((a, b) => a.slot - b.slot);
  }

  /**
   * The answers of every serving worker that answered in time (a worker that is gone or stuck is left out). A worker
   * that exited after answering is left out too: its retired totals already hold what it had counted.
   */
  private async gatherFrom<O extends Op>(op: O, args: Operations[O]['args']): Promise<Array<{ s: WorkerSlot; value: Operations[O]['value'] }>> {
    const targets = this.serving();
    const settled = await Promise.allSettled(targets.map((s) => this.request(s, op, args)));
    const out: Array<{ s: WorkerSlot; value: Operations[O]['value'] }> = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        if (!targets[i]!.gone) out.push({ s: targets[i]!, value: r.value });
      } else logger.warn(`admin ${op}: ${(r.reason as Error).message}`);
    });
    return out;
  }

  private async gather<O extends Op>(op: O, args: Operations[O]['args']): Promise<Array<Operations[O]['value']>> {
    return (await this.gatherFrom(op, args)).map((x) => x.value);
  }

  private async stats(): Promise<StatEntry[]> {
    const answers = await this.gatherFrom('stats', null);
    for (const { s, value } of answers) s.lastStats = value;
    return mergeStats(
      answers.map((a) => a.value),
      this.retiredStats,
    );
  }

  /** Every series to sum: the live workers' (remembered for when they exit) and the retired ones. */
  private async collectMetrics(): Promise<MetricsJson[]> {
    const answers = await this.gatherFrom('metrics', null);
    for (const { s, value } of answers) s.lastMetrics = value;
    return [...answers.map((a) => a.value), ...this.retiredMetrics];
  }

  private retireMetrics(last: MetricsJson): void {
    this.retiredMetrics.push(last);
    if (this.retiredMetrics.length < 8 || this.folding) return;
    // Fold the first entries into one; the list is replaced in one step, so a scrape meanwhile sees the old entries.
    this.folding = true;
    const n = this.retiredMetrics.length;
    void import('../../telemetry/merged-metrics.js')
      .then(({ sumSeries }) => sumSeries(this.retiredMetrics.slice(0, n)))
      .then((sum) => void this.retiredMetrics.splice(0, n, sum))
      .finally(() => (this.folding = false));
  }

  private async configDump(q: ConfigDumpQuery): Promise<Record<string, unknown>> {
    // Every worker holds the same configuration: the longest-serving one answers.
    const s = this.serving()[0];
    if (!s) throw new Error('no worker is running');
    return this.request(s, 'configDump', q);
  }

  /** /workers: each worker's process, state, config version and how much traffic it has served. */
  async workers(): Promise<WorkerStatus[]> {
    const answers = await this.gatherFrom('stats', null);
    for (const { s, value } of answers) s.lastStats = value;
    const stats = new Map(answers.map(({ s, value }) => [s, value]));
    return [...this.slots.values()]
      .sort((a, b) => a.slot - b.slot)
      .map((s) => {
        const e = stats.get(s);
        return {
          slot: s.slot,
          pid: s.pid,
          state: s.state,
          version: s.version,
          restarts: s.restarts,
          startedAt: s.startedAt.toISOString(),
          ...(e ? { downstreamConnections: sumOf(e, /^listener\..*\.downstream_cx_total$/), downstreamRequests: sumOf(e, /^http\..*\.downstream_rq_total$/) } : {}),
        };
      });
  }

  apply(snapshot: EnvoySnapshot, sds?: readonly Secret[]): Promise<ApplyResult> {
    return this.enqueue(async () => {
      if (this.stopping || this.serverState === 'DRAINING') throw new Error('the proxy is draining');
      const pinned = await this.pins.pin(snapshot);
      const targets = this.serving();
      const settled = await Promise.allSettled(targets.map((s) => this.request(s, 'apply', { snapshot: pinned, sds }, this.o.applyTimeoutMs ?? 60_000)));
      // One refusal refuses the update (the NACK carries it); a worker that died meanwhile is not a refusal: its
      // replacement starts with whatever is current.
      const refused = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof WorkerGone));
      if (refused) throw refused.reason;
      const applied = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ s: targets[i]!, value: r.value }] : []));
      if (targets.length && !applied.length) throw new Error('every worker exited while applying the update');
      this.current = { snapshot: pinned, sds };
      this.version++;
      for (const { s } of applied) s.version = this.version;
      if (applied[0]) this.listeners = applied[0].value.listeners;
      if (this.serverState === 'PRE_INITIALIZING') this.serverState = 'LIVE';
      return { version: this.version, issues: applied[0]?.value.issues ?? [] };
    });
  }

  setSecret(name: string, secret: TlsSecret): void {
    this.secrets.set(name, secret);
    // Workers still starting get it from initialize(); the others now.
    for (const s of this.slots.values()) {
      if (s.helloed) this.request(s, 'secret', { name, secret }).catch((err: Error) => logger.warn(`secret ${name}: ${err.message}`));
    }
  }

  /** Every worker drains (in parallel) and exits; a worker that outlives the drain time is killed. */
  async shutdown(ms: number): Promise<void> {
    this.stopping = true;
    this.serverState = 'DRAINING';
    const all = [...this.slots.values()];
    // A worker still starting (no hello yet: stopped during start-up) holds no connection and cannot be asked to
    // drain: it goes at once instead of after the grace period below.
    for (const s of all) if (!s.helloed && !s.worker.isDead()) s.worker.process.kill('SIGKILL');
    await Promise.allSettled(all.map((s) => (s.helloed ? this.request(s, 'drain', { ms }, ms + 5_000) : Promise.resolve(null))));
    await Promise.all(
      all.map(async (s) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)));
        await Promise.race([s.exited, late]);
        clearTimeout(timer);
        if (s.worker.isDead()) return;
        logger.warn(`worker ${s.slot} (pid ${s.pid}) did not exit after draining; killing it`);
        s.worker.process.kill('SIGKILL');
        await s.exited;
      }),
    );
  }
}
