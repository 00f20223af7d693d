// One upstream cluster at runtime: its hosts by priority, load balancing with panic mode, circuit breakers, pools, outlier detection.

import dns from 'node:dns';
import { realClock, type Clock, type Timer } from '../../clock.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledCluster, EndpointSpec } from '../config/cluster-config.js';
import type { ResetReason } from '../errors.js';
import { log } from '../log.js';
import { clusterCounters, clusterGauges, type ClusterCounters, type ClusterGauges, type StatsStore } from '../stats.js';
import { createLoadBalancer, EMPTY_LB, type LoadBalancer } from './load-balancer.js';
import './load-balancer-least-request.js';
import './load-balancer-maglev.js';
import './load-balancer-random.js';
import './load-balancer-ring-hash.js';
import './load-balancer-round-robin.js';
import { Http1Pool } from './http1-pool.js';
import { Http2Pool } from './http2-pool.js';
import { OutlierDetector, type LocalOriginResult } from './outlier-detector.js';
import type { HostPool, PoolEvents, UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from './pool.js';
import { UpstreamHost } from './upstream-host.js';
import type net from 'node:net';
import type tls from 'node:tls';
import { upstreamConnectOptions, type SecretStore } from '../tls/tls-context.js';
import type { ConnectionInfo } from '../http/http-stream.js';
import { connectTcp } from './connect.js';

const logger = log('upstream');

interface PriorityLevel {
  priority: number;
  hosts: UpstreamHost[];
  available: UpstreamHost[];
  /** Envoy's health score: available share × 1.4 (overprovisioning), capped at 100. */
  health: number;
  lbAvailable: LoadBalancer | undefined;
  lbAll: LoadBalancer | undefined;
}

/** What the router holds while a request is queued or in flight; abort() cancels either. */
export interface UpstreamRequestHandle {
  abort(): void;
}

export const OVERFLOW = 'overflow' as const;

/** How a cluster reaches its internal hosts: the proxy's internal listeners, in process (Envoy's internal connections). */
export interface InternalConnector {
  /**
   * A connection to internal listener `listener`, which serves it as a connection to `target` (the destination it
   * restores) from `downstream`'s peer when given (its identity, for a CONNECT the proxy terminated), else from itself.
   */
  connectInternal(listener: string, target: { address: string; port: number }, downstream?: ConnectionInfo): net.Socket;
}

/** A connection to a host as a cluster opens it: the socket, and the event that says it is usable. */
export interface HostConnection {
  socket: net.Socket;
  ready: 'connect' | 'secureConnect';
}

export class UpstreamCluster {
  config: CompiledCluster;
  readonly counters: ClusterCounters = clusterCounters();
  readonly gauges: ClusterGauges = clusterGauges();
  hosts: UpstreamHost[] = [];
  private byId = new Map<string, UpstreamHost>();
  private levels: PriorityLevel[] = [];
  /** Cumulative priority loads (percent) when there is more than one level. */
  private loads: number[] = [];
  private totalHealth = 0;
  private outlier: OutlierDetector | undefined;
  private readonly queues = new Map<HostPool, ClusterExchange[]>();
  retriesActive = 0;
  private dnsTimer: Timer | undefined;
  private cleanupTimer: Timer | undefined;
  private poolKey = '';
  private closed = false;

  constructor(
    config: CompiledCluster,
    private readonly stats: StatsStore,
    endpoints: EndpointSpec[] | undefined,
    private readonly secrets?: SecretStore,
    /** Time for outlier detection, DNS refresh and ORIGINAL_DST host cleanup. */
    private readonly clock: Clock = realClock,
    /** The proxy's internal listeners, for hosts at internal addresses. */
    private readonly internal?: InternalConnector,
  ) {
    this.config = config;
    this.stats.register(`cluster.${config.name}.`, this.counters, this.gauges);
    this.update(config, endpoints);
  }

  get name(): string {
    return this.config.name;
  }

  /** Applies a new config and/or endpoint list, keeping host state (counters, outlier history, pools) by address. */
  update(config: CompiledCluster, endpoints: EndpointSpec[] | undefined): void {
    const prevKey = this.poolKey;
    this.config = config;
    this.poolKey = JSON.stringify([config.protocol, config.connectTimeoutMs, config.idleTimeoutMs, config.maxRequestsPerConnection]);
    if (prevKey && prevKey !== this.poolKey) {
      // Pool settings changed: new requests get new pools; open connections finish their requests and close.
      for (const h of this.hosts) this.retirePools(h);
    }
    if (config.outlier) {
      if (this.outlier) this.outlier.update(config.outlier);
      else this.outlier = new OutlierDetector(config.outlier, this, this.clock);
    } else if (this.outlier) {
      this.outlier.close();
      this.outlier = undefined;
      for (const h of this.hosts) h.ejected = false;
    }
    this.clock.clearInterval(this.dnsTimer);
    this.dnsTimer = undefined;
    if (config.type === 'ORIGINAL_DST') {
      this.startCleanup();
      this.rebuild();
      return;
    }
    const specs = config.type === 'EDS' ? endpoints ?? [] : config.staticEndpoints ?? [];
    if (specs.some((s) => s.needsResolve)) {
      this.resolve(specs);
      this.dnsTimer = this.clock.setInterval(() => this.resolve(specs), Math.max(1000, config.dnsRefreshMs));
      this.dnsTimer.unref();
    } else {
      this.setHosts(specs);
    }
  }

  private setHosts(specs: EndpointSpec[]): void {
    const next: UpstreamHost[] = [];
    const byId = new Map<string, UpstreamHost>();
    for (const spec of specs) {
      const probe = new UpstreamHost(spec);
      if (byId.has(probe.id)) continue;
      const existing = this.byId.get(probe.id);
      if (existing) existing.refresh(spec);
      const host = existing ?? probe;
      next.push(host);
      byId.set(host.id, host);
    }
    for (const old of this.hosts) if (!byId.has(old.id)) this.retirePools(old);
    const changed = next.length !== this.hosts.length || next.some((h, i) => h !== this.hosts[i]);
    this.hosts = next;
    this.byId = byId;
    if (changed) this.counters.membership_change++;
    this.counters.update_success++;
    if (next.length === 0) this.counters.update_empty++;
    this.rebuild();
  }

  private resolve(specs: EndpointSpec[]): void {
    const logical = this.config.type === 'LOGICAL_DNS';
    Promise.all(
      specs.map(async (s): Promise<EndpointSpec[]> => {
        if (!s.needsResolve) return [s];
        try {
          const all = await dns.promises.lookup(s.address, { all: true, family: this.config.dnsFamily });
          const addrs = logical ? all.slice(0, 1) : all;
          return addrs.map((a) => ({ ...s, address: a.address, needsResolve: false, hostname: s.address }));
        } catch (err) {
          logger.debug(`cluster ${this.name}: cannot resolve ${s.address}: ${(err as Error).message}`);
          return [];
        }
      }),
    ).then((lists) => {
      if (!this.closed) this.setHosts(lists.flat());
    });
  }

  /** Rebuilds priority levels and drops balancers (they are recreated on first use). */
  private rebuild(): void {
    const byPriority = new Map<number, UpstreamHost[]>();
    for (const h of this.hosts) {
      let list = byPriority.get(h.priority);
      if (!list) byPriority.set(h.priority, (list = []));
      list.push(h);
    }
    const levels: PriorityLevel[] = [];
    let healthy = 0;
    let degraded = 0;
    let excluded = 0;
    for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
      const hosts = byPriority.get(p)!;
      const available = hosts.filter((h) => h.available);
      healthy += available.length;
      degraded += hosts.filter((h) => h.health === 'degraded').length;
      excluded += hosts.filter((h) => h.ejected).length;
      levels.push({ priority: p, hosts, available, health: Math.min(100, Math.floor((140 * available.length) / hosts.length)), lbAvailable: undefined, lbAll: undefined });
    }
    this.levels = levels;
    // Envoy's priority load: each level takes what its health allows, the rest spills to the next; normalised when short.
    let remaining = 100;
    const raw = levels.map((l) => {
      const take = Math.min(remaining, l.health);
      remaining -= take;
      return take;
    });
    this.totalHealth = Math.min(100, levels.reduce((s, l) => s + l.health, 0));
    const sum = raw.reduce((s, v) => s + v, 0);
    let acc = 0;
    this.loads = raw.map((v) => (acc += sum > 0 ? (v * 100) / sum : 0));
    this.gauges.membership_total = this.hosts.length;
    this.gauges.membership_healthy = healthy;
    this.gauges.membership_degraded = degraded;
    this.gauges.membership_excluded = excluded;
  }

  onHostHealthChange(): void {
    this.rebuild();
  }

  /**
   * Picks a host: a priority level by load, then the level's balancer over available hosts (or all hosts in
   * panic mode). `exclude` holds hosts a retry should avoid; up to `attempts` picks are made to avoid them.
   */
  chooseHost(hash: number | undefined, exclude?: ReadonlySet<UpstreamHost>, attempts = 1): UpstreamHost | undefined {
    const levels = this.levels;
    if (levels.length === 0) {
      this.counters.upstream_cx_none_healthy++;
      return undefined;
    }
    let level = levels[0]!;
    const panic = this.totalHealth < this.config.panicThresholdPercent || this.totalHealth === 0;
    if (levels.length > 1 && !panic) {
      const r = Math.random() * 100;
      let i = 0;
      while (i < levels.length - 1 && r >= this.loads[i]!) i++;
      level = levels[i]!;
    }
    let lb: LoadBalancer;
    if (panic) {
      if (this.config.panicThresholdPercent <= 0) {
        this.counters.upstream_cx_none_healthy++;
        return undefined;
      }
      this.counters.lb_healthy_panic++;
      lb = level.lbAll ??= createLoadBalancer(this.config.lbPolicy, level.hosts, this.config);
    } else {
      lb = level.lbAvailable ??= level.available.length ? createLoadBalancer(this.config.lbPolicy, level.available, this.config) : EMPTY_LB;
    }
    const ctx = { hash };
    let host = lb.choose(ctx);
    for (let i = 1; host && exclude?.has(host) && i < attempts; i++) host = lb.choose(ctx);
    if (!host) this.counters.upstream_cx_none_healthy++;
    return host;
  }

  /** ORIGINAL_DST: the host is the request's original destination, created on first use. */
  originalDstHost(address: string, port: number): UpstreamHost {
    const p = this.config.originalDst.portOverride ?? port;
    const probe = new UpstreamHost({ address, port: p });
    const existing = this.byId.get(probe.id);
    if (existing) return existing;
    this.byId.set(probe.id, probe);
    this.hosts.push(probe);
    this.rebuild();
    return probe;
  }

  private startCleanup(): void {
    if (this.cleanupTimer) return;
    const every = 5_000;
    this.cleanupTimer = this.clock.setInterval(() => {
      const keep = this.hosts.filter((h) => h.activeRequests > 0 || h.cxActive > 0);
      if (keep.length === this.hosts.length) return;
      for (const h of this.hosts) if (!keep.includes(h)) this.byId.delete(h.id);
      this.hosts = keep;
      this.rebuild();
    }, every);
    this.cleanupTimer.unref();
  }

  // ------------------------------------------------------------ connection pools and circuit breakers

  /** The pool for `host` and protocol, created on first use. */
  pool(host: UpstreamHost, protocol: 'http1' | 'http2'): HostPool {
    const existing = protocol === 'http2' ? host.http2Pool : host.http1Pool;
    if (existing) return existing;
    const holder: { pool?: HostPool } = {};
    const events = this.poolEvents(host, protocol, holder);
    const pool = protocol === 'http2' ? new Http2Pool(this.poolOptions(host), events) : new Http1Pool(this.poolOptions(host), events);
    holder.pool = pool;
    if (protocol === 'http2') host.http2Pool = pool;
    else host.http1Pool = pool;
    return pool;
  }

  private poolOptions(host: UpstreamHost) {
    return {
      address: host.address,
      port: host.port,
      connectTimeoutMs: this.config.connectTimeoutMs,
      idleTimeoutMs: this.config.idleTimeoutMs,
      maxRequestsPerConnection: this.config.maxRequestsPerConnection,
      // An internal host's listener does the transport (Envoy's internal_upstream): no TLS of the cluster's on top.
      tls: this.config.tls && !host.internal ? () => this.tlsOptions()! : undefined,
      localAddress: this.config.sourceAddress,
      ...(host.internal ? { dial: () => this.connectInternal(host) } : {}),
    };
  }

  private connectInternal(host: UpstreamHost, downstream?: ConnectionInfo, target?: { address: string; port: number }): net.Socket {
    if (!this.internal) throw new Error(`cluster ${this.name}: internal address ${host.id} but the proxy has no internal listeners`);
    return this.internal.connectInternal(host.internal!.listener, target ?? { address: host.address, port: host.port }, downstream);
  }

  /** A CONNECT tunnel through a host (tcp_proxy's tunneling_config, HBONE): on its HTTP/2 session, with the cluster's TLS. */
  tunnel(host: UpstreamHost, authority: string): Promise<import('node:http2').ClientHttp2Stream> {
    return (this.pool(host, 'http2') as Http2Pool).tunnel(authority);
  }

  /**
   * A raw connection to a host (tcp_proxy, WebSocket upgrades, terminated CONNECT): TCP with the cluster's TLS and
   * source address, or an internal connection for an internal host. Throws when TLS is needed but not ready.
   */
  dial(host: UpstreamHost, o: { allowHalfOpen: boolean; downstream?: ConnectionInfo; target?: { address: string; port: number } }): HostConnection {
    // `target`: what an internal listener serves the connection as (a terminated CONNECT's authority), else the host's.
    if (host.internal) return { socket: this.connectInternal(host, o.downstream, o.target), ready: 'connect' };
    const tlsOptions = this.tlsOptions();
    return { socket: connectTcp(host.address, host.port, this.config.connectTimeoutMs, o.allowHalfOpen, tlsOptions, this.config.sourceAddress), ready: tlsOptions ? 'secureConnect' : 'connect' };
  }

  /** Options for a new TLS connection to this cluster's hosts (undefined for plaintext clusters). */
  tlsOptions(): tls.ConnectionOptions | undefined {
    if (!this.config.tls) return undefined;
    if (!this.secrets) throw new Error(`cluster ${this.config.name} needs TLS but the proxy has no secret store`);
    return upstreamConnectOptions(this.secrets, this.config.tls);
  }

  private poolEvents(host: UpstreamHost, protocol: 'http1' | 'http2', holder: { pool?: HostPool }): PoolEvents {
    const c = this.counters;
    const g = this.gauges;
    return {
      onConnectionOpen: () => {
        host.cxActive++;
        host.cxTotal++;
        g.upstream_cx_active++;
        c.upstream_cx_total++;
        if (protocol === 'http1') c.upstream_cx_http1_total++;
        else c.upstream_cx_http2_total++;
      },
      onConnectionClose: () => {
        host.cxActive--;
        g.upstream_cx_active--;
      },
      onConnectFailure: (timedOut) => {
        c.upstream_cx_connect_fail++;
        host.cxConnectFail++;
        if (timedOut) c.upstream_cx_connect_timeout++;
      },
      onCapacity: () => {
        if (holder.pool) this.serveQueue(holder.pool);
      },
      canOpenConnection: () => g.upstream_cx_active < this.config.thresholds.maxConnections,
      onBytes: (rx, tx) => {
        c.upstream_cx_rx_bytes_total += rx;
        c.upstream_cx_tx_bytes_total += tx;
      },
    };
  }

  /** Pools of a removed host (or with outdated settings) stop taking requests and close when idle. */
  private retirePools(host: UpstreamHost): void {
    for (const p of host.pools()) {
      p.drain();
      this.failQueue(p);
    }
    host.http1Pool = undefined;
    host.http2Pool = undefined;
  }

  /**
   * Starts a request on `host`, queues it when no connection is free (max_pending_requests), or returns
   * OVERFLOW when a circuit breaker is open (max_requests, max_pending_requests).
   */
  dispatch(host: UpstreamHost, protocol: 'http1' | 'http2', spec: UpstreamRequestSpec, handler: UpstreamHandler): UpstreamRequestHandle | typeof OVERFLOW {
    const t = this.config.thresholds;
    if (this.gauges.upstream_rq_active >= t.maxRequests) {
      this.counters.upstream_rq_pending_overflow++;
      return OVERFLOW;
    }
    const pool = this.pool(host, protocol);
    const ex = new ClusterExchange(this, host, pool, spec, handler);
    const queue = this.queues.get(pool);
    if ((!queue || queue.length === 0) && pool.hasCapacity()) {
      ex.start();
      return ex;
    }
    if (this.gauges.upstream_rq_pending_active >= t.maxPendingRequests) {
      this.counters.upstream_rq_pending_overflow++;
      return OVERFLOW;
    }
    if (this.gauges.upstream_cx_active >= t.maxConnections) this.counters.upstream_cx_overflow++;
    if (queue) queue.push(ex);
    else this.queues.set(pool, [ex]);
    ex.pending = true;
    this.gauges.upstream_rq_pending_active++;
    this.counters.upstream_rq_pending_total++;
    return ex;
  }

  private serveQueue(pool: HostPool): void {
    const queue = this.queues.get(pool);
    if (!queue) return;
    while (queue.length > 0 && pool.hasCapacity()) {
      const ex = queue.shift()!;
      this.unqueue(ex);
      ex.start();
    }
    if (queue.length === 0) this.queues.delete(pool);
  }

  private failQueue(pool: HostPool): void {
    const queue = this.queues.get(pool);
    if (!queue) return;
    this.queues.delete(pool);
    for (const ex of queue) {
      this.unqueue(ex);
      ex.fail('connection_termination');
    }
  }

  unqueue(ex: ClusterExchange): void {
    if (!ex.pending) return;
    ex.pending = false;
    this.gauges.upstream_rq_pending_active--;
    const queue = this.queues.get(ex.pool);
    if (queue) {
      const i = queue.indexOf(ex);
      if (i >= 0) queue.splice(i, 1);
    }
  }

  /** max_retries: a retry may start only while fewer retries are active across the cluster. */
  tryBeginRetry(): boolean {
    if (this.retriesActive >= this.config.thresholds.maxRetries) {
      this.counters.upstream_rq_retry_overflow++;
      return false;
    }
    this.retriesActive++;
    this.counters.upstream_rq_retry++;
    return true;
  }

  endRetry(): void {
    if (this.retriesActive > 0) this.retriesActive--;
  }

  /** TCP proxy: one more upstream connection if max_connections allows. */
  tryOpenTcpConnection(host: UpstreamHost): boolean {
    if (this.gauges.upstream_cx_active >= this.config.thresholds.maxConnections) {
      this.counters.upstream_cx_overflow++;
      return false;
    }
    this.gauges.upstream_cx_active++;
    this.counters.upstream_cx_total++;
    host.cxActive++;
    host.cxTotal++;
    return true;
  }

  closeTcpConnection(host: UpstreamHost, rx: number, tx: number): void {
    this.gauges.upstream_cx_active--;
    host.cxActive--;
    this.counters.upstream_cx_rx_bytes_total += rx;
    this.counters.upstream_cx_tx_bytes_total += tx;
  }

  // ------------------------------------------------------------ outlier detection

  reportHttpStatus(host: UpstreamHost, status: number): void {
    this.outlier?.putHttpStatus(host, status);
  }

  reportLocalOrigin(host: UpstreamHost, result: LocalOriginResult): void {
    this.outlier?.putLocalOrigin(host, result);
  }

  // ------------------------------------------------------------ lifecycle

  /** Stops using this cluster: idle connections close now, busy ones after their requests. */
  drain(): void {
    for (const h of this.hosts) for (const p of h.pools()) p.drain();
  }

  close(): void {
    this.closed = true;
    this.outlier?.close();
    this.clock.clearInterval(this.dnsTimer);
    this.clock.clearInterval(this.cleanupTimer);
    this.drain();
    this.stats.unregister(`cluster.${this.name}.`);
  }

  destroy(): void {
    this.close();
    for (const h of this.hosts) for (const p of h.pools()) p.destroy();
  }

  /** Connections still open across hosts. */
  get openConnections(): number {
    let n = 0;
    for (const h of this.hosts) for (const p of h.pools()) n += p.connections;
    return n;
  }
}

