// The proxy agent's side of Istio's CA API: one CreateCertificate call over gRPC with TLS, through the client stack
// the process uses (src/xds/client: node:http2 with the generated codec by default, or grpc-js). Kept apart from the
// server (ca-api.ts) so a sidecar does not load the CA's certificate parsing.

import type { ClientStack, ClientStackName } from '../xds/client/grpc-channel.js';
import { clientStack } from '../xds/client/stacks.js';
import { CA_REQUEST_TYPE, CA_RESPONSE_TYPE, CREATE_CERTIFICATE_PATH, IMPERSONATED_IDENTITY } from './ca-messages.js';

export interface CertificateRequest {
  /** `host:port` of the CA. */
  address: string;
  /** The roots the CA's serving certificate must chain to. */
  rootPem: string;
  /** Proof of the workload's identity (a Kubernetes-style service account token). */
  token: string;
  csrPem: string;
  ttlSeconds: number;
  /** The name the CA's certificate carries, when it is not the address's host (istiod.istio-system.svc). */
  serverName?: string;
  /** A node proxy's: the SPIFFE ID of a workload on its node whose certificate it asks for (Istio's impersonation). */
  impersonate?: string;
  /** 'lean' or 'grpc-js' (TRELLIS_XDS_CLIENT's choice by default). */
  stack?: ClientStackName | ClientStack;
}

/**
 * Ask the CA for a certificate chain (leaf first, root last) for the caller's own identity or, a node proxy's, for
 * `impersonate`; rejects with the gRPC status ("16 UNAUTHENTICATED: …").
 */
export async function requestCertificate(o: CertificateRequest): Promise<string[]> {
  const stack = typeof o.stack === 'object' ? o.stack : await clientStack(o.stack);
  const channel = stack.channel(o.address, { tls: { rootPem: o.rootPem, serverName: o.serverName } });
  try {
    const metadata = o.impersonate ? { metadata: { [IMPERSONATED_IDENTITY]: o.impersonate } } : {};
    const request = stack.codec.encode(CA_REQUEST_TYPE, { csr: o.csrPem, validityDuration: o.ttlSeconds, ...metadata });
    const response = await channel.unary(CREATE_CERTIFICATE_PATH, request, { metadata: { authorization: `Bearer ${o.token}` }, timeoutMs: 10_000 });
    return (stack.codec.decode(CA_RESPONSE_TYPE, response).certChain as string[] | undefined) ?? [];
  } finally {
    channel.close();
  }
}
