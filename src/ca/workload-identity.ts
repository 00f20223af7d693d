// A workload's identity as its proxy's agent keeps it: a key and certificate from the CA, renewed before expiry
// (at half its lifetime by default, like Istio's grace period), handed to whoever needs it on every rotation.

import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { MAX_TIMER_MS, realClock, type Clock, type Timer } from '../clock.js';
import { requestCertificate } from './ca-client.js';
import { createCsr } from './csr.js';
import { spiffeId, type Identity } from './identity.js';

export interface IssuedCertificate {
  certChain: string;
  privateKey: string;
  rootCert: string;
  notAfter: Date;
}

export class WorkloadIdentity extends EventEmitter<{ rotated: [IssuedCertificate]; error: [Error] }> {
  private timer: Timer | undefined;
  current: IssuedCertificate | undefined;
  private stopped = false;
  private readonly clock: Clock;

  constructor(
    private readonly o: {
      identity: Identity;
      caAddress: string;
      rootPem: string;
      token: () => string;
      ttlSeconds?: number;
      renewAt?: number;
      serverName?: string;
      /** A node proxy's: the certificate is for `identity`, a workload on its node, asked with the node's own token. */
      impersonate?: boolean;
      /** Time for the renewal schedule and the retries after failures. */
      clock?: Clock;
    },
  ) {
    super();
    this.clock = o.clock ?? realClock;
  }

  /** Fetch the first certificate (resolves when it is in hand), then keep renewing it. */
  async start(): Promise<IssuedCertificate> {
    return this.renew();
  }

  private async renew(): Promise<IssuedCertificate> {
    const { keyPem, csrPem } = await createCsr(this.o.identity);
    const asked = this.clock.now();
    const chain = await requestCertificate({ address: this.o.caAddress, rootPem: this.o.rootPem, token: this.o.token(), csrPem, ttlSeconds: this.o.ttlSeconds ?? 24 * 3600, serverName: this.o.serverName, ...(this.o.impersonate ? { impersonate: spiffeId(this.o.identity) } : {}) });
    const leaf = new X509Certificate(chain[0]!);
    const issued = { certChain: chain.slice(0, -1).join(''), privateKey: keyPem, rootCert: chain.at(-1)!, notAfter: new Date(leaf.validTo) };
    this.current = issued;
    this.emit('rotated', issued);
    // CAs backdate notBefore (a minute here, five in cfssl) for clock skew; counting the grace period from there
    // would renew a short-lived certificate at once, so the lifetime is counted from when it was asked for.
    this.schedule(Math.max(Date.parse(leaf.validFrom), asked), issued.notAfter.getTime());
    return issued;
  }

  private schedule(from: number, to: number): void {
    const at = from + (to - from) * (this.o.renewAt ?? 0.5);
    // Node fires a timer longer than ~24.8 days at once: a long-lived certificate is renewed a little early instead.
    this.arm(Math.min(MAX_TIMER_MS, Math.max(1_000, at - this.clock.now())));
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.renew().catch((err: Error) => {
        this.emit('error', err);
        // The current certificate stays in use until its end: keep trying until then, more often as it nears.
        const left = (this.current?.notAfter.getTime() ?? 0) - this.clock.now();
        this.arm(Math.min(5_000, Math.max(250, left / 4)));
      });
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }
}
