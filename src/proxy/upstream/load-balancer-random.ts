// RANDOM: a uniformly random host, weighted by endpoint weight when weights differ.

import { allSameWeight, registerLoadBalancer, type LoadBalancer } from './load-balancer.js';
import type { UpstreamHost } from './upstream-host.js';

export function weightedRandom(hosts: readonly UpstreamHost[], cumulative: readonly number[] | undefined): UpstreamHost | undefined {
  const n = hosts.length;
  if (n === 0) return undefined;
  if (!cumulative) return hosts[Math.floor(Math.random() * n)];
  const r = Math.random() * cumulative[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return hosts[lo];
}

export function cumulativeWeights(hosts: readonly UpstreamHost[]): number[] | undefined {
  if (allSameWeight(hosts)) return undefined;
  let sum = 0;
  return hosts.map((h) => (sum += h.weight));
}

class RandomLb implements LoadBalancer {
  private readonly cumulative: number[] | undefined;
  constructor(private readonly hosts: readonly UpstreamHost[]) {
    this.cumulative = cumulativeWeights(hosts);
  }
  choose(): UpstreamHost | undefined {
    return weightedRandom(this.hosts, this.cumulative);
  }
}

registerLoadBalancer('RANDOM', (hosts) => new RandomLb(hosts));
