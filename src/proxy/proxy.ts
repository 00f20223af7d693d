// The proxy: applies Envoy-shaped snapshots atomically (clusters, routes, listeners), owns the runtime state, drains.

import { isIP, type Socket } from 'node:net';
import { realClock, type Clock } from '../clock.js';
import { compileSnapshot, type CompiledSnapshot } from './config/snapshot.js';
import type { ConnectionManager } from './http/connection-manager.js';
import type { ConnectionInfo } from './http/http-stream.js';
import type { EnvoySnapshot } from '../xds/envoy/index.js';
import type { RouteTable } from './config/route-table.js';
import { ConfigCode, formatIssue, type ConfigIssue } from './errors.js';
import { ListenerRuntime } from './listener/listener-runtime.js';
import { internalConnectionPair } from './listener/internal-connection.js';
import { log } from './log.js';
import { Observers, type ProxyObserver } from './records.js';
import type { ProxyRuntime } from './runtime.js';
import { httpCounters, httpGauges, StatsStore, tcpCounters, type HttpCounters, type HttpGauges, type StatGroup } from './stats.js';
import { UpstreamCluster, type InternalConnector } from './upstream/upstream-cluster.js';
import { SecretStore } from './tls/tls-context.js';

const logger = log('config');

export interface ProxyOptions {
  /** Envoy's --service-node / Istio's proxy id, shown by /server_info. */
  nodeId?: string;
  /** Envoy's --service-cluster. */
  serviceCluster?: string;
  /** How long a removed or changed listener keeps serving its open connections (Envoy's drain time). */
  listenerDrainMs?: number;
  /** Time for everything that schedules on the request path and in clusters (tests pass a ManualClock). */
  clock?: Clock;
}

export interface ApplyResult {
  version: number;
  /** Warnings from compiling (the snapshot had no errors) and listeners that could not bind. */
  issues: ConfigIssue[];
}

export type ServerState = 'PRE_INITIALIZING' | 'LIVE' | 'DRAINING';

export class TrellisProxy implements ProxyRuntime, InternalConnector {
  readonly stats = new StatsStore();
  /** Certificates and trust bundles by SDS name (`default`, `ROOTCA`), set by the proxy's agent. */
  readonly secrets = new SecretStore();
  readonly observers = new Observers();
  readonly startedAt = Date.now();
  readonly options: Required<Omit<ProxyOptions, 'nodeId' | 'serviceCluster' | 'clock'>> & ProxyOptions;
  readonly clock: Clock;
  private readonly clusters = new Map<string, UpstreamCluster>();
  private routes: ReadonlyMap<string, RouteTable> = new Map();
  private readonly listeners = new Map<string, ListenerRuntime>();
  private readonly httpStatGroups = new Map<string, { counters: HttpCounters; gauges: HttpGauges }>();
  private readonly tcpStatGroups = new Map<string, StatGroup>();
  private readonly leaving = new Set<Promise<void>>();
  private current: CompiledSnapshot | undefined;
  private applied: { version: number; at: Date } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private serverState: ServerState = 'PRE_INITIALIZING';
  private readonly serverGauges = { live: 0, state: 2, version: 0, uptime: 0, total_connections: 0 };

  constructor(options: ProxyOptions = {}) {
    this.options = { listenerDrainMs: 10_000, ...options };
    this.clock = options.clock ?? realClock;
    this.stats.register('server.', {}, this.serverGauges);
  }

  // ------------------------------------------------------------ ProxyRuntime

  cluster(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }

  routeTable(name: string): RouteTable | undefined {
    return this.routes.get(name);
  }

  httpStats(prefix: string): { counters: HttpCounters; gauges: HttpGauges } {
    let g = this.httpStatGroups.get(prefix);
    if (!g) {
      g = { counters: httpCounters(), gauges: httpGauges() };
      this.httpStatGroups.set(prefix, g);
      this.stats.register(`http.${prefix}.`, g.counters, g.gauges);
    }
    return g;
  }

