// Who is asking the CA: in the local runtime, a token the control plane signs for each workload (namespace, service
// account, expiry), HMAC-SHA256 with a key kept in the state directory. A Kubernetes TokenReview authenticator
// implements the same interface.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Identity } from './identity.js';

/** Who a token proves the caller is; a node proxy's token also names its node (Kubernetes: the bound pod's node). */
export type Caller = Identity & { node?: string };

export interface Authenticator {
  /** The identity a bearer token proves, or an Error saying why not (asynchronously when someone else decides). */
  authenticate(token: string | undefined): Caller | Error | Promise<Caller | Error>;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class WorkloadTokens implements Authenticator {
  private constructor(private readonly key: Buffer, private readonly trustDomain: string) {}

  /** The signing key from `file` (created with mode 0600 when missing). */
  static open(file: string, trustDomain = 'cluster.local'): WorkloadTokens {
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    return new WorkloadTokens(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'), trustDomain);
  }

  /** A token for a workload; `node` for a node proxy (ztunnel), which may then ask for its node's workloads' certificates. */
  issue(namespace: string, serviceAccount: string, ttlMs = 24 * 3600_000, node?: string): string {
    const body = b64(JSON.stringify({ ns: namespace, sa: serviceAccount, exp: Date.now() + ttlMs, ...(node ? { node } : {}) }));
    return `${body}.${b64(createHmac('sha256', this.key).update(body).digest())}`;
  }

  authenticate(token: string | undefined): Caller | Error {
    if (!token) return new Error('no token: send "authorization: Bearer <token>"');
    const [body, mac] = token.split('.');
    if (!body || !mac) return new Error('malformed token');
    const want = createHmac('sha256', this.key).update(body).digest();
    const got = Buffer.from(mac, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return new Error('token signature is invalid');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { ns: string; sa: string; exp: number; node?: string };
    if (claims.exp < Date.now()) return new Error('token expired');
    return { trustDomain: this.trustDomain, namespace: claims.ns, serviceAccount: claims.sa, ...(claims.node ? { node: claims.node } : {}) };
  }
}
