// The ADS server (envoy.service.discovery.v3.AggregatedDiscoveryService): state of the world and delta streams,
// versions and nonces per type, ACK/NACK bookkeeping, debounced pushes that reach only proxies whose config changed.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { ConfigGenerator, ProxyResources, PushRequest } from './generator.js';
import { proxyIdentity, type ProxyIdentity } from './node.js';
import { TypeUrl, type ProxyNode } from './resource.js';
import { nextEncodingGeneration } from './codec.js';
import { nackDetail, type NackDetail } from './nack.js';
import { PushQueue } from './push-queue.js';
import { shutdownGrpcServer } from '../grpc-shutdown.js';
import { encodedSet, namesKey, WILDCARD, type EncodedSet, type Selection } from './encoded-set.js';
import { decodeDeltaRequest, decodeRequest, encodeDeltaResponse, encodeResponse, versionOf, type DeltaDiscoveryRequest, type DiscoveryRequest, type EncodedResource } from './wire.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';
/** Make-before-break: clusters and their endpoints before the listeners and routes that point at them. */
// Workload authorizations before the addresses that name them, as Istio pushes WADS before WDS.
const PUSH_ORDER: string[] = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Secret, TypeUrl.NameTable, TypeUrl.Authorization, TypeUrl.Address];
/** Types where an empty subscription means "everything" (Envoy's wildcard), unless the client is proxyless. */
const WILDCARD_TYPES = new Set<string>([TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.NameTable, TypeUrl.Authorization, TypeUrl.Address]);

export const TYPE_SHORT: Record<string, string> = {
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Secret]: 'SDS',
  [TypeUrl.NameTable]: 'NDS',
  [TypeUrl.Address]: 'WDS',
  [TypeUrl.Authorization]: 'WADS',
};

export type SyncState = 'SYNCED' | 'NOT SENT' | 'STALE' | 'NACK' | 'IGNORED';

/** One type's state on one stream, as syncz shows it. */
export interface TypeStatus {
  typeUrl: string;
  subscribed: string[] | '*';
  versionSent: string;
  nonceSent: string;
  sentAt?: string;
  versionAcked: string;
  ackedAt?: string;
  resources: number;
  /** The proxy's last NACK of this type: the version, its error_detail (status, message, coded items), when. */
  nack?: NackDetail & { version: string; at: string };
  state: SyncState;
}

export interface ProxyStatus {
  id: string;
  connectionId: string;
  mode: 'sotw' | 'delta';
  peer: string;
  connectedAt: string;
  identity: ProxyIdentity;
  node: ProxyNode;
  types: TypeStatus[];
}

export interface AdsServerOptions {
  generator: ConfigGenerator;
  /** Quiet period that folds a burst of push requests into one push (default 100 ms). */
  debounceMs?: number;
  /** Longest a push waits while requests keep coming (default 1 s). */
  maxDelayMs?: number;
  /** Control plane identifier sent in responses. */
  identifier?: string;
  log?: (line: string) => void;
}

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** WILDCARD, or namesKey(names): proxies subscribing alike share an encoded response. */
  key: string;
  nonce: string;
  versionSent: string;
  sentAt: number;
  versionAcked: string;
  ackedAt: number;
  count: number;
  nack: (NackDetail & { version: string; at: number }) | undefined;
  /** Delta: the versions (content hashes) the client holds, by resource name. */
  known: Map<string, string>;
}

let connectionCounter = 0;
/**
 * Nonces number responses, not streams: one encoded response goes to every stream that gets the same resources,
 * and a nonce only has to tell a stream's responses apart (a stream never gets the same response twice in a row).
 */
let responseCounter = 0;
const nextNonce = () => String(++responseCounter);

/** One ADS stream of one proxy. */
class Connection {
  readonly id: string;
  node!: ProxyNode;
  identity!: ProxyIdentity;
  readonly connectedAt = Date.now();
  readonly types = new Map<string, TypeState>();
  /** The configuration last generated for this proxy, per type, encoded (shared with proxies of its shape). */
  generated = new Map<string, EncodedSet>();
  raw: ProxyResources = new Map();