  tcpStats(prefix: string): StatGroup {
    let g = this.tcpStatGroups.get(prefix);
    if (!g) {
      g = tcpCounters();
      this.tcpStatGroups.set(prefix, g);
      this.stats.register(`tcp.${prefix}.`, g);
    }
    return g;
  }

  originalDstHttp(target: { host: string; port: number }, info: ConnectionInfo): { cm: ConnectionManager; info: ConnectionInfo } | undefined {
    const l = this.listenerForDestination(target.host, target.port);
    if (!l) return undefined;
    const targetInfo: ConnectionInfo = { ...info, localAddress: isIP(target.host) ? target.host : l.config.address, localPort: target.port };
    const cm = l.httpHandlerFor(targetInfo, 'http/1.1');
    return cm ? { cm, info: targetInfo } : undefined;
  }

  listenerForDestination(address: string, port: number): ListenerRuntime | undefined {
    let wildcard: ListenerRuntime | undefined;
    for (const l of this.listeners.values()) {
      if (l.config.port !== port || l.config.useOriginalDst) continue;
      if (l.config.address === address) return l;
      if (l.config.address === '0.0.0.0' || l.config.address === '::') wildcard ??= l;
    }
    return wildcard;
  }

  /**
   * Envoy's internal connections: the listener named serves the other end of an in-process pair as a connection to
   * `target` (its restored destination) from `downstream`'s peer (keeping its TLS identity for RBAC), else from the
   * proxy itself. A listener that does not exist fails the connection as a refused one would.
   */
  connectInternal(listener: string, target: { address: string; port: number }, downstream?: ConnectionInfo): Socket {
    const remote = downstream ? { address: downstream.remoteAddress, port: downstream.remotePort } : { address: '127.0.0.1', port: 0 };
    const [up, down] = internalConnectionPair({ local: target, remote });
    const l = this.listeners.get(listener);
    if (!l) {
      process.nextTick(() => up.destroy(new Error(`no internal listener ${listener}`)));
      return up as unknown as Socket;
    }
    const info: ConnectionInfo = { ...(downstream ?? { remoteAddress: remote.address, remotePort: remote.port }), localAddress: target.address, localPort: target.port, restored: true };
    l.serve(down as unknown as Socket, info);
    return up as unknown as Socket;
  }

  get draining(): boolean {
    return this.serverState === 'DRAINING';
  }

  // ------------------------------------------------------------ state

  get state(): ServerState {
    return this.serverState;
  }

  /** True once a snapshot has been applied (admin /ready answers LIVE). */
  get ready(): boolean {
    return this.applied !== undefined && this.serverState === 'LIVE';
  }

  get version(): number {
    return this.applied?.version ?? 0;
  }

  get lastApplied(): Date | undefined {
    return this.applied?.at;
  }

  /** The snapshot last applied, as given (for /config_dump). */
  get snapshot(): CompiledSnapshot | undefined {
    return this.current;
  }

  clusterList(): UpstreamCluster[] {
    return [...this.clusters.values()];
  }

  listenerList(): ListenerRuntime[] {
    return [...this.listeners.values()];
  }

  /** Where a listener is bound (the real port when it asked for port 0). */
  listenerAddress(name: string): { address: string; port: number } | undefined {
    const l = this.listeners.get(name);
    return l && l.config.bindToPort ? { address: l.address, port: l.port } : undefined;
  }

  observe(o: ProxyObserver): () => void {
    return this.observers.add(o);
  }

  // ------------------------------------------------------------ apply

