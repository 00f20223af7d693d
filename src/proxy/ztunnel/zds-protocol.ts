// ZDS, how Istio's CNI node agent hands ambient pods to the node proxy: the agent listens on a Unix socket, the proxy
// connects and says hello, the agent sends every enrolled pod (AddWorkload) then SnapshotSent, and afterwards each
// change (AddWorkload, DelWorkload); the proxy acknowledges each message once it is done (Ack, with an error if not).
// Messages and field numbers are Istio's. Two differences, because Node can pass no file descriptor over a Unix socket
// and has no SOCK_SEQPACKET: AddWorkload carries the pod's network namespace as a path (Trellis's field 100) where
// Istio attaches the namespace's descriptor, and messages are length-delimited (varint) on a stream socket.

import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    istio: {
      nested: {
        workload: {
          nested: {
            zds: {
              nested: {
                Version: { values: { NOT_USED: 0, V1: 1 } },
                ZdsHello: { fields: { version: { type: 'Version', id: 1 } } },
                WorkloadInfo: { fields: { name: { type: 'string', id: 1 }, namespace: { type: 'string', id: 2 }, serviceAccount: { type: 'string', id: 3 } } },
                AddWorkload: { fields: { uid: { type: 'string', id: 1 }, workloadInfo: { type: 'WorkloadInfo', id: 2 }, netnsPath: { type: 'string', id: 100 } } },
                KeepWorkload: { fields: { uid: { type: 'string', id: 1 } } },
                DelWorkload: { fields: { uid: { type: 'string', id: 2 } } },
                SnapshotSent: { fields: {} },
                WorkloadRequest: {
                  oneofs: { payload: { oneof: ['add', 'keep', 'del', 'snapshotSent'] } },
                  fields: { add: { type: 'AddWorkload', id: 1 }, keep: { type: 'KeepWorkload', id: 5 }, del: { type: 'DelWorkload', id: 2 }, snapshotSent: { type: 'SnapshotSent', id: 3 } },
                },
                Ack: { fields: { error: { type: 'string', id: 1 } } },
                WorkloadResponse: { oneofs: { payload: { oneof: ['ack'] } }, fields: { ack: { type: 'Ack', id: 1 } } },
              },
            },
          },
        },
      },
    },
  },
});

const Hello = root.lookupType('istio.workload.zds.ZdsHello');
const Request = root.lookupType('istio.workload.zds.WorkloadRequest');
const Response = root.lookupType('istio.workload.zds.WorkloadResponse');

export interface WorkloadInfo {
  name: string;
  namespace: string;
  serviceAccount: string;
}

export type WorkloadRequest = { add: { uid: string; workloadInfo: WorkloadInfo; netnsPath: string } } | { keep: { uid: string } } | { del: { uid: string } } | { snapshotSent: Record<string, never> };

export interface WorkloadResponse {
  ack: { error?: string };
}

const toObject = { defaults: false, enums: String, oneofs: false } as const;

export const encodeHello = (): Buffer => Buffer.from(Hello.encodeDelimited(Hello.fromObject({ version: 'V1' })).finish());
export const encodeRequest = (r: WorkloadRequest): Buffer => Buffer.from(Request.encodeDelimited(Request.fromObject(r)).finish());
export const encodeResponse = (r: WorkloadResponse): Buffer => Buffer.from(Response.encodeDelimited(Response.fromObject(r)).finish());

/**
 * Splits a byte stream into length-delimited messages: feed it chunks, it calls `onMessage` with each whole message's
 * bytes (without the length), in order.
 */
export class DelimitedReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onMessage: (bytes: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const r = protobuf.Reader.create(this.buf);
      let len: number;
      try {
        len = r.uint32();
      } catch {
        return; // the length itself is not complete yet
      }
      if (this.buf.length < r.pos + len) return;
      const msg = this.buf.subarray(r.pos, r.pos + len);
      this.buf = this.buf.subarray(r.pos + len);
      this.onMessage(msg);
    }
  }
}

export const decodeHello = (b: Buffer): { version?: string } => Hello.toObject(Hello.decode(b), toObject) as { version?: string };
export const decodeRequest = (b: Buffer): WorkloadRequest => Request.toObject(Request.decode(b), toObject) as WorkloadRequest;
export const decodeResponse = (b: Buffer): WorkloadResponse => Response.toObject(Response.decode(b), toObject) as WorkloadResponse;