  constructor(
    readonly mode: 'sotw' | 'delta',
    readonly call: grpc.ServerDuplexStream<Buffer, Buffer>,
  ) {
    this.id = `conn-${++connectionCounter}`;
  }

  get peer(): string {
    return this.call.getPeer();
  }

  state(typeUrl: string): TypeState {
    let s = this.types.get(typeUrl);
    if (!s) {
      s = { wildcard: false, names: new Set(), key: '', nonce: '', versionSent: '', sentAt: 0, versionAcked: '', ackedAt: 0, count: 0, nack: undefined, known: new Map() };
      this.types.set(typeUrl, s);
    }
    return s;
  }
}

export interface AdsServerEvents {
  connect: [ProxyStatus];
  disconnect: [{ id: string; connectionId: string }];
  ack: [{ id: string; typeUrl: string; version: string; latencyMs: number }];
  nack: [{ id: string; typeUrl: string; version: string; message: string; rejected: NackDetail['rejected'] }];
  push: [{ reason: string; proxies: number; sent: number; durationMs: number }];
}

export class AdsServer extends EventEmitter<AdsServerEvents> {
  private readonly server = new grpc.Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  private readonly connections = new Set<Connection>();
  private generator: ConfigGenerator;
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;
  private readonly log: (line: string) => void;
  private pending: { reasons: Set<string>; proxies: Set<string> | 'all'; first: number; timer: NodeJS.Timeout } | undefined;
  private closed = false;
  private readonly pushQueue = new PushQueue<Connection>(
    (c) => this.pushTo(c),
    (b) => this.emit('push', { reason: [...b.reasons].join(', '), proxies: b.reached, sent: b.sent, durationMs: performance.now() - b.start }),
  );

  constructor(private readonly options: AdsServerOptions) {
    super();
    this.generator = options.generator;
    this.debounceMs = options.debounceMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.log = options.log ?? ((l) => process.stderr.write(l + '\n'));
    const raw = (b: Buffer) => b;
    const method = (name: string) => ({
      path: SERVICE + name,
      requestStream: true,
      responseStream: true,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    });
    this.server.addService(
      { StreamAggregatedResources: method('StreamAggregatedResources'), DeltaAggregatedResources: method('DeltaAggregatedResources') } as grpc.ServiceDefinition,
      {
        StreamAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.serve(new Connection('sotw', call)),
        DeltaAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.serve(new Connection('delta', call)),
      },
    );
  }

  /** Listen on host:port (port 0 picks one); resolves to the bound port. Plaintext, like istiod's 15010. */
  listen(host: string, port: number, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => this.server.bindAsync(target, credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
  }

  setGenerator(generator: ConfigGenerator): void {
    this.generator = generator;
  }

  /** Ask for a push; a burst becomes one push after `debounceMs` of quiet (at most `maxDelayMs` late). */
  requestPush(req: PushRequest): void {
    if (this.closed) return;
    const now = Date.now();
    if (!this.pending) {
      this.pending = { reasons: new Set(), proxies: new Set(), first: now, timer: undefined as unknown as NodeJS.Timeout };
    }
    const p = this.pending;
    p.reasons.add(req.reason);
    if (!req.proxies) p.proxies = 'all';
    else if (p.proxies !== 'all') for (const id of req.proxies) p.proxies.add(id);
    clearTimeout(p.timer);
    const wait = Math.max(0, Math.min(this.debounceMs, p.first + this.maxDelayMs - now));
    p.timer = setTimeout(() => this.flush(), wait);
  }

  /** Push now to every proxy (or the given ones), skipping the debounce. */
  pushNow(req: PushRequest): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.push(req.reason, req.proxies ? new Set(req.proxies) : 'all');
  }

