// A config store over a Kubernetes API server: informers for the Istio, Gateway API and Maistra resources and the
// Kubernetes objects the registry reads, turned into the same Resource model the watched directory produces, screened
// by the same validation (a bad object is rejected and its last good version stays). A multi-tenant control plane
// watches only its own namespace and its members (an informer per type and namespace, as OpenShift Service Mesh's
// istiod does), and so does a cluster-wide one whose mesh config has discoverySelectors (the namespaces they select);
// any other cluster-wide one watches each type once across the cluster.

import { GROUPS } from '../config/kinds.js';
import { objectToResource } from '../config/loader.js';
import { meshTopologyOf } from '../config/mesh-topology.js';
import { resourceKey, resourceLabel, type Resource } from '../config/resource.js';
import { BaseStore, type ConfigStore, type Rejection } from '../controlplane/store/config-store.js';
import { diffResources, stampGenerations } from '../controlplane/store/diff.js';
import { screen } from '../controlplane/store/screen.js';
import type { KubeClient, KubeObject } from './client/kube-client.js';
import { Informer, type InformerChange, type InformerOptions, type InformerStats } from './informer.js';
import { collectionPath, discoverTypes, objectPath, TOPOLOGY_KINDS, typeKey, type WatchedType } from './resource-types.js';

export interface KubernetesStoreOptions {
  client: KubeClient;
  /** The control plane's namespace (default istio-system): its ServiceMeshControlPlane decides what is watched. */
  controlPlaneNamespace?: string;
  /** Quiet period that gathers watch events into one change (default 20 ms). */
  debounceMs?: number;
  informer?: Pick<InformerOptions, 'backoff' | 'watchTimeoutSeconds' | 'pageSize' | 'clock'>;
  log?: (line: string) => void;
  /** close() closes the client too. */
  ownsClient?: boolean;
}

/** Which namespaces are watched: every one (one informer per type), or these (one informer per type and namespace). */
export type WatchScope = { cluster: true } | { cluster: false; namespaces: ReadonlySet<string> };

interface Entry {
  type: WatchedType;
  resourceVersion: string | undefined;
  /** The accepted version (the last good one when the latest was rejected). */
  accepted: Resource | undefined;
  /** The status as last seen (of kinds whose status the control plane writes, kept out of `accepted`). */
  status: unknown;
}

/**
 * Groups whose status the control plane or operator writes (validationMessages, Gateway API conditions, Maistra
 * status): their status and resourceVersion stay out of the Resource, so a status write does not come back as a
 * config change and a push.
 */
const STATUS_WRITTEN_GROUPS: ReadonlySet<string> = new Set([GROUPS.ISTIO_NET, GROUPS.ISTIO_SEC, GROUPS.ISTIO_TEL, 'extensions.istio.io', GROUPS.GATEWAY_API, GROUPS.MAISTRA]);

const byCreation = (a: Resource, b: Resource) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || resourceKey(a).localeCompare(resourceKey(b));

const entryKey = (type: WatchedType, namespace: string, name: string) => `${type.group}/${type.kind}/${type.namespaced ? namespace : ''}/${name}`;

