// ROUND_ROBIN: a rotating index for equal weights, smooth weighted round robin otherwise; starts at a random offset like Envoy.

import { allSameWeight, registerLoadBalancer, type LoadBalancer } from './load-balancer.js';
import type { UpstreamHost } from './upstream-host.js';

class RoundRobin implements LoadBalancer {
  private next: number;
  constructor(private readonly hosts: readonly UpstreamHost[]) {
    this.next = Math.floor(Math.random() * Math.max(1, hosts.length));
  }
  choose(): UpstreamHost | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const h = this.hosts[this.next % n];
    this.next = (this.next + 1) % n;
    return h;
  }
}

/** Smooth weighted round robin (each pick adds weights, takes the largest, subtracts the total). */
class WeightedRoundRobin implements LoadBalancer {
  private readonly current: number[];
  private readonly total: number;
  constructor(private readonly hosts: readonly UpstreamHost[]) {
    this.current = hosts.map(() => 0);
    this.total = hosts.reduce((s, h) => s + h.weight, 0);
  }
  choose(): UpstreamHost | undefined {
    let best = -1;
    for (let i = 0; i < this.hosts.length; i++) {
      this.current[i]! += this.hosts[i]!.weight;
      if (best < 0 || this.current[i]! > this.current[best]!) best = i;
    }
    if (best < 0) return undefined;
    this.current[best]! -= this.total;
    return this.hosts[best];
  }
}

registerLoadBalancer('ROUND_ROBIN', (hosts) => (allSameWeight(hosts) ? new RoundRobin(hosts) : new WeightedRoundRobin(hosts)));
