// The conformance harness: a `trellis up` over a directory holding the suite's base, where each test applies its
// manifests as files (kubectl apply), reads status as the control plane reports it (/debug/status), finds a Gateway's
// address there, and sends requests to it.

import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadText } from '../../config/loader.js';
import { resourceKey } from '../../config/resource.js';
import { LocalMesh } from '../../runtime/local-mesh.js';
import type { GatewayStatus, ObjectStatus, RouteParentStatus, RouteStatus, StatusCondition } from '../../controlplane/translate/gateway-api/status.js';
import { baseCertificate, baseManifests, INFRA, tlsSecret, type BaseCertificate } from './base.js';
import { DEFAULT_CONSISTENCY, expectEventually, send, type Consistency, type ExpectedResponse, type Reply, type Request } from './expect.js';

export interface HarnessOptions {
  /** Second octet of the run's loopback addresses (pods 127.N.x.y, gateways 127.N.255.x). */
  addressBase?: number;
  log?: (line: string) => void;
  consistency?: Consistency;
}

/** A Gateway as a test addresses it: where its proxy listens. */
export interface GatewayRef {
  namespace?: string;
  name: string;
}

const STATUS_TIMEOUT_MS = 60_000;

export class Harness {
  private constructor(
    readonly mesh: LocalMesh,
    readonly dir: string,
    private readonly cert: BaseCertificate,
    readonly consistency: Consistency,
    private readonly logs: LogBuffer,
  ) {}

