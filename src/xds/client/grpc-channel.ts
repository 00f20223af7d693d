// The one interface the sidecar's xDS and CA clients talk gRPC through, with two implementations: node:http2 with
// hand-written gRPC framing (http2-channel.ts, the sidecar's default: two RPCs do not need a gRPC library) and
// @grpc/grpc-js (grpc-js-channel.ts). Messages cross it as bytes; the codec (xds-codec.ts) is the other half.

import type { EventEmitter } from 'node:events';
import type { XdsCodec } from './xds-codec.js';

/** A gRPC call's failure: the status code and message the server (or the transport) gave. */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** google.rpc.Code names, as grpc-js prints them in its errors. */
export const STATUS_NAMES: Record<number, string> = {
  0: 'OK', 1: 'CANCELLED', 2: 'UNKNOWN', 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 6: 'ALREADY_EXISTS', 7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED', 9: 'FAILED_PRECONDITION', 10: 'ABORTED', 11: 'OUT_OF_RANGE', 12: 'UNIMPLEMENTED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 15: 'DATA_LOSS', 16: 'UNAUTHENTICATED',
};

/**
 * A bidirectional stream of messages. Events: `data` (one message's bytes), `error` (a GrpcError or a transport
 * error: the stream is over), `end` (the server ended it with status OK).
 */
export interface GrpcStream extends EventEmitter {
  write(message: Uint8Array): void;
  /** Ends the call from this side; no event follows. */
  cancel(): void;
}

export interface ChannelOptions {
  /** TLS to the server: the roots to trust and the name its certificate must carry (default: the address's host). */
  tls?: { rootPem: string; serverName?: string };
  /** The largest message accepted (bytes). */
  maxReceiveBytes?: number;
}

export interface UnaryOptions {
  metadata?: Record<string, string>;
  /** Milliseconds until the call fails with DEADLINE_EXCEEDED. */
  timeoutMs: number;
}

/** Calls to one server. */
export interface GrpcChannel {
  stream(path: string): GrpcStream;
  unary(path: string, request: Uint8Array, o: UnaryOptions): Promise<Buffer>;
  close(): void;
}

/** A transport and the codec that goes with it. */
export interface ClientStack {
  readonly name: ClientStackName;
  readonly codec: XdsCodec;
  channel(address: string, o?: ChannelOptions): GrpcChannel;
}

export type ClientStackName = 'lean' | 'grpc-js';
export const CLIENT_STACKS: readonly ClientStackName[] = ['lean', 'grpc-js'];
