// The proxy agent's side of Istio's CA API: one CreateCertificate call over gRPC with TLS. Kept apart from the
// server (ca-api.ts) so a sidecar does not load the CA's certificate parsing.

import * as grpc from '@grpc/grpc-js';
import { createCertificateMethod as method } from './ca-protocol.js';

/**
 * Ask the CA for a certificate chain (leaf first, root last): for the caller's own identity, or (a node proxy) for
 * `impersonate`, a workload on the caller's node.
 */
export function requestCertificate(o: { address: string; rootPem: string; token: string; csrPem: string; ttlSeconds: number; serverName?: string; impersonate?: string }): Promise<string[]> {
  const Client = grpc.makeGenericClientConstructor({ CreateCertificate: method } as unknown as grpc.ServiceDefinition, 'IstioCertificateService');
  const client = new Client(o.address, grpc.credentials.createSsl(Buffer.from(o.rootPem)), o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {});
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${o.token}`);
  return new Promise((resolve, reject) => {
    (client as unknown as { CreateCertificate: (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { certChain: string[] }) => void) => void }).CreateCertificate(
      { csr: o.csrPem, validityDuration: o.ttlSeconds, ...(o.impersonate ? { impersonatedIdentity: o.impersonate } : {}) },
      md,
      { deadline: Date.now() + 10_000 },
      (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res!.certChain);
      },
    );
  });
}
