// The gRPC method of Istio's CA API as grpc-js serves and calls it, with protobufjs serializers for the messages
// declared in ca-messages.ts.

import protobuf from 'protobufjs';
import { CA_MESSAGES, CA_REQUEST_TYPE, CA_RESPONSE_TYPE, CREATE_CERTIFICATE_PATH } from './ca-messages.js';

const root = protobuf.Root.fromJSON(CA_MESSAGES);
const Req = root.lookupType(CA_REQUEST_TYPE);
const Res = root.lookupType(CA_RESPONSE_TYPE);

export const createCertificateMethod = {
  path: CREATE_CERTIFICATE_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (m: { csr: string; validityDuration: number }) => Buffer.from(Req.encode(Req.fromObject(m)).finish()),
  requestDeserialize: (b: Buffer) => Req.toObject(Req.decode(b), { longs: Number }) as { csr: string; validityDuration: number },
  responseSerialize: (m: { certChain: string[] }) => Buffer.from(Res.encode(Res.fromObject(m)).finish()),
  responseDeserialize: (b: Buffer) => Res.toObject(Res.decode(b)) as { certChain: string[] },
};
