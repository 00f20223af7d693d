// MAGLEV: Google's Maglev lookup table (prime size, default 65537), filled by per-host permutations weighted by endpoint weight.

import { murmur3 } from './hash.js';
import { registerLoadBalancer, type LbContext, type LoadBalancer } from './load-balancer.js';
import type { UpstreamHost } from './upstream-host.js';

class Maglev implements LoadBalancer {
  private readonly table: Int32Array;

  constructor(private readonly hosts: readonly UpstreamHost[], size: number) {
    this.table = new Int32Array(hosts.length ? size : 0).fill(-1);
    if (hosts.length === 0) return;
    const offsets = hosts.map((h) => murmur3(h.id, 0xabcd) % size);
    const skips = hosts.map((h) => (murmur3(h.id, 0x1234) % (size - 1)) + 1);
    const next = hosts.map(() => 0);
    const maxWeight = Math.max(...hosts.map((h) => h.weight));
    const credit = hosts.map(() => 0);
    let filled = 0;
    // Weighted fill: each round a host earns weight/maxWeight credit and places one entry per whole credit.
    while (filled < size) {
      for (let i = 0; i < hosts.length && filled < size; i++) {
        credit[i]! += hosts[i]!.weight / maxWeight;
        if (credit[i]! < 1) continue;
        credit[i]! -= 1;
        let c = (offsets[i]! + next[i]! * skips[i]!) % size;
        while (this.table[c]! >= 0) {
          next[i]!++;
          c = (offsets[i]! + next[i]! * skips[i]!) % size;
        }
        this.table[c] = i;
        next[i]!++;
        filled++;
      }
    }
  }

  choose(ctx: LbContext): UpstreamHost | undefined {
    if (this.table.length === 0) return undefined;
    if (ctx.hash === undefined) return this.hosts[Math.floor(Math.random() * this.hosts.length)];
    return this.hosts[this.table[(ctx.hash >>> 0) % this.table.length]!];
  }
}

registerLoadBalancer('MAGLEV', (hosts, cfg) => new Maglev(hosts, cfg.maglevTableSize));
