// Istio's CA API, `istio.v1.auth.IstioCertificateService/CreateCertificate`, over gRPC with TLS: the server, in the
// control plane (the messages are in ca-protocol.ts; the proxy agent's client is ca-client.ts).

import * as grpc from '@grpc/grpc-js';
import { spiffeId, type Identity, type Signer } from './ca.js';
import { createCertificateMethod as method, type CertificateRequest } from './ca-protocol.js';
import { parseSpiffeId } from './identity.js';
import { ExternalCaError } from './cfssl-signer.js';
import { shutdownGrpcServer } from '../grpc-shutdown.js';
import type { Authenticator, Caller } from './token.js';
import { x509 } from './x509.js';

/**
 * Who may ask for another workload's certificate (Istio's node authorizer): a node proxy (ztunnel) holds one for every
 * service account of the ambient pods on its node, proving only its own identity and node.
 */
export interface NodeAuthorizer {
  /** `namespace/serviceAccount` of the node proxies (Istio's CA_TRUSTED_NODE_ACCOUNTS, `istio-system/ztunnel`). */
  trustedNodeAccounts: readonly string[];
  /** Whether a workload with this identity runs on `node` (a node proxy gets only its own node's identities). */
  runsOn(node: string, identity: Identity): boolean;
}

export interface CaServerOptions {
  /** The built-in CA or an external signer (`CfsslSigner`): anything that implements `Signer`. */
  signer: Signer;
  authenticator: Authenticator;
  /** The server's TLS certificate and key (signed by the mesh CA). */
  tls: { cert: string; key: string };
  defaultTtlMs?: number;
  /** Node proxies that may ask for their node's workloads' certificates; none without it. */
  nodeAuthorizer?: NodeAuthorizer;
  onSigned?: (identity: Identity) => void;
  log?: (line: string) => void;
}

export class CaServer {
  private readonly server = new grpc.Server();

  constructor(private readonly o: CaServerOptions) {
    this.server.addService({ CreateCertificate: method } as unknown as grpc.ServiceDefinition, {
      CreateCertificate: (call: grpc.ServerUnaryCall<CertificateRequest, unknown>, cb: grpc.sendUnaryData<{ certChain: string[] }>) => void this.create(call, cb),
    });
  }

  /** The identity a request is for: the caller's own, or (for a trusted node proxy) a workload on its node. */
  private subject(caller: Caller, impersonated: string | undefined): Identity | Error {
    if (!impersonated) return caller;
    const account = `${caller.namespace}/${caller.serviceAccount}`;
    const auth = this.o.nodeAuthorizer;
    if (!auth || !auth.trustedNodeAccounts.includes(account)) return new Error(`${account} may not ask for another identity's certificate (${impersonated})`);
    const wanted = parseSpiffeId(impersonated);
    if (!wanted || wanted.trustDomain !== caller.trustDomain) return new Error(`${impersonated} is not a workload identity of trust domain ${caller.trustDomain}`);
    if (!caller.node || !auth.runsOn(caller.node, wanted)) return new Error(`no workload of ${impersonated} runs on node ${caller.node ?? '(none named)'}`);
    return wanted;
  }

  private async create(call: grpc.ServerUnaryCall<CertificateRequest, unknown>, cb: grpc.sendUnaryData<{ certChain: string[] }>): Promise<void> {
    const auth = String(call.metadata.get('authorization')[0] ?? '');
    const caller = await this.o.authenticator.authenticate(auth.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (caller instanceof Error) {
      this.o.log?.(`ca: refused a certificate request: ${caller.message}`);
      return cb({ code: grpc.status.UNAUTHENTICATED, message: caller.message });
    }
    const identity = this.subject(caller, call.request.impersonatedIdentity);
    if (identity instanceof Error) {
      this.o.log?.(`ca: refused a certificate request: ${identity.message}`);
      return cb({ code: grpc.status.PERMISSION_DENIED, message: identity.message });
    }
    try {
      // A CSR may name an identity; it must be the one asked for (the signed certificate carries that one anyway).
      const csr = new x509.Pkcs10CertificateRequest(call.request.csr);
      const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension) as x509.SubjectAlternativeNameExtension | undefined;
      const asked = san ? san.names.toJSON().filter((n) => n.type === 'url').map((n) => n.value) : [];
      if (asked.some((u) => u !== spiffeId(identity))) {
        return cb({ code: grpc.status.PERMISSION_DENIED, message: `the CSR asks for ${asked.join(', ')} but the request is for ${spiffeId(identity)}` });
      }
      const ttl = call.request.validityDuration > 0 ? call.request.validityDuration * 1000 : (this.o.defaultTtlMs ?? 24 * 3600_000);
      const certChain = await this.o.signer.sign(call.request.csr, { trustDomain: identity.trustDomain, namespace: identity.namespace, serviceAccount: identity.serviceAccount }, ttl);
      this.o.onSigned?.(identity);
      cb(null, { certChain });
    } catch (err) {
      // An external CA that is down is worth retrying (the agent does); one that signed something else is not.
      const code = err instanceof ExternalCaError ? (err.reason === 'unreachable' ? grpc.status.UNAVAILABLE : grpc.status.INTERNAL) : grpc.status.INVALID_ARGUMENT;
      if (err instanceof ExternalCaError) this.o.log?.(`ca: ${err.message}`);
      cb({ code, message: (err as Error).message });
    }
  }

  listen(host: string, port: number): Promise<number> {
    const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(this.o.tls.cert), private_key: Buffer.from(this.o.tls.key) }], false);
    return new Promise((resolve, reject) => this.server.bindAsync(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, creds, (e, p) => (e ? reject(e) : resolve(p))));
  }

  close(): Promise<void> {
    return shutdownGrpcServer(this.server);
  }
}

export { requestCertificate } from './ca-client.js';
