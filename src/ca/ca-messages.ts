// The messages of Istio's CA API (`istio.v1.auth.IstioCertificateService/CreateCertificate`), declared from the
// protocol's field numbers as protobufjs JSON — plain data, so the sidecar loads no protobufjs for it: read by
// ca-protocol.ts (protobufjs, the CA's server side) and by the build step that generates the sidecar's codec
// (src/xds/client), so both sides encode from one declaration.

/** The gRPC method's path. */
export const CREATE_CERTIFICATE_PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';

export const CA_MESSAGES = {
  nested: {
    istio: {
      nested: {
        v1: {
          nested: {
            auth: {
              nested: {
                // metadata (4) carries ImpersonatedIdentity when a node proxy (ztunnel) asks for a workload's certificate.
                IstioCertificateRequest: { fields: { csr: { type: 'string', id: 1 }, validityDuration: { type: 'int64', id: 3 }, metadata: { type: 'google.protobuf.Struct', id: 4 } } },
                IstioCertificateResponse: { fields: { certChain: { rule: 'repeated', type: 'string', id: 1 } } },
              },
            },
          },
        },
      },
    },
  },
};

/** The metadata Struct key a node proxy names the workload identity it asks a certificate for (Istio's). */
export const IMPERSONATED_IDENTITY = 'ImpersonatedIdentity';

export const CA_REQUEST_TYPE = 'istio.v1.auth.IstioCertificateRequest';
export const CA_RESPONSE_TYPE = 'istio.v1.auth.IstioCertificateResponse';
