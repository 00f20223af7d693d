// The messages of Istio's CA API (`istio.v1.auth.IstioCertificateService/CreateCertificate`), declared from the
// protocol's field numbers, and the gRPC method both the server (ca-api.ts) and the client (ca-client.ts) use. The
// request's metadata Struct carries `ImpersonatedIdentity` when a node proxy (ztunnel) asks for a workload's certificate.

import protobuf from 'protobufjs';

// google.protobuf.Struct first: fromJSON resolves every type at once.
const root = new protobuf.Root().addJSON(protobuf.common.get('google/protobuf/struct.proto')!.nested!).addJSON({
  istio: {
    nested: {
      v1: {
        nested: {
          auth: {
            nested: {
              IstioCertificateRequest: { fields: { csr: { type: 'string', id: 1 }, validityDuration: { type: 'int64', id: 3 }, metadata: { type: 'google.protobuf.Struct', id: 4 } } },
              IstioCertificateResponse: { fields: { certChain: { rule: 'repeated', type: 'string', id: 1 } } },
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

/** The Struct key a node proxy names the workload identity it asks a certificate for (Istio's). */
export const IMPERSONATED_IDENTITY = 'ImpersonatedIdentity';

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
  path: PATH,
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

