// GrpcChannel over @grpc/grpc-js: what Trellis's clients used before the lean channel, kept for comparison
// (TRELLIS_XDS_CLIENT=grpc-js) and for anything that already carries grpc-js.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { GrpcError, type ChannelOptions, type GrpcChannel, type GrpcStream, type UnaryOptions } from './grpc-channel.js';

const raw = (b: Buffer) => b;
const toBuffer = (b: Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const asGrpcError = (err: Error & { code?: number; details?: string }) => (typeof err.code === 'number' ? new GrpcError(err.code, err.details ?? err.message) : err);

export class GrpcJsChannel implements GrpcChannel {
  private readonly client: grpc.Client;

  constructor(address: string, o: ChannelOptions = {}) {
    const options: grpc.ChannelOptions = { 'grpc.max_receive_message_length': o.maxReceiveBytes ?? 64 * 1024 * 1024 };
    if (o.tls?.serverName) options['grpc.ssl_target_name_override'] = o.tls.serverName;
    const credentials = o.tls ? grpc.credentials.createSsl(Buffer.from(o.tls.rootPem)) : grpc.credentials.createInsecure();
    this.client = new grpc.Client(address, credentials, options);
  }

  stream(path: string): GrpcStream {
    const call = this.client.makeBidiStreamRequest(path, toBuffer, raw);
    const s = new EventEmitter() as GrpcStream;
    let cancelled = false;
    call.on('data', (m: Buffer) => s.emit('data', m));
    call.on('error', (err) => !cancelled && s.emit('error', asGrpcError(err)));
    call.on('end', () => !cancelled && s.emit('end'));
    s.write = (m) => void call.write(toBuffer(m));
    s.cancel = () => {
      cancelled = true;
      call.cancel();
    };
    return s;
  }

  unary(path: string, request: Uint8Array, o: UnaryOptions): Promise<Buffer> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(o.metadata ?? {})) md.set(k, v);
    return new Promise((resolve, reject) =>
      this.client.makeUnaryRequest(path, toBuffer, raw, toBuffer(request), md, { deadline: Date.now() + o.timeoutMs }, (err, res) => (err ? reject(asGrpcError(err)) : resolve(res!))),
    );
  }

  close(): void {
    this.client.close();
  }
}
