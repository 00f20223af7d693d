// The local runtime's loopback address plan: every pod, its app and the gateways get addresses of their own in
// 127.0.0.0/8 (all of it is local on Linux, no root needed), so each can listen on Istio's well-known ports (15000,
// 15020, 9080 …) as it would in its own network namespace, however many share the machine.

/** The second octet of pod addresses unless told otherwise: pods are 127.10.x.y, their apps 127.11.x.y. */
export const DEFAULT_ADDRESS_BASE = 10;

/** Pods are numbered from 1 in 127.<base>.0.1 …; the block's last /24 (127.<base>.255.0/24) is the gateways'. */
export const MAX_PODS = 255 * 256 - 1;

function inBlock(second: number, n: number): string {
  if (!Number.isInteger(second) || second < 1 || second > 255) throw new RangeError(`address base ${second} is outside 127.1-255.x.y`);
  return `127.${second}.${n >> 8}.${n & 255}`;
}

function podNumber(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PODS) throw new RangeError(`pod number ${n} is outside 1-${MAX_PODS}`);
  return n;
}

/** Where pod `n` (from 1) is reached: its sidecar's inbound side (or the app itself when it has no sidecar). */
export function podAddress(base: number, n: number): string {
  return inBlock(base, podNumber(n));
}

/** Where pod `n`'s app listens behind its sidecar: the same host part one block up, known only to the sidecar. */
export function appAddress(base: number, n: number): string {
  return inBlock(base + 1, podNumber(n));
}

/** The address of the runtime's gateway `k` (1 is the ingress gateway): past every pod, so never one of theirs. */
export function gatewayAddress(base: number, k = 1): string {
  if (k < 1 || k > 254) throw new RangeError(`gateway number ${k} is outside 1-254`);
  return inBlock(base, MAX_PODS + 1 + k);
}

/**
 * Hands out gateway addresses for a run: the control planes' gateways and the Kubernetes Gateways' proxies draw from
 * one pool, so none shares an address. A key keeps its number while it holds it; number 1 (the host's ingress) is
 * given only when asked for.
 */
export class GatewayAddresses {
  private readonly numbers = new Map<string, number>();

  constructor(private readonly base: number) {}

  /** The address of `key` (a gateway's `namespace/name`), given once and kept until released. */
  addressOf(key: string, hostIngress = false): string {
    return gatewayAddress(this.base, this.numberOf(key, hostIngress));
  }

  /** The gateway number of `key` (what its address and, in a pod network, its pod number derive from). */
  numberOf(key: string, hostIngress = false): number {
    let n = this.numbers.get(key);
    if (n === undefined) {
      const used = new Set(this.numbers.values());
      n = hostIngress && !used.has(1) ? 1 : 2;
      if (n !== 1) while (used.has(n)) n++;
      if (n > 254) throw new Error(`no loopback address left for gateway ${key} (at most 254 gateways)`);
      this.numbers.set(key, n);
    }
    return n;
  }

  /** Gives `key`'s address back to the pool. */
  release(key: string): void {
    this.numbers.delete(key);
  }
}
