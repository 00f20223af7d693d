// LEAST_REQUEST: power of N random choices (default two), the host with fewest active requests wins; weights bias the draw.

import { registerLoadBalancer, type LoadBalancer } from './load-balancer.js';
import { cumulativeWeights, weightedRandom } from './load-balancer-random.js';
import type { UpstreamHost } from './upstream-host.js';

class LeastRequest implements LoadBalancer {
  private readonly cumulative: number[] | undefined;
  constructor(private readonly hosts: readonly UpstreamHost[], private readonly choices: number) {
    this.cumulative = cumulativeWeights(hosts);
  }
  choose(): UpstreamHost | undefined {
    const n = this.hosts.length;
    if (n <= 1) return this.hosts[0];
    let best: UpstreamHost | undefined;
    for (let i = 0; i < this.choices; i++) {
      const h = weightedRandom(this.hosts, this.cumulative)!;
      if (!best || h.activeRequests < best.activeRequests) best = h;
    }
    return best;
  }
}

registerLoadBalancer('LEAST_REQUEST', (hosts, cfg) => new LeastRequest(hosts, cfg.leastRequestChoiceCount));
