// RING_HASH: Ketama-style consistent hashing; each host gets ring entries in proportion to its weight.

import { murmur3 } from './hash.js';
import { registerLoadBalancer, type LbContext, type LoadBalancer } from './load-balancer.js';
import type { UpstreamHost } from './upstream-host.js';

class RingHash implements LoadBalancer {
  private readonly ring: Uint32Array;
  private readonly owners: UpstreamHost[];

  constructor(private readonly hosts: readonly UpstreamHost[], minRing: number, maxRing: number) {
    const totalWeight = hosts.reduce((s, h) => s + h.weight, 0);
    if (hosts.length === 0 || totalWeight === 0) {
      this.ring = new Uint32Array(0);
      this.owners = [];
      return;
    }
    // As in Envoy: scale so the lightest host gets at least one entry, within [min, max] ring size.
    const minNorm = Math.min(...hosts.map((h) => h.weight / totalWeight));
    const scale = Math.min(Math.ceil(minNorm * minRing) / minNorm, maxRing);
    const entries: Array<[number, UpstreamHost]> = [];
    let target = 0;
    let current = 0;
    for (const h of hosts) {
      target += scale * (h.weight / totalWeight);
      while (current < target) {
        entries.push([murmur3(`${h.id}_${current}`), h]);
        current++;
      }
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.ring = Uint32Array.from(entries.map((e) => e[0]));
    this.owners = entries.map((e) => e[1]);
  }

  choose(ctx: LbContext): UpstreamHost | undefined {
    const n = this.ring.length;
    if (n === 0) return undefined;
    if (ctx.hash === undefined) return this.hosts[Math.floor(Math.random() * this.hosts.length)];
    const h = ctx.hash >>> 0;
    // first entry with hash >= h, wrapping to 0
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === n ? 0 : lo];
  }
}

registerLoadBalancer('RING_HASH', (hosts, cfg) => new RingHash(hosts, cfg.ringHash.minRingSize, cfg.ringHash.maxRingSize));
