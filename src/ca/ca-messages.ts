// The messages of Istio's CA API (`istio.v1.auth.IstioCertificateService/CreateCertificate`), declared from the
// protocol's field numbers as protobufjs JSON: read by ca-protocol.ts (protobufjs, the CA's server side) and by the
// build step that generates the sidecar's codec (src/xds/client), so both sides encode from one declaration.

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
};

export const CA_REQUEST_TYPE = 'istio.v1.auth.IstioCertificateRequest';
export const CA_RESPONSE_TYPE = 'istio.v1.auth.IstioCertificateResponse';
