// An ADS client (state of the world or delta) for Trellis's own proxy and for tests: subscribes to listeners and
// clusters, follows the route and endpoint names they reference, hands each complete configuration to `onUpdate`,
// and ACKs it — or NACKs with the error `onUpdate` threw, keeping the last good one. It speaks through a client stack
// (client/stacks.ts): node:http2 with the generated codec by default, or grpc-js with protobufjs; the protocol logic
// here is the same for both.

import { EventEmitter } from 'node:events';
import { realClock, type Clock, type Timer } from '../clock.js';
import type { ClientStack, ClientStackName, GrpcChannel, GrpcStream } from './client/grpc-channel.js';
import { clientStack } from './client/stacks.js';
import { DELTA_DISCOVERY_REQUEST, DELTA_DISCOVERY_RESPONSE, DISCOVERY_REQUEST, DISCOVERY_RESPONSE } from './client/xds-codec.js';
import { nackStatus, type NackStatus } from './nack.js';
import { TypeUrl, type ProxyNode, type XdsSnapshot } from './resource.js';
import { referencedNames, type ReferencedNames } from './references.js';

type Json = Record<string, unknown>;

export interface AdsClientOptions {
  /** `host:port` of the ADS server. */
  address: string;
  node: ProxyNode;
  mode?: 'sotw' | 'delta';
  /** The transport and codec: 'lean' (node:http2 + generated codec) or 'grpc-js'; TRELLIS_XDS_CLIENT's choice by default. */
  stack?: ClientStackName | ClientStack;
  /** Time for the reconnect back-off. */
  clock?: Clock;
  /**
   * Apply a complete configuration; throw (or reject) to NACK it with the error's message, and with the coded items of
   * an error that has them (a `CodedRejection`, see nack.ts).
   */
  onUpdate(snapshot: XdsSnapshot): void | Promise<void>;
  /** Which route and endpoint names to subscribe to, given what arrived (default: what listeners and clusters reference). */
  follow?(snapshot: XdsSnapshot): ReferencedNames;
  /** Apply anyway after this long when a referenced resource never arrives (Envoy's initial fetch timeout role). */
  completeTimeoutMs?: number;
  /**
   * Types outside the proxy's snapshot (Istio's NDS name table): subscribed as wildcards, every response's resources
   * handed to the handler and ACKed (a throw NACKs it).
   */
  extraTypes?: Record<string, (resources: Json[]) => void>;
  /**
   * Whether this is an Envoy-style proxy that wants listeners and clusters (and what they reference). False for a node
   * proxy (ztunnel), which takes only Istio's workload types (`extraTypes`).
   */
  envoyTypes?: boolean;
  log?: (line: string) => void;
}

const ORDER = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Secret] as const;
const nameOf = (typeUrl: string, r: Json): string => String(typeUrl === TypeUrl.ClusterLoadAssignment ? r.clusterName : r.name);

interface TypeState {
  /** The server's view: what it sent, whether or not it applied (a rejected update stays out of the proxy, not out of here). */
  resources: Map<string, Json>;
  version: string;
  nonce: string;
  names: Set<string>;
  received: boolean;
  /** Delta: each resource's version as the server sent it, offered back on a reconnect (initial_resource_versions). */
  versions: Map<string, string>;
}

/**
 * Events: `response` ({ typeUrl, resources, removed }: what each response carried, before it is applied), `applied`
 * (the snapshot), `rejected` (the error), `disconnected` (the stream's error), `retry` (the back-off before the next
 * stream, ms).
 */
export class AdsClient extends EventEmitter {
  private stack: ClientStack | undefined;
  private channel: GrpcChannel | undefined;
  private call: GrpcStream | undefined;
  private readonly types = new Map<string, TypeState>();
  private closed = false;
  private backoffMs = 250;
  private firstOnStream = true;
  private streams = 0;
  /** The last update was rejected: a reconnect then asks for everything again rather than claiming to hold it. */
  private lastRejected = false;
  private completeTimer: Timer | undefined;
  private retryTimer: Timer | undefined;
  private readonly clock: Clock;
  private applying: Promise<void> = Promise.resolve();
  private readonly mode: 'sotw' | 'delta';
  private readonly log: (line: string) => void;
  /** Updates applied so far (tests and benchmarks wait on it). */
  applied = 0;

  /** Streams opened so far, the first one included. */
  get attempts(): number {
    return this.streams;
  }

  constructor(private readonly opts: AdsClientOptions) {
    super();
    this.mode = opts.mode ?? 'sotw';
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    for (const t of [...ORDER, ...Object.keys(opts.extraTypes ?? {})]) this.types.set(t, { resources: new Map(), version: '', nonce: '', names: new Set(), received: false, versions: new Map() });
  }

