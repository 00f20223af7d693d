// The CNI node agent's side of ZDS for `trellis up`: a Unix socket the node proxy (ztunnel) connects to. On each
// connection the agent waits for the proxy's hello, sends every enrolled pod and SnapshotSent, then each enrolment and
// removal as it happens, one message at a time, each waiting for the proxy's Ack. enroll() resolves once the proxy
// serves the pod (so the capture rules that send its traffic there can follow), and rejects with the proxy's error.

import { rmSync } from 'node:fs';
import net from 'node:net';
import { decodeHello, decodeResponse, DelimitedReader, encodeRequest, type WorkloadInfo, type WorkloadRequest } from '../../proxy/ztunnel/zds-protocol.js';

export interface ZdsPod {
  uid: string;
  info: WorkloadInfo;
  netnsPath: string;
}

interface Pending {
  request: WorkloadRequest;
  done: (error?: string) => void;
}

export class ZdsServer {
  private readonly server = net.createServer((s) => this.onConnection(s));
  private readonly pods = new Map<string, ZdsPod>();
  private socket: net.Socket | undefined;
  private hello = false;
  private queue: Pending[] = [];
  private inFlight: Pending | undefined;
  /** Waiters for a pod's Add, across reconnections: resolved by the Ack that serves it. */
  private readonly waiting = new Map<string, Array<(error?: string) => void>>();
  private connectedWaiters: Array<() => void> = [];

  private constructor(readonly path: string) {}

  static async listen(path: string): Promise<ZdsServer> {
    rmSync(path, { force: true });
    const z = new ZdsServer(path);
    await new Promise<void>((resolve, reject) => {
      z.server.once('error', reject);
      z.server.listen(path, () => resolve());
    });
    return z;
  }

  /** Whether a node proxy is connected and has said hello. */
  get connected(): boolean {
    return this.hello;
  }

  /** Resolves when a node proxy is connected, or false after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.hello) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.connectedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Hands a pod to the node proxy; resolves once it serves the pod (after it connects, if it is not yet). */
  enroll(pod: ZdsPod): Promise<void> {
    this.pods.set(pod.uid, pod);
    const served = new Promise<void>((resolve, reject) => this.waitFor(pod.uid, (error) => (error ? reject(new Error(`the node proxy could not serve ${pod.info.name}.${pod.info.namespace}: ${error}`)) : resolve())));
    if (this.hello) this.enqueue(addRequest(pod), () => undefined);
    return served;
  }

  /** Takes a pod back from the node proxy; resolves once it stopped serving it (at once when none is connected). */
  unenroll(uid: string): Promise<void> {
    if (!this.pods.delete(uid)) return Promise.resolve();
    this.resolveWaiters(uid, 'the pod left ambient mode');
    if (!this.hello) return Promise.resolve();
    return new Promise((resolve) => this.enqueue({ del: { uid } }, () => resolve()));
  }

  private waitFor(uid: string, cb: (error?: string) => void): void {
    this.waiting.set(uid, [...(this.waiting.get(uid) ?? []), cb]);
  }

  private resolveWaiters(uid: string, error?: string): void {
    const list = this.waiting.get(uid);
    this.waiting.delete(uid);
    for (const cb of list ?? []) cb(error);
  }

  private onConnection(socket: net.Socket): void {
    // One node proxy per node: a new connection replaces the old one (a restarted proxy).
    this.socket?.destroy();
    this.socket = socket;
    this.hello = false;
    this.queue = [];
    this.inFlight = undefined;
    const reader = new DelimitedReader((bytes) => {
      if (!this.hello) {
        decodeHello(bytes);
        this.hello = true;
        for (const w of this.connectedWaiters.splice(0)) w();
        // The snapshot: every pod, then SnapshotSent (the proxy lets go of pods not in it).
        for (const pod of this.pods.values()) this.enqueue(addRequest(pod), () => undefined);
        this.enqueue({ snapshotSent: {} }, () => undefined);
        return;
      }
      const ack = decodeResponse(bytes).ack;
      const done = this.inFlight;
      this.inFlight = undefined;
      done?.done(ack?.error || undefined);
      this.pump();
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.hello = false;
      // What was queued is in the next connection's snapshot; removals are done (the proxy lets the pod go).
      for (const p of [...(this.inFlight ? [this.inFlight] : []), ...this.queue]) if ('del' in p.request) p.done();
      this.queue = [];
      this.inFlight = undefined;
    });
  }

  private enqueue(request: WorkloadRequest, done: (error?: string) => void): void {
    const uid = 'add' in request ? request.add.uid : undefined;
    this.queue.push({ request, done: (error) => (done(error), uid && this.resolveWaiters(uid, error)) });
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || !this.socket || !this.hello) return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next;
    this.socket.write(encodeRequest(next.request));
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

function addRequest(pod: ZdsPod): WorkloadRequest {
  return { add: { uid: pod.uid, workloadInfo: pod.info, netnsPath: pod.netnsPath } };
}
