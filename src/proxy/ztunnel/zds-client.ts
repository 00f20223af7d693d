// The node proxy's side of ZDS: connect to the CNI agent's socket (again after any failure), say hello, then serve
// each AddWorkload / DelWorkload and acknowledge it once done; after the first SnapshotSent, pods the agent no longer
// lists are let go. One message at a time, in order, as the agent waits for each acknowledgement.

import net from 'node:net';
import { decodeRequest, DelimitedReader, encodeHello, encodeResponse, type WorkloadRequest } from './zds-protocol.js';
import type { EnrolledPod } from './ztunnel.js';

export interface ZdsHandler {
  add(pod: EnrolledPod): Promise<void>;
  remove(uid: string): void;
  /** Uids served now, so a snapshot can drop the ones the agent no longer has. */
  uids(): string[];
}

export class ZdsClient {
  private socket: net.Socket | undefined;
  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  private seen = new Set<string>();
  /** True once a snapshot was received on the current connection. */
  synced = false;

  constructor(
    private readonly path: string,
    private readonly handler: ZdsHandler,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.connect(250);
  }

  private connect(backoffMs: number): void {
    if (this.closed) return;
    const socket = net.connect(this.path);
    this.socket = socket;
    this.synced = false;
    this.seen = new Set();
    const reader = new DelimitedReader((bytes) => {
      const req = decodeRequest(bytes);
      this.queue = this.queue.then(() => this.serve(socket, req));
    });
    socket.on('connect', () => {
      backoffMs = 250;
      socket.write(encodeHello());
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (this.closed || this.socket !== socket) return;
      setTimeout(() => this.connect(Math.min(backoffMs * 2, 5000)), backoffMs).unref();
    });
  }

  private async serve(socket: net.Socket, req: WorkloadRequest): Promise<void> {
    let error: string | undefined;
    try {
      if ('add' in req && req.add) {
        const { uid, workloadInfo, netnsPath } = req.add;
        this.seen.add(uid);
        await this.handler.add({ uid, name: workloadInfo.name, namespace: workloadInfo.namespace, serviceAccount: workloadInfo.serviceAccount || 'default', netns: netnsPath });
      } else if ('keep' in req && req.keep) {
        this.seen.add(req.keep.uid);
      } else if ('del' in req && req.del) {
        this.handler.remove(req.del.uid);
      } else if ('snapshotSent' in req) {
        for (const uid of this.handler.uids()) if (!this.seen.has(uid)) this.handler.remove(uid);
        this.synced = true;
      }
    } catch (err) {
      error = (err as Error).message;
      this.log(`zds: ${error}`);
    }
    if (!socket.destroyed) socket.write(encodeResponse({ ack: error ? { error } : {} }));
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
  }
}