/** A request as the cluster tracks it: pending, then active on a pool; counters are released exactly once. */
class ClusterExchange implements UpstreamHandler, UpstreamRequestHandle {
  pending = false;
  private active = false;
  private stream: UpstreamStream | undefined;
  private finished = false;

  constructor(
    private readonly cluster: UpstreamCluster,
    private readonly host: UpstreamHost,
    readonly pool: HostPool,
    private readonly spec: UpstreamRequestSpec,
    private readonly handler: UpstreamHandler,
  ) {}

  start(): void {
    this.active = true;
    this.cluster.gauges.upstream_rq_active++;
    this.cluster.counters.upstream_rq_total++;
    this.host.activeRequests++;
    this.host.rqTotal++;
    this.pool.request(this.spec, this);
  }

  private release(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.active) {
      this.cluster.gauges.upstream_rq_active--;
      this.host.activeRequests--;
      this.cluster.counters.upstream_rq_completed++;
    }
  }

  fail(reason: ResetReason): void {
    this.release();
    this.handler.onError(reason, undefined, false);
  }

  onStart(stream: UpstreamStream): void {
    this.stream = stream;
    if (!this.finished) this.handler.onStart(stream);
  }

  onResponse(status: number, headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.finished) return;
    const c = this.cluster.counters;
    if (status < 200) c.upstream_rq_1xx++;
    else if (status < 300) c.upstream_rq_2xx++;
    else if (status < 400) c.upstream_rq_3xx++;
    else if (status < 500) c.upstream_rq_4xx++;
    else c.upstream_rq_5xx++;
    if (status >= 500) this.host.rqError++;
    else this.host.rqSuccess++;
    this.handler.onResponse(status, headers, endStream);
  }

  onData(chunk: Buffer): void {
    if (!this.finished) this.handler.onData(chunk);
  }

  onEnd(trailers: IncomingHttpHeaders | undefined): void {
    if (this.finished) return;
    this.release();
    this.handler.onEnd(trailers);
  }

  onError(reason: ResetReason, err: Error | undefined, afterResponse: boolean): void {
    if (this.finished) return;
    this.release();
    if (!afterResponse) this.host.rqError++;
    this.cluster.counters.upstream_rq_rx_reset++;
    this.handler.onError(reason, err, afterResponse);
  }

  abort(): void {
    if (this.finished) return;
    if (this.pending) {
      this.cluster.unqueue(this);
      this.cluster.counters.upstream_rq_cancelled++;
    } else {
      this.cluster.counters.upstream_rq_tx_reset++;
    }
    this.release();
    this.stream?.abort();
  }
}
