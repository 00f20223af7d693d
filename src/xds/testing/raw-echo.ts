// A gRPC service for proxyless-client tests: one raw-bytes unary method, /test.Echo/Echo, that answers with its name.

import * as grpc from '@grpc/grpc-js';

export async function startEcho(name: string): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  const raw = (b: Buffer) => b;
  server.addService(
    { Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } } as grpc.ServiceDefinition,
    { Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, server };
}
