// The control plane's CA as one piece: who signs workloads (the built-in root in the state directory, plugged-in
// `cacerts`, or an external CA such as cfssl), the workload token key, and Istio's CA API over TLS. The API's own
// serving certificate always comes from the mesh CA (built-in or plugged-in): the server does not rotate it, so it
// must not live and die with an external CA's short profiles.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaServer } from './ca-api.js';
import { CertificateAuthority, type CaStatus, type Signer } from './ca.js';
import { CfsslSigner, type CfsslSignerOptions } from './cfssl-signer.js';
import { WorkloadTokens, type Authenticator } from './token.js';

export interface MeshCaOptions {
  /** Holds the self-signed root (when nothing else signs), the workload token key and `root-cert.pem`. */
  stateDir: string;
  trustDomain?: string;
  /** Istio's `cacerts` directory. */
  pluggedIn?: string;
  /** An external signer instead (cfssl's remote API). */
  externalCa?: CfsslSignerOptions;
  /** Names in the CA API's serving certificate (Istio's istiod service name and the listening address). */
  serverNames?: string[];
  /** Who callers are (default: the workload tokens this CA issues; on Kubernetes, TokenReview of service-account tokens). */
  authenticator?: Authenticator;
  log?: (line: string) => void;
}

export interface MeshCa {
  signer: Signer & { status(): CaStatus };
  tokens: WorkloadTokens;
  server: CaServer;
  /** `<stateDir>/root-cert.pem`: the root of the CA API's serving certificate, what proxies pass as `--ca-root`
   * (workloads' trust bundle is the signer's: it comes last in every issued chain). */
  rootFile: string;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

export async function openMeshCa(o: MeshCaOptions): Promise<MeshCa> {
  if (o.pluggedIn && o.externalCa) throw new Error('a plugged-in CA (cacerts) and an external CA exclude each other');
  mkdirSync(o.stateDir, { recursive: true });
  const meshCa = await CertificateAuthority.open({ stateDir: o.stateDir, trustDomain: o.trustDomain, pluggedIn: o.pluggedIn });
  const signer = o.externalCa ? await CfsslSigner.open({ trustDomain: o.trustDomain, log: o.log, ...o.externalCa }) : meshCa;
  const tokens = WorkloadTokens.open(join(o.stateDir, 'token-key'), o.trustDomain);
  const server = new CaServer({ signer, authenticator: o.authenticator ?? tokens, tls: await meshCa.serverCertificate(o.serverNames ?? ['istiod.istio-system.svc', '127.0.0.1']), log: o.log });
  const rootFile = join(o.stateDir, 'root-cert.pem');
  writeFileSync(rootFile, meshCa.trustBundle());
  return { signer, tokens, server, rootFile, listen: (host, port) => server.listen(host, port), close: () => server.close() };
}
