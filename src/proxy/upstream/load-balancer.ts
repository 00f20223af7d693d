// The load balancer contract and registry: each policy (round robin, least request, random, ring hash, Maglev) registers a factory.

import type { CompiledCluster, LbPolicy } from '../config/cluster-config.js';
import type { UpstreamHost } from './upstream-host.js';

export interface LbContext {
  /** From the route's hash policies; undefined when none applied. */
  hash: number | undefined;
}

export interface LoadBalancer {
  /** Picks a host among the balancer's hosts; undefined only when it has none. */
  choose(ctx: LbContext): UpstreamHost | undefined;
}

/** Builds a balancer over a fixed host list (rebuilt when the list or weights change). */
export type LoadBalancerFactory = (hosts: readonly UpstreamHost[], config: CompiledCluster) => LoadBalancer;

const factories = new Map<LbPolicy, LoadBalancerFactory>();

export function registerLoadBalancer(policy: LbPolicy, factory: LoadBalancerFactory): void {
  factories.set(policy, factory);
}

export function createLoadBalancer(policy: LbPolicy, hosts: readonly UpstreamHost[], config: CompiledCluster): LoadBalancer {
  const f = factories.get(policy) ?? factories.get('ROUND_ROBIN');
  if (!f) throw new Error(`no load balancer registered for ${policy}`);
  return f(hosts, config);
}

export const EMPTY_LB: LoadBalancer = { choose: () => undefined };

export function allSameWeight(hosts: readonly UpstreamHost[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== hosts[0]!.weight) return false;
  return true;
}