  /**
   * Applies a full snapshot. It is compiled first (a ProxyConfigError rejects it whole, nothing changes), new
   * listeners are bound, then clusters, routes and listeners switch in one synchronous step: new requests see
   * the new snapshot, requests in flight finish on what they started with, removed listeners drain.
   */
  apply(snapshot: EnvoySnapshot): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(snapshot));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(snapshot: EnvoySnapshot): Promise<ApplyResult> {
    if (this.serverState === 'DRAINING') throw new Error('the proxy is draining');
    const compiled = compileSnapshot(snapshot);
    const issues = [...compiled.issues];

    // 1. bind listeners that are new or moved; they hold connections until activated below
    const fresh = new Map<string, ListenerRuntime>();
    await Promise.all(
      [...compiled.listeners.values()].map(async (l) => {
        const existing = this.listeners.get(l.name);
        if (existing && existing.config.address === l.address && existing.config.port === l.port && existing.config.bindToPort === l.bindToPort) return;
        const rt = new ListenerRuntime(l, this);
        try {
          await rt.bind();
          fresh.set(l.name, rt);
        } catch (err) {
          issues.push({ code: ConfigCode.BindFailed, level: 'warning', resource: `Listener/${l.name}`, field: '/address', message: `cannot bind ${l.address}:${l.port}: ${(err as Error).message}` });
        }
      }),
    );

    // 2. switch, synchronously
    for (const [name, c] of compiled.clusters) {
      const eps = c.type === 'EDS' ? compiled.endpoints.get(c.edsServiceName) : undefined;
      const rt = this.clusters.get(name);
      if (rt) rt.update(c, eps);
      else this.clusters.set(name, new UpstreamCluster(c, this.stats, eps, this.secrets, this.clock, this));
    }
    for (const [name, rt] of this.clusters) {
      if (!compiled.clusters.has(name)) {
        this.clusters.delete(name);
        rt.close();
      }
    }
    this.routes = compiled.routes;
    for (const [name, l] of compiled.listeners) {
      const rt = fresh.get(name);
      const old = this.listeners.get(name);
      if (rt) {
        if (old) this.retire(old);
        this.listeners.set(name, rt);
        rt.activate();
      } else if (old && JSON.stringify(old.config.raw) !== JSON.stringify(l.raw)) {
        // same address, new chains: an unchanged listener keeps its compiled chains (and their connections) as is
        old.update(l);
      }
    }
    for (const [name, rt] of this.listeners) {
      if (!compiled.listeners.has(name)) {
        this.listeners.delete(name);
        this.retire(rt);
      }
    }
    this.current = compiled;
    this.applied = { version: (this.applied?.version ?? 0) + 1, at: new Date() };
    if (this.serverState === 'PRE_INITIALIZING') this.serverState = 'LIVE';
    this.serverGauges.live = 1;
    this.serverGauges.state = 0;
    this.serverGauges.version = this.applied.version;
    for (const i of issues) logger.warn(formatIssue(i));
    return { version: this.applied.version, issues };
  }

  /** A listener leaving the snapshot: no new connections, open ones get the drain time, then are closed. */
  private retire(rt: ListenerRuntime): void {
    const done = Promise.race([rt.drain(), new Promise<void>((r) => setTimeout(r, this.options.listenerDrainMs).unref())]).then(() => {
      rt.destroy();
      this.leaving.delete(done);
    });
    this.leaving.add(done);
  }

  // ------------------------------------------------------------ drain and close

  /**
   * Stops accepting, lets requests in flight finish (HTTP/1.1 connections close after their response, HTTP/2
   * ones get GOAWAY), closes idle keep-alive connections; after `timeoutMs` whatever is left is closed.
   */
  async drain(timeoutMs = 5_000): Promise<void> {
    this.serverState = 'DRAINING';
    this.serverGauges.state = 1;
    const all = [...this.listeners.values()];
    for (const l of all) l.stopAccepting();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...all.map((l) => l.drain()), ...this.leaving]),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    if (timer) clearTimeout(timer);
    for (const l of all) l.destroy();
    for (const c of this.clusters.values()) c.drain();
  }

  /** Drains (briefly) and releases everything: listeners, pools, timers. */
  async close(timeoutMs = 0): Promise<void> {
    await this.drain(timeoutMs);
    for (const c of this.clusters.values()) c.destroy();
    this.clusters.clear();
    this.listeners.clear();
  }
}
