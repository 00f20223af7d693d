// The gRPC benchmark's upstream: a @grpc/grpc-js server with one unary method, /bench.Bench/Unary, answering every
// call with a fixed-size message (raw bytes: no protobuf code on either side, so the figures are the transport's).
// Run as a child process: node bench/lib/grpc-backend.mjs <response-bytes>
import * as grpc from '@grpc/grpc-js';

const size = Number(process.argv[2] ?? 100);
const body = Buffer.alloc(size, 'x');
const raw = (b) => b;
const SERVICE = {
  Unary: { path: '/bench.Bench/Unary', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

const server = new grpc.Server();
server.addService(SERVICE, { Unary: (_call, callback) => callback(null, body) });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`listening ${port}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
setTimeout(() => {}, 1 << 30); // keep alive until signalled
