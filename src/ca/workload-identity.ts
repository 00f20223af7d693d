// A workload's identity as its proxy's agent keeps it: a key and certificate from the CA, renewed before expiry
// (at half its lifetime by default, like Istio's grace period), handed to whoever needs it on every rotation.

import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { requestCertificate } from './ca-api.js';
import { createCsr, type Identity } from './ca.js';

export interface IssuedCertificate {
  certChain: string;
  privateKey: string;
  rootCert: string;
  notAfter: Date;
}

export class WorkloadIdentity extends EventEmitter<{ rotated: [IssuedCertificate]; error: [Error] }> {
  private timer: NodeJS.Timeout | undefined;
  current: IssuedCertificate | undefined;
  private stopped = false;

  constructor(
    private readonly o: { identity: Identity; caAddress: string; rootPem: string; token: () => string; ttlSeconds?: number; renewAt?: number; serverName?: string },
  ) {
    super();
  }

  /** Fetch the first certificate (resolves when it is in hand), then keep renewing it. */
  async start(): Promise<IssuedCertificate> {
    return this.renew();
  }

  private async renew(): Promise<IssuedCertificate> {
    const { keyPem, csrPem } = await createCsr(this.o.identity);
    const chain = await requestCertificate({ address: this.o.caAddress, rootPem: this.o.rootPem, token: this.o.token(), csrPem, ttlSeconds: this.o.ttlSeconds ?? 24 * 3600, serverName: this.o.serverName });
    const leaf = new X509Certificate(chain[0]!);
    const issued = { certChain: chain.slice(0, -1).join(''), privateKey: keyPem, rootCert: chain.at(-1)!, notAfter: new Date(leaf.validTo) };
    this.current = issued;
    this.emit('rotated', issued);
    this.schedule(Date.parse(leaf.validFrom), issued.notAfter.getTime());
    return issued;
  }

  private schedule(from: number, to: number): void {
    if (this.stopped) return;
    const at = from + (to - from) * (this.o.renewAt ?? 0.5);
    this.timer = setTimeout(() => {
      this.renew().catch((err: Error) => {
        this.emit('error', err);
        // Try again soon; the current certificate stays valid until its end.
        this.timer = setTimeout(() => void this.renew().catch((e: Error) => this.emit('error', e)), 5_000);
        this.timer.unref();
      });
    }, Math.max(1_000, at - Date.now()));
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
