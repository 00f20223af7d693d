// tcp_proxy: each downstream connection is piped to a host of the cluster, with connect timeout, max_connections and idle timeout.

import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { CompiledTcpProxy } from '../config/listener-config.js';
import type { ConnectionInfo } from '../http/http-stream.js';
import { hostPort } from '../http/http-stream.js';
import { formatFlags, type ResponseFlag } from '../response-flags.js';
import type { ProxyRuntime } from '../runtime.js';
import type { StatGroup } from '../stats.js';
import { murmur3 } from '../upstream/hash.js';
import type { UpstreamCluster } from '../upstream/upstream-cluster.js';
import type { UpstreamHost } from '../upstream/upstream-host.js';

export class TcpProxy {
  readonly counters: StatGroup;
  private readonly conns = new Set<net.Socket>();
  private drainWaiters: Array<() => void> = [];

  constructor(readonly config: CompiledTcpProxy, readonly listenerName: string, readonly runtime: ProxyRuntime) {
    this.counters = runtime.tcpStats(config.statPrefix);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  pickCluster(): string | undefined {
    const w = this.config.weighted;
    if (!w) return this.config.cluster;
    const total = w.reduce((s, c) => s + c.weight, 0);
    let r = Math.random() * total;
    for (const c of w) {
      if (r < c.weight) return c.name;
      r -= c.weight;
    }
    return w[w.length - 1]?.name;
  }

  handleConnection(downstream: net.Socket, info: ConnectionInfo): void {
    this.counters.downstream_cx_total!++;
    this.conns.add(downstream);
    downstream.once('close', () => {
      this.conns.delete(downstream);
      this.counters.downstream_cx_rx_bytes_total! += downstream.bytesRead;
      this.counters.downstream_cx_tx_bytes_total! += downstream.bytesWritten;
      if (this.drainWaiters.length && this.conns.size === 0) for (const w of this.drainWaiters.splice(0)) w();
    });
    new TcpSession(this, downstream, info).start();
  }

  drain(_closeIdleNow = true): Promise<void> {
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  destroy(): void {
    for (const s of this.conns) s.destroy();
  }
}

/** One proxied connection: host choice (with connect retries), the byte pipe, and its record. */
class TcpSession {
  private readonly started = Date.now();
  private readonly flags: ResponseFlag[] = [];
  private cluster: UpstreamCluster | undefined;
  private clusterName = '';
  private host: UpstreamHost | undefined;
  private upstream: Duplex | undefined;
  private connected = false;
  private attempts = 0;
  private details = '';

  constructor(private readonly proxy: TcpProxy, private readonly downstream: net.Socket, private readonly info: ConnectionInfo) {}

  start(): void {
    const ds = this.downstream;
    ds.pause();
    ds.on('error', () => this.upstream?.destroy());
    ds.once('close', () => {
      this.upstream?.destroy();
      this.record();
    });
    this.clusterName = this.proxy.pickCluster() ?? '';
    this.cluster = this.proxy.runtime.cluster(this.clusterName);
    if (!this.cluster) {
      this.flags.push('NC');
      this.details = 'cluster_not_found';
      this.proxy.counters.downstream_cx_no_route!++;
      ds.destroy();
      return;
    }
    this.connect();
  }

  private chooseHost(cluster: UpstreamCluster): UpstreamHost | undefined {
    if (cluster.config.type === 'ORIGINAL_DST') {
      // A captured connection's original destination (restored by the listener); without capture the address the
      // client connected to is this listener, and connecting there would loop: no host.
      return this.info.restored ? cluster.originalDstHost(this.info.localAddress, this.info.localPort) : undefined;
    }
    const hash = this.proxy.config.hashSourceIp ? murmur3(this.info.remoteAddress) : undefined;
    return cluster.chooseHost(hash);
  }

  private connect(): void {
    const cluster = this.cluster!;
    const ds = this.downstream;
    if (ds.destroyed) return;
    this.attempts++;
    const host = this.chooseHost(cluster);
    this.host = host;
    if (!host) {
      this.flags.push('UH');
      this.details = 'no_healthy_upstream';
      ds.destroy();
      return;
    }
    if (!cluster.tryOpenTcpConnection(host)) {
      this.flags.push('UO');
      this.details = 'overflow';
      ds.destroy();
      return;
    }
    if (this.proxy.config.tunnelingHostname !== undefined) return this.tunnel(cluster, host, this.proxy.config.tunnelingHostname);
    let dialed;
    try {
      dialed = cluster.dial(host, { allowHalfOpen: true, downstream: this.info });
    } catch (err) {
      // A TLS cluster whose certificate or roots have not arrived: fail the connection, never fall back to plaintext.
      cluster.closeTcpConnection(host, 0, 0);
      this.flags.push('UF');
      this.details = `tls_context_unavailable: ${(err as Error).message}`;
      ds.destroy();
      return;
    }
    const up = dialed.socket;
    this.upstream = up;
    up.once(dialed.ready, () => this.onConnected(cluster, host, up));
    up.on('error', (err) => {
      this.details = err.message;
      if (this.connected) return;
      cluster.counters.upstream_cx_connect_fail++;
      host.cxConnectFail++;
      cluster.reportLocalOrigin(host, 'connect_failed');
    });
    up.once('close', () => {
      cluster.closeTcpConnection(host, up.bytesRead, up.bytesWritten);
      if (this.connected) {
        // the upstream went away: half-closes travel through pipe(); a reset ends the client side too
        if (!ds.destroyed && !up.readableEnded) ds.destroy();
        return;
      }
      if (this.attempts < this.proxy.config.maxConnectAttempts && !ds.destroyed) {
        this.connect();
        return;
      }
      this.flags.push('UF');
      this.details ||= 'upstream_connect_failure';
      ds.destroy();
    });
  }

  /**
   * tcp_proxy's tunneling_config: the connection's bytes go in an HTTP/2 CONNECT stream to the host, its authority
   * from the configured hostname (%DOWNSTREAM_LOCAL_ADDRESS%: the restored destination) — Istio's HBONE originator.
   */
  private tunnel(cluster: UpstreamCluster, host: UpstreamHost, hostname: string): void {
    const ds = this.downstream;
    const local = this.info.localAddress.includes(':') ? `[${this.info.localAddress}]:${this.info.localPort}` : `${this.info.localAddress}:${this.info.localPort}`;
    const authority = hostname.replaceAll('%DOWNSTREAM_LOCAL_ADDRESS%', local);
    cluster.tunnel(host, authority).then(
      (stream) => {
        if (ds.destroyed) return void stream.close();
        this.upstream = stream;
        let sent = 0;
        let received = 0;
        stream.on('data', (c: Buffer) => (received += c.length));
        ds.on('data', (c: Buffer) => (sent += c.length));
        stream.on('error', () => undefined);
        stream.once('close', () => {
          cluster.closeTcpConnection(host, received, sent);
          if (!ds.destroyed && !stream.readableEnded) ds.destroy();
        });
        this.onConnected(cluster, host, stream);
      },
      (err: Error) => {
        cluster.closeTcpConnection(host, 0, 0);
        cluster.counters.upstream_cx_connect_fail++;
        host.cxConnectFail++;
        this.flags.push('UF');
        this.details = err.message;
        ds.destroy();
      },
    );
  }

  private onConnected(cluster: UpstreamCluster, host: UpstreamHost, up: Duplex): void {
    const ds = this.downstream;
    this.connected = true;
    cluster.reportLocalOrigin(host, 'connect_success');
    this.proxy.runtime.observers.tcpOpen({
      listener: this.proxy.listenerName,
      upstreamCluster: cluster.name,
      upstreamHost: host.id,
      downstreamRemoteAddress: hostPort(this.info.remoteAddress, this.info.remotePort),
      ...(this.info.mtls && this.info.peerPrincipal ? { peerPrincipal: this.info.peerPrincipal } : {}),
    });
    up.pipe(ds);
    ds.pipe(up);
    ds.resume();
    const idle = this.proxy.config.idleTimeoutMs;
    if (idle > 0) {
      // Envoy's tcp_proxy idle timeout: no bytes either way for `idle` ms closes both sides.
      let last = Date.now();
      const touch = () => (last = Date.now());
      ds.on('data', touch);
      up.on('data', touch);
      const check = () => {
        if (Date.now() - last >= idle) {
          this.proxy.counters.idle_timeout!++;
          this.details = 'idle_timeout';
          ds.destroy();
          up.destroy();
        } else {
          timer = setTimeout(check, idle - (Date.now() - last));
        }
      };
      let timer = setTimeout(check, idle);
      ds.once('close', () => clearTimeout(timer));
    }
    const max = this.proxy.config.maxDownstreamConnectionDurationMs;
    if (max > 0) {
      const t = setTimeout(() => ds.destroy(), max);
      ds.once('close', () => clearTimeout(t));
    }
  }

  private record(): void {
    const ds = this.downstream;
    this.proxy.runtime.observers.tcp({
      listener: this.proxy.listenerName,
      statPrefix: this.proxy.config.statPrefix,
      startTime: this.started,
      downstreamRemoteAddress: hostPort(this.info.remoteAddress, this.info.remotePort),
      downstreamLocalAddress: hostPort(this.info.localAddress, this.info.localPort),
      upstreamCluster: this.clusterName,
      upstreamHost: this.host?.id ?? '',
      responseFlags: formatFlags(this.flags),
      bytesReceived: ds.bytesRead,
      bytesSent: ds.bytesWritten,
      duration: Date.now() - this.started,
      connectionTerminationDetails: this.details,
      ...(this.info.mtls && this.info.peerPrincipal ? { peerPrincipal: this.info.peerPrincipal } : {}),
    });
  }
}
