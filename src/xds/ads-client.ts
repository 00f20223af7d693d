// An ADS client (state of the world or delta) for Trellis's own proxy and for benchmarks' simulated proxies:
// subscribes to listeners and clusters, follows the route and endpoint names they reference, hands each complete
// configuration to `onUpdate`, and ACKs it — or NACKs with the error `onUpdate` threw, keeping the last good one.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { anyToJson } from './codec.js';
import { nackStatus, type WireStatus } from './nack.js';
import { TypeUrl, type ProxyNode, type XdsSnapshot } from './resource.js';
import { referencedNames, type ReferencedNames } from './references.js';
import { encodeDeltaRequest, encodeRequest, wireTypes } from './wire.js';

type Json = Record<string, unknown>;

export interface AdsClientOptions {
  /** `host:port` of the ADS server. */
  address: string;
  node: ProxyNode;
  mode?: 'sotw' | 'delta';
  credentials?: grpc.ChannelCredentials;
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
 * (the snapshot), `rejected` (the error), `disconnected` (the stream's error).
 */
export class AdsClient extends EventEmitter {
  private readonly client: grpc.Client;
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private readonly types = new Map<string, TypeState>();
  private closed = false;
  private backoffMs = 250;
  private firstOnStream = true;
  private streams = 0;
  /** The last update was rejected: a reconnect then asks for everything again rather than claiming to hold it. */
  private lastRejected = false;
  private completeTimer: NodeJS.Timeout | undefined;
  private applying: Promise<void> = Promise.resolve();
  private readonly mode: 'sotw' | 'delta';
  private readonly log: (line: string) => void;
  /** Updates applied so far (tests and benchmarks wait on it). */
  applied = 0;

  constructor(private readonly opts: AdsClientOptions) {
    super();
    this.mode = opts.mode ?? 'sotw';
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.client = new grpc.Client(opts.address, opts.credentials ?? grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    for (const t of [...ORDER, ...Object.keys(opts.extraTypes ?? {})]) this.types.set(t, { resources: new Map(), version: '', nonce: '', names: new Set(), received: false, versions: new Map() });
  }

  start(): void {
    this.connect();
  }

  private state(t: string): TypeState {
    return this.types.get(t)!;
  }

  private connect(): void {
    if (this.closed) return;
    const method = this.mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    const raw = (b: Buffer) => b;
    const call = this.client.makeBidiStreamRequest(`/envoy.service.discovery.v3.AggregatedDiscoveryService/${method}`, raw, raw);
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
      setTimeout(() => this.connect(), wait).unref();
    };
    call.on('error', (err) => {
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

  private node(): unknown {
    if (!this.firstOnStream) return undefined;
    this.firstOnStream = false;
    const n = this.opts.node;
    return { id: n.id, cluster: n.cluster, metadata: toStruct(n.metadata), locality: n.locality ?? {}, userAgentName: n.userAgentName ?? 'trellis', userAgentVersion: n.userAgentVersion };
  }

  private send(buf: Buffer): void {
    this.call?.write(buf);
  }

  /** (Re)subscribe to a type: SotW sends the whole name list; delta sends the difference. */
  private subscribe(typeUrl: string, names: string[], initial: boolean): void {
    const s = this.state(typeUrl);
    if (this.mode === 'sotw') {
      s.names = new Set(names);
      this.send(encodeRequest({ node: this.node() as never, typeUrl, resourceNames: names, versionInfo: s.version, responseNonce: initial ? '' : s.nonce }));
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
    this.send(encodeDeltaRequest({ node: this.node() as never, typeUrl, resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe, initialResourceVersions } as never));
  }

  private async onResponse(buf: Buffer): Promise<void> {
    const t = this.mode === 'sotw' ? wireTypes().res : wireTypes().dres;
    const msg = t.decode(buf) as unknown as Json;
    const typeUrl = String(msg.typeUrl);
    const s = this.types.get(typeUrl);
    const nonce = String(msg.nonce);
    if (!s) return this.ack(typeUrl, String(msg.versionInfo ?? msg.systemVersionInfo ?? ''), nonce, nackStatus(new Error(`type ${typeUrl} is not supported`)));
    let version: string;
    if (this.mode === 'sotw') {
      version = String(msg.versionInfo);
      const next = new Map<string, Json>();
      for (const any of (msg.resources as Array<{ type_url?: string; value?: Uint8Array }>) ?? []) {
        const r = anyToJson(any);
        delete r['@type'];
        next.set(nameOf(typeUrl, r), r);
      }
      // SotW for endpoints and routes lists only the subscribed names; keep the rest as they are.
      s.resources = next;
      this.emit('response', { typeUrl, resources: next.size, removed: [] });
    } else {
      version = String(msg.systemVersionInfo);
      for (const item of (msg.resources as Array<{ name?: string; resource?: { type_url?: string; value?: Uint8Array } }>) ?? []) {
        if (!item.resource) continue;
        const r = anyToJson(item.resource);
        delete r['@type'];
        const name = item.name || nameOf(typeUrl, r);
        s.resources.set(name, r);
        s.versions.set(name, String((item as { version?: string }).version ?? ''));
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
      clearTimeout(this.completeTimer);
      this.completeTimer = setTimeout(() => void (this.applying = this.applying.then(() => this.apply(undefined))), this.opts.completeTimeoutMs ?? 1000);
      this.completeTimer.unref();
      return;
    }
    clearTimeout(this.completeTimer);
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
  private ack(typeUrl: string, version: string, nonce: string, errorDetail?: WireStatus): void {
    if (this.mode === 'sotw') {
      const s = this.types.get(typeUrl);
      this.send(encodeRequest({ typeUrl, versionInfo: version, responseNonce: nonce, resourceNames: s ? [...s.names] : [], errorDetail }));
    } else {
      this.send(encodeDeltaRequest({ typeUrl, responseNonce: nonce, errorDetail } as never));
    }
  }

  snapshot(): XdsSnapshot {
    // The trust boundary: decoded messages are taken as their types' proto3 JSON; the proxy validates every field.
    const list = <T>(t: string) => [...this.state(t).resources.values()] as T[];
    return { listeners: list(TypeUrl.Listener), routes: list(TypeUrl.RouteConfiguration), clusters: list(TypeUrl.Cluster), endpoints: list(TypeUrl.ClusterLoadAssignment), secrets: list(TypeUrl.Secret) };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.completeTimer);
    this.call?.cancel();
    this.call = undefined;
    this.client.close();
  }
}

/** Plain JSON metadata → the protobufjs form of google.protobuf.Struct. */
function toStruct(v: Record<string, unknown>): unknown {
  const value = (x: unknown): unknown => {
    if (x === null || x === undefined) return { nullValue: 'NULL_VALUE' };
    if (typeof x === 'number') return { numberValue: x };
    if (typeof x === 'string') return { stringValue: x };
    if (typeof x === 'boolean') return { boolValue: x };
    if (Array.isArray(x)) return { listValue: { values: x.map(value) } };
    return { structValue: toStruct(x as Record<string, unknown>) };
  };
  return { fields: Object.fromEntries(Object.entries(v ?? {}).map(([k, x]) => [k, value(x)])) };
}