  static async start(o: HarnessOptions = {}): Promise<Harness> {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-conformance-'));
    const cert = await baseCertificate();
    writeFileSync(join(dir, '00-base.yaml'), baseManifests(cert));
    const logs = new LogBuffer();
    let mesh: LocalMesh;
    try {
      mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: o.addressBase ?? 60, log: (l) => {
        logs.push(l);
        o.log?.(l);
      } });
      await mesh.waitReady(120_000);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}\n${logs.since(logs.total - 20).join('\n')}`);
    }
    return new Harness(mesh, dir, cert, o.consistency ?? DEFAULT_CONSISTENCY, logs);
  }

  /** The CA of the suite's HTTPS certificate. */
  get ca(): string {
    return this.cert.ca;
  }

  /** A kubernetes.io/tls Secret with the suite's certificate (for tests that reference one of their own). */
  tlsSecret(name: string, namespace: string): string {
    return tlsSecret(this.cert, name, namespace);
  }

  /** How many log lines the run has written so far (a mark for `echoedSince`). */
  logMark(): number {
    return this.logs.total;
  }

  /** Whether a pod of `backend` (its name's prefix) logged echoing a request for `path` since `mark` (mirrors are seen so). */
  echoedSince(mark: number, backend: string, path: string): boolean {
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const line = new RegExp(`^\\[${backend}-[^/\\]]*/[^\\]]+\\] Echoing back request made to ${escaped} to client`);
    return this.logs.since(mark).some((l) => line.test(l));
  }

  /** The run's recent log lines (for failure messages). */
  recentLogs(n = 20): string {
    return this.logs.since(this.logs.total - n).join('\n');
  }

  /** Applies YAML as one file (replacing an earlier file of that name); resolves once the control plane has it all. */
  async apply(file: string, yaml: string): Promise<void> {
    const path = join(this.dir, `${file}.yaml`);
    writeFileSync(path, yaml);
    const want = new Map(loadText(yaml, path).resources.map((r) => [resourceKey(r), JSON.stringify(r.raw)]));
    await this.eventually(`${file} in force`, async () => {
      const have = new Map(this.mesh.controlPlane.store.list().map((r) => [resourceKey(r), JSON.stringify(r.raw)]));
      const missing = [...want].find(([k, v]) => have.get(k) !== v)?.[0];
      const rejected = this.mesh.controlPlane.store.rejections().find((x) => x.source === path);
      return missing ? `${missing} not in force${rejected ? `: rejected ${rejected.diagnostics.map((d) => d.message).join('; ')}` : ''}` : undefined;
    });
  }

  /** Removes a file applied before; resolves once none of its objects is in force. */
  async remove(file: string): Promise<void> {
    const path = join(this.dir, `${file}.yaml`);
    try {
      unlinkSync(path);
    } catch {
      return; // never applied
    }
    await this.eventually(`${file} removed`, async () => (this.mesh.controlPlane.store.list().some((r) => r.source?.file === path) ? 'still in force' : undefined));
  }

  async statuses(query: Record<string, string> = {}): Promise<ObjectStatus[]> {
    const qs = new URLSearchParams(query).toString();
    const res = await fetch(`http://127.0.0.1:${this.mesh.debugPort}/debug/status${qs ? `?${qs}` : ''}`);
    return (await res.json()) as ObjectStatus[];
  }

  async status(kind: string, namespace: string, name: string): Promise<ObjectStatus['status'] | undefined> {
    return (await this.statuses({ kind, namespace, name }))[0]?.status;
  }

  /** Waits until `check` of an object's status returns nothing (no problem), failing with its last answer. */
  async eventually(what: string, check: () => Promise<string | undefined>, ms = STATUS_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    let last: string | undefined = 'never checked';
    for (;;) {
      last = await check().catch((err: Error) => err.message);
      if (last === undefined) return;
      if (Date.now() > deadline) throw new Error(`${what}: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A Gateway's address once it is Programmed (the upstream suite's GatewayAndRoutesMustBeAccepted, first half). */
  async gatewayAddress(gw: GatewayRef): Promise<string> {
    const ns = gw.namespace ?? INFRA;
    let address = '';
    await this.eventually(`Gateway ${ns}/${gw.name} programmed`, async () => {
      const s = (await this.status('Gateway', ns, gw.name)) as GatewayStatus | undefined;
      if (!s) return 'no status';
      const programmed = s.conditions.find((c) => c.type === 'Programmed');
      if (programmed?.status !== 'True') return `Programmed=${programmed?.status}/${programmed?.reason}: ${programmed?.message}`;
      address = s.addresses[0]?.value ?? '';
      return address ? undefined : 'no address';
    });
    return address;
  }

  /** The Gateway is Programmed and every route is Accepted by it (each parent of the route that names it). */
  async gatewayAndRoutesAccepted(gw: GatewayRef, routes: Array<{ kind?: string; namespace?: string; name: string }>): Promise<string> {
    const address = await this.gatewayAddress(gw);
    for (const r of routes) await this.routeCondition(r, gw, { type: 'Accepted', status: 'True' });
    return address;
  }

  /** A route's parent naming the Gateway has a condition of this type (and status, and reason when given). */
  async routeCondition(route: { kind?: string; namespace?: string; name: string }, gw: GatewayRef | undefined, want: { type: string; status: string; reason?: string }): Promise<void> {
    const kind = route.kind ?? 'HTTPRoute';
    const ns = route.namespace ?? INFRA;
    await this.eventually(`${kind} ${ns}/${route.name} ${want.type}=${want.status}${want.reason ? `/${want.reason}` : ''}`, async () => {
      const s = (await this.status(kind, ns, route.name)) as RouteStatus | undefined;
      if (!s) return 'no status';
      const parents = gw ? s.parents.filter((p) => parentNames(p, gw, ns)) : s.parents;
      if (!parents.length) return `no parent status for ${gw ? gw.name : 'any parent'} (${JSON.stringify(s.parents.map((p) => p.parentRef))})`;
      const found = parents.flatMap((p) => p.conditions).filter((c) => c.type === want.type);
      return found.some((c) => matches(c, want)) ? undefined : `conditions ${found.map((c) => `${c.type}=${c.status}/${c.reason}`).join(', ') || 'none'}`;
    });
  }

  /** Expectations on a Gateway's listeners (the suite's GatewayStatusMustHaveListeners: kinds a subset, conditions found). */
  async listeners(gw: GatewayRef, want: Array<{ name: string; attachedRoutes?: number; supportedKinds?: string[]; conditions?: Array<{ type: string; status: string; reason?: string }> }>): Promise<void> {
    const ns = gw.namespace ?? INFRA;
    await this.eventually(`Gateway ${ns}/${gw.name} listeners`, async () => {
      const s = (await this.status('Gateway', ns, gw.name)) as GatewayStatus | undefined;
      if (!s) return 'no status';
      if (s.listeners.length !== want.length) return `${s.listeners.length} listeners, expected ${want.length}`;
      for (const w of want) {
        const l = s.listeners.find((x) => x.name === w.name);
        if (!l) return `no listener ${w.name}`;
        if (w.attachedRoutes !== undefined && l.attachedRoutes !== w.attachedRoutes) return `listener ${w.name}: attachedRoutes ${l.attachedRoutes}, expected ${w.attachedRoutes}`;
        const kinds = l.supportedKinds.map((k) => k.kind);
        if (w.supportedKinds && w.supportedKinds.length === 0 && kinds.length) return `listener ${w.name}: supportedKinds ${kinds}, expected none`;
        for (const k of w.supportedKinds ?? []) if (!kinds.includes(k)) return `listener ${w.name}: supportedKinds ${kinds} lacks ${k}`;
        for (const c of w.conditions ?? []) if (!l.conditions.some((x) => x.type === c.type && matches(x, c))) return `listener ${w.name}: no ${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''} (${l.conditions.map((x) => `${x.type}=${x.status}/${x.reason}`).join(', ')})`;
      }
      return undefined;
    });
  }

  /** Sends requests to `address` until the expectation holds several times in a row. */
  async expect(address: string, e: ExpectedResponse, port = e.request.https ? 443 : 80): Promise<void> {
    await expectEventually(address, port, e.request.https && !e.request.ca ? { ...e, request: { ...e.request, ca: this.ca } } : e, this.consistency);
  }

  /** One request, as it comes back. */
  send(address: string, r: Request, port = r.https ? 443 : 80): Promise<Reply> {
    return send(address, port, r.https && !r.ca ? { ...r, ca: this.ca } : r);
  }

  async stop(): Promise<void> {
    await this.mesh.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The run's log lines, the last few thousand of them, numbered from the start of the run. */
class LogBuffer {
  private lines: string[] = [];
  total = 0;

  push(line: string): void {
    this.lines.push(line);
    this.total++;
    if (this.lines.length > 5000) this.lines = this.lines.slice(1000);
  }

  /** Lines from number `mark` on (those still kept). */
  since(mark: number): string[] {
    return this.lines.slice(Math.max(0, this.lines.length - (this.total - mark)));
  }
}

const matches = (c: StatusCondition | { status: string; reason?: string }, want: { status: string; reason?: string }) => c.status === want.status && (!want.reason || ('reason' in c && c.reason === want.reason));

/** Does a route's parent status name this Gateway? */
function parentNames(p: RouteParentStatus, gw: GatewayRef, routeNamespace: string): boolean {
  return (p.parentRef.kind ?? 'Gateway') === 'Gateway' && p.parentRef.name === gw.name && (p.parentRef.namespace ?? routeNamespace) === (gw.namespace ?? INFRA);
}
