// The messages of Istio's CA API (`istio.v1.auth.IstioCertificateService/CreateCertificate`), declared from the
// protocol's field numbers, and the gRPC method both the server (ca-api.ts) and the client (ca-client.ts) use.

import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    istio: {
      nested: {
        v1: {
          nested: {
            auth: {
              nested: {
                // metadata (4) is a google.protobuf.Struct Trellis does not use; as bytes it is carried and ignored.
                IstioCertificateRequest: { fields: { csr: { type: 'string', id: 1 }, validityDuration: { type: 'int64', id: 3 }, metadata: { type: 'bytes', id: 4 } } },
                IstioCertificateResponse: { fields: { certChain: { rule: 'repeated', type: 'string', id: 1 } } },
              },
            },
          },
        },
      },
    },
  },
});
const Req = root.lookupType('istio.v1.auth.IstioCertificateRequest');
const Res = root.lookupType('istio.v1.auth.IstioCertificateResponse');
const PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

export const createCertificateMethod = {
  path: PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (m: { csr: string; validityDuration: number }) => Buffer.from(Req.encode(Req.fromObject(m)).finish()),
  requestDeserialize: (b: Buffer) => Req.toObject(Req.decode(b), { longs: Number }) as { csr: string; validityDuration: number },
  responseSerialize: (m: { certChain: string[] }) => Buffer.from(Res.encode(Res.fromObject(m)).finish()),
  responseDeserialize: (b: Buffer) => Res.toObject(Res.decode(b)) as { certChain: string[] },
};

