// A bound listener: accepts connections, picks a filter chain (Envoy's FilterChainMatch order), hands off to HTTP or TCP, drains.

import net from 'node:net';
import { cidrContains } from '../config/cidr.js';
import { compileHcm, type CompiledFilterChain, type CompiledListener } from '../config/listener-config.js';
import { rbacAllows, type CompiledRbac } from '../config/rbac.js';
import { IssueSink } from '../errors.js';
import { ConnectionManager } from '../http/connection-manager.js';
import type { ConnectionInfo } from '../http/http-stream.js';
import { log } from '../log.js';
import type { ProxyRuntime } from '../runtime.js';
import { listenerCounters, listenerGauges } from '../stats.js';
import { TcpProxy } from '../tcp/tcp-proxy.js';
import { sniff, type Detected } from './protocol-sniff.js';
import { serverNameScore } from './client-hello.js';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { peerPrincipal, type DownstreamTls } from '../tls/tls-context.js';
import { originalDestination } from './original-dst.js';

const logger = log('connection');

type ChainHandler = ConnectionManager | TcpProxy;

function normalizeAddress(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Narrows candidates on one criterion: chains that set it and match win; otherwise those that do not set it. */
function narrow(cands: CompiledFilterChain[], isSet: (c: CompiledFilterChain) => boolean, matches: (c: CompiledFilterChain) => boolean): CompiledFilterChain[] {
  const specific = cands.filter((c) => isSet(c) && matches(c));
  if (specific.length) return specific;
  return cands.filter((c) => !isSet(c));
}

function isLoopback(a: string): boolean {
  return a === '::1' || a.startsWith('127.');
}

export function selectChain(l: CompiledListener, info: ConnectionInfo, detected: Detected | undefined, sni?: string): CompiledFilterChain | undefined {
  let c = l.chains.slice();
  const transport = detected === 'tls' ? 'tls' : 'raw_buffer';
  const app = detected === 'h2c' ? ['h2c'] : detected === 'http/1.1' ? ['http/1.1', 'http/1.0'] : [];
  c = narrow(c, (x) => x.match.destinationPort !== undefined, (x) => x.match.destinationPort === info.localPort);
  c = narrow(c, (x) => x.match.prefixRanges.length > 0, (x) => x.match.prefixRanges.some((r) => cidrContains(r, info.localAddress)));
  // Server names (from the ClientHello): an exact name beats wildcards, the longest wildcard beats shorter ones.
  const best = Math.max(-1, ...c.map((x) => (x.match.serverNames ? serverNameScore(x.match.serverNames, sni) : -1)));
  c = narrow(c, (x) => x.match.serverNames !== undefined, (x) => best >= 0 && serverNameScore(x.match.serverNames!, sni) === best);
  c = narrow(c, (x) => x.match.transportProtocol !== undefined, (x) => x.match.transportProtocol === transport);
  c = narrow(c, (x) => x.match.applicationProtocols !== undefined, (x) => x.match.applicationProtocols!.some((p) => app.includes(p)));
  c = narrow(
    c,
    (x) => x.match.sourceType !== 'ANY',
    (x) => (x.match.sourceType === 'SAME_IP_OR_LOOPBACK') === (isLoopback(info.remoteAddress) || info.remoteAddress === info.localAddress),
  );
  c = narrow(c, (x) => x.match.sourcePrefixRanges.length > 0, (x) => x.match.sourcePrefixRanges.some((r) => cidrContains(r, info.remoteAddress)));
  c = narrow(c, (x) => x.match.sourcePorts !== undefined, (x) => x.match.sourcePorts!.has(info.remotePort));
  return c[0] ?? l.defaultChain;
}

export class ListenerRuntime {
  readonly counters = listenerCounters();
  readonly gauges = listenerGauges();
  private server: net.Server | undefined;
  private handlers = new Map<CompiledFilterChain, ChainHandler>();
  /** Handlers of chains an update replaced, still serving their connections until drained. */
  private retired = new Set<ChainHandler>();
  private active = false;
  private queued: net.Socket[] = [];
  private boundPort = 0;
  private draining = false;
  /** useOriginalDst listeners: the codec that hands each HTTP request to the listener its target names. */
  private dispatcher: ConnectionManager | undefined;

  constructor(public config: CompiledListener, private readonly runtime: ProxyRuntime) {}

  get name(): string {
    return this.config.name;
  }

  get port(): number {
    return this.boundPort || this.config.port;
  }

  get address(): string {
    return this.config.address;
  }

  /** Binds the address; connections wait until activate() so a snapshot becomes visible all at once. */
  bind(): Promise<void> {
    if (!this.config.bindToPort) return Promise.resolve();
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.onConnection(s));
    this.server = server;
    server.on('error', (err) => logger.error(`listener ${this.name}: ${err.message}`));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ host: this.config.address, port: this.config.port, ipv6Only: false }, () => {
        server.removeListener('error', onError);
        const a = server.address();
        if (a && typeof a === 'object') this.boundPort = a.port;
        this.runtime.stats.register(`listener.${this.statName()}.`, this.counters, this.gauges);
        resolve();
      });
    });
  }

  private statName(): string {
    const a = this.config.address;
    return `${a.includes(':') ? `[${a}]` : a}_${this.port}`;
  }

  activate(): void {
    this.active = true;
    for (const s of this.queued.splice(0)) this.onConnection(s);
  }

  /** New chains for the same address: new connections use them, open ones keep their chain until they close. */
  update(config: CompiledListener): void {
    const old = this.handlers;
    this.config = config;
    this.handlers = new Map();
    const olds: ChainHandler[] = [...old.values()];
    if (this.dispatcher) olds.push(this.dispatcher);
    this.dispatcher = undefined;
    for (const h of olds) {
      this.retired.add(h);
      void h.drain(false).then(() => this.retired.delete(h));
    }
  }

  private handlerFor(chain: CompiledFilterChain): ChainHandler | undefined {
    let h = this.handlers.get(chain);
    if (h) return h;
    const t = chain.terminal;
    if (!t) return undefined;
    h = t.kind === 'http' ? new ConnectionManager(t.hcm, this.name, this.runtime) : new TcpProxy(t.tcp, this.name, this.runtime);
    this.handlers.set(chain, h);
    return h;
  }

  onConnection(socket: net.Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    if (!this.active) {
      this.queued.push(socket);
      return;
    }
    const info: ConnectionInfo = {
      remoteAddress: normalizeAddress(socket.remoteAddress),
      remotePort: socket.remotePort ?? 0,
      localAddress: normalizeAddress(socket.localAddress),
      localPort: socket.localPort ?? 0,
    };
    if (this.config.restoresOriginalDst) {
      // Envoy's original_dst filter: a captured connection takes its original destination as its local address; with
      // use_original_dst it goes to the listener bound there (exact address first, then the port's wildcard), else it
      // stays on this listener, whose chains match the destination.
      const dst = originalDestination(socket);
      if (dst) {
        const restored: ConnectionInfo = { ...info, localAddress: dst.address, localPort: dst.port, restored: true };
        const target = this.config.useOriginalDst ? this.runtime.listenerForDestination?.(dst.address, dst.port) : undefined;
        (target && target !== this ? target : this).serve(socket, restored);
        return;
      }
    }
    this.serve(socket, info);
  }

  /** A connection this listener serves: its own, or one a useOriginalDst listener handed off. */
  serve(socket: net.Socket, info: ConnectionInfo): void {
    this.counters.downstream_cx_total++;
    this.gauges.downstream_cx_active++;
    socket.once('close', () => {
      this.gauges.downstream_cx_active--;
      this.counters.downstream_cx_destroy++;
    });
    socket.on('error', () => undefined);
    const l = this.config;
    const bySni = l.chains.some((c) => c.match.serverNames !== undefined);
    const needsSniff = (l.useOriginalDst && !info.restored) || l.sniffApplicationProtocol || bySni || l.chains.some((c) => c.match.transportProtocol !== undefined);
    if (needsSniff) {
      sniff(socket, l.listenerFiltersTimeoutMs, (d, hello) => {
        if (d === undefined && !l.continueOnListenerFiltersTimeout) {
          this.counters.downstream_listener_filter_error++;
          socket.destroy();
          return;
        }
        this.dispatch(socket, info, d, hello?.serverName);
      }, bySni);
    } else {
      this.dispatch(socket, info, undefined);
    }
  }

  private dispatch(socket: net.Socket, info: ConnectionInfo, detected: Detected | undefined, sni?: string): void {
    if (this.config.useOriginalDst && !info.restored && this.runtime.originalDstHttp && (detected === 'http/1.1' || detected === 'h2c')) {
      this.originalDstDispatcher().handleConnection(socket, info, detected);
      return;
    }
    const chain = selectChain(this.config, info, detected, sni);
    const handler = chain ? this.handlerFor(chain) : undefined;
    if (!handler) {
      this.counters.no_filter_chain_match++;
      socket.destroy();
      return;
    }
    if (chain!.tls) {
      this.terminateTls(socket, info, chain!.tls, handler, chain!.connectionRbac);
      return;
    }
    if (!this.connectionAllowed(chain!.connectionRbac, info, socket)) return;
    if (handler instanceof ConnectionManager) handler.handleConnection(socket, info, detected);
    else handler.handleConnection(socket, info);
  }

  /** Network RBAC (AuthorizationPolicy on TCP ports): a denied connection is closed before any byte is proxied. */
  private connectionAllowed(rbac: readonly CompiledRbac[], conn: ConnectionInfo, socket: net.Socket | tls.TLSSocket): boolean {
    if (rbac.every((r) => rbacAllows(r, { conn }))) return true;
    this.counters.rbac_denied++;
    socket.destroy();
    return false;
  }

  /**
   * TLS termination, then the chain's handler on the decrypted stream. The raw socket is wrapped as a plain Duplex so
   * the bytes the protocol sniffer already read (and unshifted) reach the TLS engine.
   */
  private terminateTls(
    socket: net.Socket,
    info: ConnectionInfo,
    cfg: DownstreamTls,
    handler: NonNullable<ReturnType<ListenerRuntime['handlerFor']>>,
    rbac: readonly CompiledRbac[],
  ): void {
    const secrets = this.runtime.secrets;
    let secureContext;
    try {
      if (!secrets) throw new Error('no secret store');
      secureContext = secrets.context(cfg);
    } catch {
      // No certificate yet (the agent is still fetching it): refuse rather than serve without identity.
      this.counters.ssl_connection_error++;
      socket.destroy();
      return;
    }
    const wrapped = new tls.TLSSocket(Duplex.from({ readable: socket, writable: socket }) as unknown as net.Socket, {
      isServer: true,
      secureContext,
      requestCert: cfg.requireClientCert,
      rejectUnauthorized: cfg.requireClientCert,
      // HTTP/2 for clients that offer only h2 (gRPC, http2 upstreams), HTTP/1.1 for the rest (Istio's ALPN list ends there).
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    const timer = setTimeout(() => wrapped.destroy(), 10_000);
    wrapped.on('error', () => {
      clearTimeout(timer);
      this.counters.ssl_connection_error++;
      socket.destroy();
    });
    socket.on('close', () => wrapped.destroy());
    // The TLS layer closing (a half-close, a handshake failure, proxy shutdown) must release the raw socket too.
    wrapped.on('close', () => socket.destroy());
    wrapped.once('secure', () => {
      clearTimeout(timer);
      // A certificate that does not chain to the trusted roots must be refused here: Node enforces
      // rejectUnauthorized only for sockets a tls.Server made, not for one built around a peeked stream like this.
      if (cfg.requireClientCert && !clientCertificateVerified(wrapped)) {
        this.counters.ssl_connection_error++;
        wrapped.destroy();
        socket.destroy();
        return;
      }
      this.counters.ssl_handshake++;
      // Node clears this only for sockets a tls.Server made; node:http2 would wait for a secureConnect that never comes.
      (wrapped as unknown as { secureConnecting: boolean }).secureConnecting = false;
      const principal = peerPrincipal(wrapped);
      const sni = (wrapped as unknown as { servername?: string | false }).servername;
      const secured: ConnectionInfo = { ...info, tls: true, mtls: !!principal && cfg.requireClientCert, peerPrincipal: principal, ...(sni ? { sni } : {}) };
      if (!this.connectionAllowed(rbac, secured, wrapped)) return socket.destroy();
      if (handler instanceof ConnectionManager) handler.handleConnection(wrapped as unknown as net.Socket, secured, wrapped.alpnProtocol === 'h2' ? 'h2c' : 'http/1.1');
      else handler.handleConnection(wrapped as unknown as net.Socket, secured);
    });
  }

  /** The HTTP connection manager of the chain a connection with `info` would take, if that chain is HTTP. */
  httpHandlerFor(info: ConnectionInfo, detected: Detected | undefined): ConnectionManager | undefined {
    const chain = selectChain(this.config, info, detected);
    const h = chain ? this.handlerFor(chain) : undefined;
    return h instanceof ConnectionManager ? h : undefined;
  }

  /**
   * Without traffic capture the original destination of a connection is unknown, but an HTTP request names
   * its target (absolute-form URL or Host). Requests whose port has no listener follow this listener's own
   * TCP chain: its cluster (Istio's PassthroughCluster / BlackHoleCluster) receives them as HTTP.
   */
  private originalDstDispatcher(): ConnectionManager {
    if (this.dispatcher) return this.dispatcher;
    const own = this.config.defaultChain ?? this.config.chains.find((c) => c.terminal?.kind === 'tcp');
    const cluster = own?.terminal?.kind === 'tcp' ? own.terminal.tcp.cluster ?? own.terminal.tcp.weighted?.[0]?.name : undefined;
    const route = cluster ? { match: { prefix: '/' }, route: { cluster, timeout: '0s' } } : { match: { prefix: '/' }, directResponse: { status: 502 } };
    const hcm = compileHcm(
      {
        statPrefix: `${this.name}_http`,
        routeConfig: { name: this.name, virtualHosts: [{ name: 'original_dst', domains: ['*'], routes: [route] }] },
        httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
      },
      new IssueSink(),
      '',
    );
    this.dispatcher = new ConnectionManager(hcm, this.name, this.runtime, (target, info) => this.runtime.originalDstHttp!(target, info));
    return this.dispatcher;
  }

  /** Stops accepting; resolves when every connection has closed. */
  async drain(): Promise<void> {
    this.draining = true;
    this.stopAccepting();
    for (const s of this.queued.splice(0)) s.destroy();
    await Promise.all([...this.handlers.values(), ...this.retired, ...(this.dispatcher ? [this.dispatcher] : [])].map((h) => h.drain()));
  }

  stopAccepting(): void {
    if (this.server) {
      this.server.close();
      this.runtime.stats.unregister(`listener.${this.statName()}.`);
      this.server = undefined;
    }
  }

  destroy(): void {
    this.draining = true;
    this.stopAccepting();
    for (const s of this.queued.splice(0)) s.destroy();
    for (const h of [...this.handlers.values(), ...this.retired]) h.destroy();
    this.dispatcher?.destroy();
  }

  get connectionCount(): number {
    let n = 0;
    for (const h of [...this.handlers.values(), ...this.retired]) n += h.connectionCount;
    return n;
  }
}

/**
 * OpenSSL's verdict on the client's certificate chain, as Node's own tls.Server reads it after the handshake. Fails
 * closed: no verdict to read (a Node without the handle's verifyError) means refused.
 */
function clientCertificateVerified(s: tls.TLSSocket): boolean {
  const handle = (s as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (typeof handle?.verifyError !== 'function') return false;
  return handle.verifyError() === null;
}