export class KubernetesStore extends BaseStore implements ConfigStore {
  private readonly entries = new Map<string, Entry>();
  private readonly rejected = new Map<string, Rejection>();
  /** By collection path. */
  private readonly informers = new Map<string, { type: WatchedType; namespace: string | undefined; informer: Informer }>();
  private scope: WatchScope = { cluster: false, namespaces: new Set() };
  /** The scope last asked for (applied in order, one at a time). */
  private target: WatchScope | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** What the watch events since the last commit did, for the change's reason. */
  private pending = { count: 0, last: '' };
  private closed = false;
  private rescoping: Promise<void> = Promise.resolve();
  readonly controlPlaneNamespace: string;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly o: KubernetesStoreOptions,
    readonly types: readonly WatchedType[],
  ) {
    super();
    this.controlPlaneNamespace = o.controlPlaneNamespace ?? 'istio-system';
    this.log = o.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /**
   * Discovers the served versions, lists and watches the kinds that decide the topology (Namespaces, control planes,
   * member rolls and members) across the cluster, then everything else in the scope they give. Resolves once every
   * informer has listed, with the first change committed.
   */
  static async open(o: KubernetesStoreOptions): Promise<KubernetesStore> {
    const { types, missing } = await discoverTypes(o.client);
    const store = new KubernetesStore(o, types);
    if (missing.length) store.log(`kubernetes: not served by the API server, not watched: ${missing.join(', ')}`);
    await Promise.all(types.filter((t) => TOPOLOGY_KINDS.has(typeKey(t))).map((t) => store.startInformer(t, undefined)));
    store.commit('initial list');
    store.rescope();
    await store.rescoping;
    return store;
  }

  rejections(): readonly Rejection[] {
    return [...this.rejected.values()];
  }

  /** What is watched now. */
  watchScope(): WatchScope {
    return this.scope;
  }

  /** Each informer's counters, by collection path. */
  informerStats(): Map<string, InformerStats> {
    return new Map([...this.informers].map(([path, i]) => [path, i.informer.stats]));
  }

  get client(): KubeClient {
    return this.o.client;
  }

  /** An object's status as last seen (for kinds whose status Trellis writes, not part of its Resource). */
  statusOf(type: WatchedType, namespace: string, name: string): unknown {
    return this.entries.get(entryKey(type, namespace, name))?.status;
  }

  /** The served type of a kind, for writers (status, labels). */
  typeOf(group: string, kind: string): WatchedType | undefined {
    return this.types.find((t) => t.group === group && t.kind === kind);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.rescoping;
    await Promise.all([...this.informers.values()].map((i) => i.informer.stop()));
    this.informers.clear();
    this.removeAllListeners();
    if (this.o.ownsClient) this.o.client.close();
  }

  /**
   * A multi-tenant control plane watches its namespace and members; a cluster-wide one (an SMCP's or Istio's) the whole
   * cluster, or with the mesh config's discoverySelectors only its namespace and the namespaces they select.
   */
  private desiredScope(): WatchScope {
    const all = this.current;
    const hasSmcp = all.some((r) => r.group === 'maistra.io' && r.kind === 'ServiceMeshControlPlane');
    const topology = meshTopologyOf(all);
    const plane = hasSmcp ? topology.controlPlanes.find((p) => p.namespace === this.controlPlaneNamespace) : topology.controlPlanes[0];
    if (!plane || plane.mode === 'MultiTenant') return { cluster: false, namespaces: new Set([this.controlPlaneNamespace, ...(plane?.members ?? [])]) };
    if (!plane.model.config.discoverySelectors.length) return { cluster: true };
    return { cluster: false, namespaces: new Set([this.controlPlaneNamespace, plane.namespace, ...[...topology.namespaces.keys()].filter((ns) => plane.watches(ns))]) };
  }

  private sameScope(a: WatchScope, b: WatchScope): boolean {
    if (a.cluster || b.cluster) return a.cluster === b.cluster;
    return a.namespaces.size === b.namespaces.size && [...a.namespaces].every((n) => b.namespaces.has(n));
  }

  /** Starts the informers a scope needs and stops those it no longer does (their objects leave the store). */
  private async applyScope(scope: WatchScope): Promise<void> {
    this.scope = scope;
    const wanted = new Map<string, { type: WatchedType; namespace: string | undefined }>();
    for (const t of this.types) {
      if (TOPOLOGY_KINDS.has(typeKey(t))) continue;
      if (scope.cluster || !t.namespaced) wanted.set(collectionPath(t), { type: t, namespace: undefined });
      else for (const ns of scope.namespaces) wanted.set(collectionPath(t, ns), { type: t, namespace: ns });
    }
    const stopping: Array<Promise<void>> = [];
    for (const [path, i] of this.informers) {
      if (TOPOLOGY_KINDS.has(typeKey(i.type)) || wanted.has(path)) continue;
      this.informers.delete(path);
      stopping.push(i.informer.stop());
      for (const obj of i.informer.objects()) this.forget(i.type, obj);
    }
    await Promise.all(stopping);
    await Promise.all([...wanted].filter(([path]) => !this.informers.has(path)).map(([, w]) => this.startInformer(w.type, w.namespace)));
  }

  private async startInformer(type: WatchedType, namespace: string | undefined): Promise<void> {
    const path = collectionPath(type, namespace);
    const informer = new Informer({ ...this.o.informer, client: this.o.client, path, log: this.log });
    this.informers.set(path, { type, namespace, informer });
    informer.on('change', (change) => this.onChange(type, change));
    await informer.start();
  }

  private onChange(type: WatchedType, change: InformerChange): void {
    if (this.closed) return;
    for (const obj of change.deleted) this.forget(type, obj);
    for (const obj of change.upserted) this.admit(type, obj);
    this.schedule();
  }

  /** Converts and screens one object; a rejected version leaves the last good one in force. */
  private admit(type: WatchedType, obj: KubeObject): void {
    const meta = obj.metadata ?? {};
    const path = objectPath(type, meta.namespace ?? '', meta.name ?? '');
    // The API server's field-ownership bookkeeping is large and nobody downstream reads it.
    const { managedFields: _managed, ...metadata } = meta;
    const key = entryKey(type, meta.namespace ?? '', meta.name ?? '');
    const entry = this.entries.get(key) ?? { type, resourceVersion: undefined, accepted: undefined, status: undefined };
    this.entries.set(key, entry);
    entry.resourceVersion = meta.resourceVersion;
    const { status, ...rest } = obj as KubeObject & { status?: unknown };
    const { resourceVersion: _version, ...kept } = metadata;
    entry.status = status;
    const object: KubeObject = STATUS_WRITTEN_GROUPS.has(type.group) ? { ...rest, metadata: kept } : { ...obj, metadata };
    const made = objectToResource({ ...object, apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind }, path);
    const diagnostics = 'error' in made ? [] : screen([made.resource]).errors;
    if ('resource' in made && !diagnostics.length) {
      this.pending = { count: this.pending.count + 1, last: `${resourceLabel(made.resource)} ${entry.accepted ? 'changed' : 'added'}` };
      entry.accepted = made.resource;
      this.rejected.delete(key);
      return;
    }
    const rejection: Rejection = { source: path, at: Date.now(), diagnostics };
    this.rejected.set(key, rejection);
    this.log(`kubernetes: rejected ${path}: ${diagnostics.map((d) => `[${d.code}] ${d.message}`).join('; ') || ('error' in made ? made.error.message : '')}; the last good version stays in force`);
    this.emit('rejected', rejection);
  }

  private forget(type: WatchedType, obj: KubeObject): void {
    const meta = obj.metadata ?? {};
    const key = entryKey(type, meta.namespace ?? '', meta.name ?? '');
    if (this.entries.delete(key)) this.pending = { count: this.pending.count + 1, last: `${type.kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name} deleted` };
    this.rejected.delete(key);
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.commit('watch'), this.o.debounceMs ?? 20);
  }

  private commit(via: string): void {
    clearTimeout(this.timer);
    const next = [...this.entries.values()].flatMap((e) => (e.accepted ? [e.accepted] : [])).sort(byCreation);
    stampGenerations(this.current, next);
    const p = this.pending;
    this.pending = { count: 0, last: '' };
    const change = diffResources(this.current, next, `kubernetes ${via}${p.last ? `: ${p.last}` : ''}${p.count > 1 ? ` and ${p.count - 1} more` : ''}`);
    if (!change) return;
    this.current = next;
    this.rev++;
    this.emit('change', change);
    if (via !== 'initial list') this.rescope();
  }

  /** Membership may have changed: move the informers to the new scope (one rescope at a time). */
  private rescope(): void {
    const desired = this.desiredScope();
    if (this.target && this.sameScope(desired, this.target)) return;
    this.target = desired;
    this.log(`kubernetes: watching ${desired.cluster ? 'the whole cluster' : `namespaces ${[...desired.namespaces].sort().join(', ')}`}`);
    this.rescoping = this.rescoping.then(() => (this.closed ? undefined : this.applyScope(desired))).then(() => this.commit('scope change'));
  }
}
