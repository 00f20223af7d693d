// The gRPC method of Istio's CA API as grpc-js serves and calls it, with protobufjs serializers for the messages
// declared in ca-messages.ts. The request's metadata Struct carries `ImpersonatedIdentity` when a node proxy (ztunnel)
// asks for a workload's certificate; both sides see it flattened into `impersonatedIdentity`.

import protobuf from 'protobufjs';
import { CA_MESSAGES, CA_REQUEST_TYPE, CA_RESPONSE_TYPE, CREATE_CERTIFICATE_PATH, IMPERSONATED_IDENTITY } from './ca-messages.js';

let messagesRoot: protobuf.Root | undefined;

/**
 * The CA's messages with google.protobuf.Struct (their metadata's type) resolved, for protobufjs reflection: one Root
 * for the server's serializers here and the grpc-js clients' codec (codec-reflection.ts).
 */
export function caMessagesRoot(): protobuf.Root {
  if (!messagesRoot) {
    messagesRoot = new protobuf.Root();
    messagesRoot.addJSON(protobuf.common.get('google/protobuf/struct.proto')!.nested!).addJSON(CA_MESSAGES.nested);
  }
  return messagesRoot;
}

const root = caMessagesRoot();
const Req = root.lookupType(CA_REQUEST_TYPE);
const Res = root.lookupType(CA_RESPONSE_TYPE);

/** A CreateCertificate request as both sides handle it: the impersonated SPIFFE ID flattened out of the Struct. */
export interface CertificateRequest {
  csr: string;
  validityDuration: number;
  impersonatedIdentity?: string;
}

interface WireRequest {
  csr: string;
  validityDuration: number;
  metadata?: { fields?: Record<string, { stringValue?: string }> };
}

export const createCertificateMethod = {
  path: CREATE_CERTIFICATE_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (m: CertificateRequest) => {
    const wire: WireRequest = { csr: m.csr, validityDuration: m.validityDuration, ...(m.impersonatedIdentity ? { metadata: { fields: { [IMPERSONATED_IDENTITY]: { stringValue: m.impersonatedIdentity } } } } : {}) };
    return Buffer.from(Req.encode(Req.fromObject(wire)).finish());
  },
  requestDeserialize: (b: Buffer): CertificateRequest => {
    const wire = Req.toObject(Req.decode(b), { longs: Number }) as WireRequest;
    const impersonated = wire.metadata?.fields?.[IMPERSONATED_IDENTITY]?.stringValue;
    return { csr: wire.csr, validityDuration: wire.validityDuration, ...(impersonated ? { impersonatedIdentity: impersonated } : {}) };
  },
  responseSerialize: (m: { certChain: string[] }) => Buffer.from(Res.encode(Res.fromObject(m)).finish()),
  responseDeserialize: (b: Buffer) => Res.toObject(Res.decode(b)) as { certChain: string[] },
};