  /** Connects (once the stack is loaded); the returned promise rejects only when the stack cannot be loaded. */
  start(): Promise<void> {
    const s = this.opts.stack;
    return (typeof s === 'object' ? Promise.resolve(s) : clientStack(s)).then((stack) => {
      if (this.closed) return;
      this.stack = stack;
      this.channel = stack.channel(this.opts.address);
      this.connect();
    });
  }

  /** 'lean' or 'grpc-js', and where its codec came from ('generated', 'reflection'), once started. */
  get transport(): string | undefined {
    return this.stack && `${this.stack.name} (${this.stack.codec.origin} codec)`;
  }

  private state(t: string): TypeState {
    return this.types.get(t)!;
  }

  private connect(): void {
    if (this.closed) return;
    const method = this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const call = this.channel!.stream(`/envoy.service.discovery.v3.AggregatedDiscoveryService/${method}`);
    this.call = call;
    this.firstOnStream = true;
    this.streams++;
    call.on('data', (buf: Buffer) => {
      this.backoffMs = 250;
      this.applying = this.applying.then(() => this.onResponse(buf)).catch((err) => this.log(`xds client: ${(err as Error).message}`));
    });
    const retry = () => {
      if (this.call !== call || this.closed) return;
      this.call = undefined;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 5000);
      this.emit('retry', wait);
      this.retryTimer = this.clock.setTimeout(() => this.connect(), wait);
      this.retryTimer.unref();
    };
    call.on('error', (err: Error) => {
      if (!this.closed) this.emit('disconnected', err);
      retry();
    });
    call.on('end', retry);
    // Wildcard subscriptions first; reconnects resend what is known so the server can skip unchanged resources.
    if (this.opts.envoyTypes !== false) {
      this.subscribe(TypeUrl.Cluster, [], true);
      this.subscribe(TypeUrl.Listener, [], true);
    }
    for (const t of Object.keys(this.opts.extraTypes ?? {})) this.subscribe(t, [], true);
    for (const t of [TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration, TypeUrl.Secret]) {
      const s = this.state(t);
      if (s.names.size) this.subscribe(t, [...s.names], true);
    }
  }

  /** The Node (proto3 JSON), on the first request of a stream only. */
  private node(): Record<string, unknown> | undefined {
    if (!this.firstOnStream) return undefined;
    this.firstOnStream = false;
    const n = this.opts.node;
    return { id: n.id, cluster: n.cluster, metadata: n.metadata ?? {}, locality: n.locality ?? {}, userAgentName: n.userAgentName ?? 'trellis', userAgentVersion: n.userAgentVersion };
  }

  private send(type: typeof DISCOVERY_REQUEST | typeof DELTA_DISCOVERY_REQUEST, request: Record<string, unknown>): void {
    this.call?.write(this.stack!.codec.encode(type, request));
  }

  /** (Re)subscribe to a type: SotW sends the whole name list; delta sends the difference. */
  private subscribe(typeUrl: string, names: string[], initial: boolean): void {
    const s = this.state(typeUrl);
    if (this.mode === 'sotw') {
      s.names = new Set(names);
      this.send(DISCOVERY_REQUEST, { node: this.node(), typeUrl, resourceNames: names, versionInfo: s.version, responseNonce: initial ? '' : s.nonce });
      return;
    }
    const next = new Set(names);
    const subscribe = initial ? names : names.filter((n) => !s.names.has(n));
    const unsubscribe = initial ? [] : [...s.names].filter((n) => !next.has(n));
    s.names = next;
    if (!initial && !subscribe.length && !unsubscribe.length) return;
    // On a reconnect, what this proxy already holds, so the server sends only what changed meanwhile (and the
    // names that went away) instead of everything again.
    const initialResourceVersions = initial && this.streams > 1 && !this.lastRejected ? Object.fromEntries(s.versions) : undefined;
    this.send(DELTA_DISCOVERY_REQUEST, { node: this.node(), typeUrl, resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe, initialResourceVersions });
  }

  private async onResponse(buf: Buffer): Promise<void> {
    const msg = this.stack!.codec.decode(this.mode === 'sotw' ? DISCOVERY_RESPONSE : DELTA_DISCOVERY_RESPONSE, buf);
    const typeUrl = String(msg.typeUrl ?? '');
    const s = this.types.get(typeUrl);
    const nonce = String(msg.nonce ?? '');
    if (!s) return this.ack(typeUrl, String(msg.versionInfo ?? msg.systemVersionInfo ?? ''), nonce, nackStatus(new Error(`type ${typeUrl} is not supported`)));
    let version: string;
    if (this.mode === 'sotw') {
      version = String(msg.versionInfo ?? '');
      const next = new Map<string, Json>();
      for (const r of (msg.resources as Json[]) ?? []) {
        delete r['@type'];
        next.set(nameOf(typeUrl, r), r);
      }
      // SotW for endpoints and routes lists only the subscribed names; keep the rest as they are.
      s.resources = next;
      this.emit('response', { typeUrl, resources: next.size, removed: [] });
    } else {
      version = String(msg.systemVersionInfo ?? '');
      for (const item of (msg.resources as Array<{ name?: string; version?: string; resource?: Json }>) ?? []) {
        if (!item.resource) continue;
        const r = item.resource;
        delete r['@type'];
        const name = item.name || nameOf(typeUrl, r);
        s.resources.set(name, r);
        s.versions.set(name, item.version ?? '');
      }
      for (const n of (msg.removedResources as string[]) ?? []) {
        s.resources.delete(n);
        s.versions.delete(n);
      }
      this.emit('response', { typeUrl, resources: ((msg.resources as unknown[]) ?? []).length, removed: (msg.removedResources as string[]) ?? [] });
    }
    s.received = true;
    s.nonce = nonce;
    const extra = this.opts.extraTypes?.[typeUrl];
    if (extra) {
      try {
        extra([...s.resources.values()]);
        s.version = version;
        this.ack(typeUrl, version, nonce);
      } catch (err) {
        this.ack(typeUrl, s.version, nonce, nackStatus(err));
      }
      return;
    }
    const snap = this.snapshot();
    const wanted = (this.opts.follow ?? referencedNames)(snap);
    // Follow references before applying, so the server can send them while this one applies.
    this.resubscribe(TypeUrl.RouteConfiguration, wanted.routes);
    this.resubscribe(TypeUrl.ClusterLoadAssignment, wanted.endpoints);
    this.resubscribe(TypeUrl.Secret, wanted.secrets);
    if (!this.complete(snap, wanted)) {
      // Valid so far; apply once the referenced resources are here (or after the timeout).
      s.version = version;
      this.ack(typeUrl, version, nonce);
      this.clock.clearTimeout(this.completeTimer);
      this.completeTimer = this.clock.setTimeout(() => void (this.applying = this.applying.then(() => this.apply(undefined))), this.opts.completeTimeoutMs ?? 1000);
      this.completeTimer.unref();
      return;
    }
    this.clock.clearTimeout(this.completeTimer);
    await this.apply({ typeUrl, version, nonce });
  }

  private async apply(response: { typeUrl: string; version: string; nonce: string } | undefined): Promise<void> {
    const snap = this.snapshot();
    try {
      await this.opts.onUpdate(snap);
      this.applied++;
      this.lastRejected = false;
      if (response) {
        this.state(response.typeUrl).version = response.version;
        this.ack(response.typeUrl, response.version, response.nonce);
      }
      this.emit('applied', snap);
    } catch (err) {
      // The proxy keeps its last good config (apply is atomic); the next update is tried as a whole again.
      const status = nackStatus(err);
      this.lastRejected = true;
      if (response) this.ack(response.typeUrl, this.state(response.typeUrl).version, response.nonce, status);
      this.emit('rejected', status.message);
    }
  }

  private complete(snap: XdsSnapshot, wanted: ReferencedNames): boolean {
    const have = (t: string, names: string[]) => names.every((n) => this.state(t).resources.has(n));
    return this.state(TypeUrl.Cluster).received && this.state(TypeUrl.Listener).received && have(TypeUrl.RouteConfiguration, wanted.routes) && have(TypeUrl.ClusterLoadAssignment, wanted.endpoints) && have(TypeUrl.Secret, wanted.secrets) && snap !== undefined;
  }

  private resubscribe(typeUrl: string, names: string[]): void {
    const s = this.state(typeUrl);
    const next = new Set(names);
    if (next.size === s.names.size && [...next].every((n) => s.names.has(n))) return;
    // Names no longer wanted are dropped here: the server sends no removal for an unsubscribed name.
    for (const n of [...s.resources.keys()]) {
      if (next.has(n)) continue;
      s.resources.delete(n);
      s.versions.delete(n);
    }
    this.subscribe(typeUrl, names, false);
  }

  /** ACK, or NACK with `errorDetail`. */
  private ack(typeUrl: string, version: string, nonce: string, errorDetail?: NackStatus): void {
    if (this.mode === 'sotw') {
      const s = this.types.get(typeUrl);
      this.send(DISCOVERY_REQUEST, { typeUrl, versionInfo: version, responseNonce: nonce, resourceNames: s ? [...s.names] : [], errorDetail });
    } else {
      this.send(DELTA_DISCOVERY_REQUEST, { typeUrl, responseNonce: nonce, errorDetail });
    }
  }

  snapshot(): XdsSnapshot {
    // The trust boundary: decoded messages are taken as their types' proto3 JSON; the proxy validates every field.
    const list = <T>(t: string) => [...this.state(t).resources.values()] as T[];
    return { listeners: list(TypeUrl.Listener), routes: list(TypeUrl.RouteConfiguration), clusters: list(TypeUrl.Cluster), endpoints: list(TypeUrl.ClusterLoadAssignment), secrets: list(TypeUrl.Secret) };
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.completeTimer);
    this.clock.clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.call = undefined;
    this.channel?.close();
  }
}
