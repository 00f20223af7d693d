// What the data-plane layers need from the proxy around them: clusters, route tables, stats and observers (a narrow seam).

import type { Clock } from '../clock.js';
import type { RouteTable } from './config/route-table.js';
import type { Observers } from './records.js';
import type { HttpCounters, HttpGauges, StatGroup, StatsStore } from './stats.js';
import type { UpstreamCluster } from './upstream/upstream-cluster.js';
import type { ConnectionManager } from './http/connection-manager.js';
import type { ConnectionInfo } from './http/http-stream.js';
import type { SecretStore } from './tls/tls-context.js';
import type { ListenerRuntime } from './listener/listener-runtime.js';

export interface ProxyRuntime {
  cluster(name: string): UpstreamCluster | undefined;
  routeTable(name: string): RouteTable | undefined;
  readonly stats: StatsStore;
  readonly observers: Observers;
  /** Shared HTTP statistics for a connection manager's stat_prefix. */
  httpStats(statPrefix: string): { counters: HttpCounters; gauges: HttpGauges };
  /** Shared tcp_proxy statistics for a stat_prefix. */
  tcpStats(statPrefix: string): StatGroup;
  readonly draining: boolean;
  /** Time for route, per-try and ext_authz timeouts, retry back-off, fault delays and mirror deadlines. */
  readonly clock: Clock;
  /** Certificates and trust bundles by SDS name, for TLS transport sockets. */
  readonly secrets?: SecretStore;
  /**
   * For useOriginalDst listeners: the HTTP connection manager of the listener a request's target names
   * (port, and address unless the listener is a wildcard), as Envoy's original_dst hand-off would pick it.
   */
  originalDstHttp?(target: { host: string; port: number }, info: ConnectionInfo): { cm: ConnectionManager; info: ConnectionInfo } | undefined;
  /**
   * For captured connections: the listener (not itself useOriginalDst) that a restored destination names, by exact
   * address and port, else the port's wildcard listener (`0.0.0.0_9080`, also `::`), as Envoy's hand-off picks it.
   */
  listenerForDestination?(address: string, port: number): ListenerRuntime | undefined;
}
