// The node proxy's certificates: one per service account of the ambient pods on its node, each asked from Istio's CA
// API with the node proxy's own token and the workload's identity as `ImpersonatedIdentity` (the CA checks that such a
// workload runs on this node), renewed at half its life, dropped when the last pod of that account leaves.

import { EventEmitter } from 'node:events';
import type { Identity } from '../../ca/identity.js';
import { spiffeId } from '../../ca/identity.js';
import { WorkloadIdentity, type IssuedCertificate } from '../../ca/workload-identity.js';
import type { TlsIdentity } from '../hbone/hbone.js';

export interface IdentityCacheOptions {
  caAddress: string;
  rootPem: string;
  /** The node proxy's token: its own account and its node. */
  token: () => string;
  trustDomain: string;
  serverName?: string;
  log: (line: string) => void;
}

interface Entry {
  agent: WorkloadIdentity;
  first: Promise<IssuedCertificate>;
  users: number;
}

const tlsIdentity = (c: IssuedCertificate): TlsIdentity => ({ certChain: c.certChain, privateKey: c.privateKey, rootCert: c.rootCert });

/** Events: `rotated` (the SPIFFE ID and its new certificate). */
export class IdentityCache extends EventEmitter<{ rotated: [string, TlsIdentity] }> {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly o: IdentityCacheOptions) {
    super();
  }

  /** A pod of this account arrived: its certificate, fetched once for all the account's pods. */
  acquire(namespace: string, serviceAccount: string): Promise<TlsIdentity> {
    const identity: Identity = { trustDomain: this.o.trustDomain, namespace, serviceAccount };
    const id = spiffeId(identity);
    let e = this.entries.get(id);
    if (!e) {
      const agent = new WorkloadIdentity({ identity, caAddress: this.o.caAddress, rootPem: this.o.rootPem, token: this.o.token, serverName: this.o.serverName, impersonate: true });
      agent.on('rotated', (c) => {
        this.o.log(`ca: certificate for ${id} valid until ${c.notAfter.toISOString()}`);
        this.emit('rotated', id, tlsIdentity(c));
      });
      agent.on('error', (err) => this.o.log(`ca: renewing the certificate of ${id} failed: ${err.message}`));
      e = { agent, first: agent.start(), users: 0 };
      // A failed first request is retried by the next pod of the account.
      e.first.catch(() => this.entries.get(id) === e && this.entries.delete(id));
      this.entries.set(id, e);
    }
    e.users++;
    return e.first.then(() => tlsIdentity(e.agent.current!));
  }

  /** The current certificate of an account that has pods here. */
  current(namespace: string, serviceAccount: string): TlsIdentity | undefined {
    const c = this.entries.get(spiffeId({ trustDomain: this.o.trustDomain, namespace, serviceAccount }))?.agent.current;
    return c ? tlsIdentity(c) : undefined;
  }

  /** A pod of this account left; the last one stops its renewal. */
  release(namespace: string, serviceAccount: string): void {
    const id = spiffeId({ trustDomain: this.o.trustDomain, namespace, serviceAccount });
    const e = this.entries.get(id);
    if (!e || --e.users > 0) return;
    e.agent.stop();
    this.entries.delete(id);
  }

  /** The accounts held, with their certificates' expiry (the admin port). */
  list(): Array<{ identity: string; notAfter?: string }> {
    return [...this.entries].map(([identity, e]) => ({ identity, ...(e.agent.current ? { notAfter: e.agent.current.notAfter.toISOString() } : {}) }));
  }

  stop(): void {
    for (const e of this.entries.values()) e.agent.stop();
    this.entries.clear();
  }
}