  private flush(): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p || this.closed) return;
    this.push([...p.reasons].join(', '), p.proxies);
  }

  private push(reason: string, proxies: Set<string> | 'all'): void {
    if (!this.pushQueue.busy) nextEncodingGeneration(); // what this push does not encode again is not kept
    this.pushQueue.add(reason, [...this.connections].filter((c) => c.node && (proxies === 'all' || proxies.has(c.node.id))));
  }

  /** One proxy's part of a push: regenerate, and send the types whose content changed. */
  private pushTo(c: Connection): number {
    if (!this.connections.has(c) || !this.regenerate(c)) return 0; // gone meanwhile, or generation failed
    let sent = 0;
    for (const typeUrl of PUSH_ORDER) if (c.types.has(typeUrl)) sent += this.respond(c, typeUrl, false) ? 1 : 0;
    return sent;
  }

  /** Regenerate a proxy's config; false when generation failed (the proxy keeps what it has). */
  private regenerate(c: Connection): boolean {
    let resources: ProxyResources;
    try {
      resources = this.generator.generate(c.node);
    } catch (err) {
      this.log(`xds: generating config for ${c.node.id} failed: ${(err as Error).message}; it keeps its current config`);
      return false;
    }
    const generated = new Map<string, EncodedSet>();
    try {
      for (const [typeUrl, list] of resources) generated.set(typeUrl, encodedSet(list));
    } catch (err) {
      this.log(`xds: encoding config for ${c.node.id} failed: ${(err as Error).message}; it keeps its current config`);
      return false;
    }
    c.generated = generated;
    c.raw = resources;
    return true;
  }

  // ------------------------------------------------------------ streams

  private serve(c: Connection): void {
    c.call.on('data', (buf: Buffer) => {
      try {
        if (c.mode === 'sotw') this.onRequest(c, decodeRequest(buf));
        else this.onDeltaRequest(c, decodeDeltaRequest(buf));
      } catch (err) {
        this.log(`xds: bad request on ${c.id} (${c.node?.id ?? c.peer}): ${(err as Error).message}`);
        c.call.destroy(err as Error);
      }
    });
    const end = () => {
      if (!this.connections.delete(c)) return;
      this.emit('disconnect', { id: c.node?.id ?? '', connectionId: c.id });
    };
    c.call.on('end', () => {
      end();
      c.call.end();
    });
    c.call.on('error', end);
    c.call.on('close', end);
    c.call.on('cancelled', end);
  }

  /** The first request of a stream carries the node: identify the proxy and generate its config. */
  private identify(c: Connection, node: DiscoveryRequest['node']): boolean {
    if (c.node) return true;
    if (!node?.id) {
      c.call.destroy(Object.assign(new Error('the first request of a stream must carry node.id'), { code: grpc.status.INVALID_ARGUMENT }));
      return false;
    }
    c.node = {
      id: node.id,
      cluster: node.cluster ?? '',
      metadata: (node.metadata as Record<string, unknown>) ?? {},
      locality: node.locality,
      userAgentName: node.userAgentName,
      userAgentVersion: node.userAgentVersion,
    };
    c.identity = proxyIdentity(c.node);
    this.connections.add(c);
    this.regenerate(c);
    this.emit('connect', this.statusOf(c));
    return true;
  }

  private onRequest(c: Connection, req: DiscoveryRequest): void {
    if (!this.identify(c, req.node)) return;
    const s = c.state(req.typeUrl);
    const names = new Set(req.resourceNames);
    if (req.responseNonce) {
      if (req.responseNonce !== s.nonce) return; // stale: an answer to a response that has been superseded
      if (this.recordNack(c, req.typeUrl, req.errorDetail)) return; // not resent until the config changes
      s.versionAcked = req.versionInfo;
      s.ackedAt = Date.now();
      s.nack = undefined;
      this.emit('ack', { id: c.node.id, typeUrl: req.typeUrl, version: req.versionInfo, latencyMs: s.ackedAt - s.sentAt });
      // An ACK may also change the subscription (e.g. a new route name after a listener update).
      if (sameSet(names, s.names)) return;
      s.names = names;
      s.key = s.wildcard ? WILDCARD : namesKey(names);
      this.respond(c, req.typeUrl, true);
      return;
    }
    // A new subscription (first request for this type on this stream, or a reconnect).
    s.wildcard = names.size === 0 ? WILDCARD_TYPES.has(req.typeUrl) && c.identity.generator !== 'grpc' : names.has('*');
    s.names = names;
    s.key = s.wildcard ? WILDCARD : namesKey(names);
    if (req.versionInfo) s.versionAcked = req.versionInfo; // what the client already has, from an earlier stream
    this.respond(c, req.typeUrl, true);
  }

  /** A request answering the latest response with an error_detail is a NACK: keep it for syncz and say so; false for an ACK. */
  private recordNack(c: Connection, typeUrl: string, errorDetail: DiscoveryRequest['errorDetail']): boolean {
    const detail = nackDetail(errorDetail);
    if (!detail) return false;
    const s = c.state(typeUrl);
    s.nack = { ...detail, version: s.versionSent, at: Date.now() };
    this.log(`xds: ${c.node.id} rejected ${TYPE_SHORT[typeUrl] ?? typeUrl} version ${s.versionSent}: ${detail.message}`);
    this.emit('nack', { id: c.node.id, typeUrl, version: s.versionSent, message: detail.message, rejected: detail.rejected });
    return true;
  }

  /** SotW: send the subscribed resources of a type if they differ from what was sent (or `force` on a new request). */
  private respond(c: Connection, typeUrl: string, force: boolean): boolean {
    if (c.mode === 'delta') return this.respondDelta(c, typeUrl, force);
    const s = c.state(typeUrl);
    const all = c.generated.get(typeUrl);
    if (!all && !force) return false;
    const selection: Selection = all ? all.select(s.key, s.names) : { resources: [], version: versionOf([]) };
    const { version, resources } = selection;
    if (!force && version === s.versionSent) return false;
    if (!force && s.nack && s.nack.version === version) return false;
    // The response is encoded once per selection and written to every stream that gets it, unless this stream
    // already holds that very response (a repeated request): then it gets a copy under a nonce of its own.
    let response = selection.response;
    if (!response || response.nonce === s.nonce) {
      const nonce = nextNonce();
      response = { nonce, bytes: encodeResponse({ versionInfo: version, typeUrl, nonce, resources, controlPlane: this.options.identifier }) };
      if (all) selection.response = response;
    }
    s.nonce = response.nonce;
    s.versionSent = version;
    s.sentAt = Date.now();
    s.count = resources.length;
    c.call.write(response.bytes);
    return true;
  }

  private onDeltaRequest(c: Connection, req: DeltaDiscoveryRequest): void {
    if (!this.identify(c, req.node)) return;
    const s = c.state(req.typeUrl);
    if (req.responseNonce) {
      if (req.responseNonce === s.nonce) {
        if (!this.recordNack(c, req.typeUrl, req.errorDetail)) {
          s.versionAcked = s.versionSent;
          s.ackedAt = Date.now();
          s.nack = undefined;
          this.emit('ack', { id: c.node.id, typeUrl: req.typeUrl, version: s.versionSent, latencyMs: s.ackedAt - s.sentAt });
        }
      }
    } else if (s.nonce === '') {
      // First request for the type: wildcard unless it names resources; the client's versions avoid resending.
      s.wildcard = (req.resourceNamesSubscribe.length === 0 && WILDCARD_TYPES.has(req.typeUrl) && c.identity.generator !== 'grpc') || req.resourceNamesSubscribe.includes('*');
      for (const [name, version] of Object.entries(req.initialResourceVersions ?? {})) s.known.set(name, version);
    }
    let changed = false;
    for (const n of req.resourceNamesSubscribe) if (n !== '*' && !s.names.has(n)) (s.names.add(n), (changed = true));
    for (const n of req.resourceNamesUnsubscribe) {
      if (n === '*') s.wildcard = false;
      if (s.names.delete(n)) s.known.delete(n);
    }
    if (!s.key || req.resourceNamesSubscribe.length || req.resourceNamesUnsubscribe.length) s.key = s.wildcard ? WILDCARD : namesKey(s.names);
    if (changed || !req.responseNonce) this.respondDelta(c, req.typeUrl, !req.responseNonce);
  }

  /** Delta: send what changed or appeared in the subscription, and the names that went away. */
  private respondDelta(c: Connection, typeUrl: string, force: boolean): boolean {
    const s = c.state(typeUrl);
    const set = c.generated.get(typeUrl);
    const all = set?.byName ?? new Map<string, EncodedResource>();
    // What the subscription selects, and its version, are shared by the proxies of one shape; the diff is this stream's.
    const { resources: wanted, version } = set ? set.select(s.key, s.names) : { resources: [], version: versionOf([]) };
    const changed = wanted.filter((r) => s.known.get(r.name) !== r.hash);
    const present = (n: string) => all.has(n) && (s.wildcard || s.names.has(n));
    const removed = [...s.known.keys()].filter((n) => !present(n) && (s.wildcard || s.names.has(n) || !all.has(n)));
    if (!changed.length && !removed.length && !force) return false;
    if (!force && s.nack && s.nack.version === version) return false;
    for (const r of changed) s.known.set(r.name, r.hash);
    for (const n of removed) s.known.delete(n);
    s.nonce = nextNonce();
    s.versionSent = version;
    s.sentAt = Date.now();
    s.count = wanted.length;
    c.call.write(encodeDeltaResponse({ systemVersionInfo: version, typeUrl, nonce: s.nonce, resources: changed, removed }));
    return true;
  }

  // ------------------------------------------------------------ status

  private statusOf(c: Connection): ProxyStatus {
    return {
      id: c.node.id,
      connectionId: c.id,
      mode: c.mode,
      peer: c.peer,
      connectedAt: new Date(c.connectedAt).toISOString(),
      identity: c.identity,
      node: c.node,
      types: [...c.types].map(([typeUrl, s]) => ({
        typeUrl,
        subscribed: s.wildcard ? '*' : [...s.names],
        versionSent: s.versionSent,
        nonceSent: s.nonce,
        sentAt: s.sentAt ? new Date(s.sentAt).toISOString() : undefined,
        versionAcked: s.versionAcked,
        ackedAt: s.ackedAt ? new Date(s.ackedAt).toISOString() : undefined,
        resources: s.count,
        nack: s.nack ? { ...s.nack, at: new Date(s.nack.at).toISOString() } : undefined,
        state: syncState(s),
      })),
    };
  }

  /** Every connected proxy with its per-type sync state (Istio's syncz). */
  proxies(): ProxyStatus[] {
    return [...this.connections].filter((c) => c.node).map((c) => this.statusOf(c));
  }

  /** What was last generated for a proxy (by node id, or a unique part of it). */
  configFor(idOrPart: string): { id: string; resources: ProxyResources; versions: Record<string, string> } | undefined {
    const all = [...this.connections].filter((c) => c.node);
    const c = all.find((x) => x.node.id === idOrPart) ?? uniqueMatch(all, idOrPart);
    if (!c) return undefined;
    const versions: Record<string, string> = {};
    for (const [t, s] of c.types) versions[t] = s.versionSent;
    return { id: c.node.id, resources: c.raw, versions };
  }

  /** Proxies whose latest sent version of every subscribed type is ACKed. */
  allSynced(): boolean {
    return [...this.connections].every((c) => !c.node || [...c.types.values()].every((s) => syncState(s) === 'SYNCED'));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pending) clearTimeout(this.pending.timer);
    this.pushQueue.clear();
    for (const c of this.connections) c.call.end();
    await shutdownGrpcServer(this.server);
  }
}

function syncState(s: TypeState): SyncState {
  if (!s.nonce) return 'NOT SENT';
  if (s.nack && s.nack.version === s.versionSent) return 'NACK';
  if (s.versionAcked === s.versionSent) return 'SYNCED';
  return 'STALE';
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function uniqueMatch(all: Connection[], part: string): Connection | undefined {
  const hits = all.filter((c) => c.node.id.includes(part) || `${c.identity.podName}.${c.identity.namespace}` === part);
  return hits.length === 1 ? hits[0] : undefined;
}

