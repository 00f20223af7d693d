// Counters and gauges as plain numeric fields on small objects, registered under Envoy-style prefixes for /stats.

/** A group of statistics: increment the fields directly on the hot path (`stats.upstream_rq_total++`). */
export type StatGroup = Record<string, number>;

interface Registered {
  prefix: string;
  counters: StatGroup;
  gauges: StatGroup;
}

export class StatsStore {
  private readonly groups = new Map<string, Registered>();

  /** Registers (or replaces) the groups under `prefix`, e.g. `cluster.outbound|9080||reviews.default.svc.cluster.local.`. */
  register(prefix: string, counters: StatGroup, gauges: StatGroup = {}): void {
    this.groups.set(prefix, { prefix, counters, gauges });
  }

  unregister(prefix: string): void {
    this.groups.delete(prefix);
  }

  /** Every statistic as [name, value, kind], sorted by name. */
  entries(): Array<[string, number, 'counter' | 'gauge']> {
    const out: Array<[string, number, 'counter' | 'gauge']> = [];
    for (const g of this.groups.values()) {
      for (const [k, v] of Object.entries(g.counters)) out.push([g.prefix + k, v, 'counter']);
      for (const [k, v] of Object.entries(g.gauges)) out.push([g.prefix + k, v, 'gauge']);
    }
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  }

  get(name: string): number | undefined {
    for (const g of this.groups.values()) {
      if (!name.startsWith(g.prefix)) continue;
      const k = name.slice(g.prefix.length);
      if (k in g.counters) return g.counters[k];
      if (k in g.gauges) return g.gauges[k];
    }
    return undefined;
  }
}

export function clusterCounters() {
  return {
    upstream_cx_total: 0,
    upstream_cx_connect_fail: 0,
    upstream_cx_connect_timeout: 0,
    upstream_cx_overflow: 0,
    upstream_cx_destroy_remote: 0,
    upstream_cx_destroy_local: 0,
    upstream_cx_http1_total: 0,
    upstream_cx_http2_total: 0,
    upstream_rq_total: 0,
    upstream_rq_completed: 0,
    upstream_rq_1xx: 0,
    upstream_rq_2xx: 0,
    upstream_rq_3xx: 0,
    upstream_rq_4xx: 0,
    upstream_rq_5xx: 0,
    upstream_rq_pending_total: 0,
    upstream_rq_pending_overflow: 0,
    upstream_rq_pending_failure_eject: 0,
    upstream_rq_cancelled: 0,
    upstream_rq_timeout: 0,
    upstream_rq_per_try_timeout: 0,
    upstream_rq_rx_reset: 0,
    upstream_rq_tx_reset: 0,
    upstream_rq_retry: 0,
    upstream_rq_retry_success: 0,
    upstream_rq_retry_overflow: 0,
    upstream_rq_retry_limit_exceeded: 0,
    upstream_rq_retry_backoff_exponential: 0,
    upstream_cx_rx_bytes_total: 0,
    upstream_cx_tx_bytes_total: 0,
    upstream_cx_none_healthy: 0,
    upstream_rq_maintenance_mode: 0,
    'outlier_detection.ejections_enforced_total': 0,
    'outlier_detection.ejections_enforced_consecutive_5xx': 0,
    'outlier_detection.ejections_detected_consecutive_5xx': 0,
    'outlier_detection.ejections_enforced_consecutive_gateway_failure': 0,
    'outlier_detection.ejections_detected_consecutive_gateway_failure': 0,
    'outlier_detection.ejections_enforced_consecutive_local_origin_failure': 0,
    'outlier_detection.ejections_detected_consecutive_local_origin_failure': 0,
    'outlier_detection.ejections_overflow': 0,
    'circuit_breakers.default.cx_open': 0,
    lb_healthy_panic: 0,
    membership_change: 0,
    update_success: 0,
    update_empty: 0,
  };
}

export function clusterGauges() {
  return {
    upstream_cx_active: 0,
    upstream_rq_active: 0,
    upstream_rq_pending_active: 0,
    membership_healthy: 0,
    membership_degraded: 0,
    membership_excluded: 0,
    membership_total: 0,
    'outlier_detection.ejections_active': 0,
  };
}

export type ClusterCounters = ReturnType<typeof clusterCounters>;
export type ClusterGauges = ReturnType<typeof clusterGauges>;

export function httpCounters() {
  return {
    downstream_rq_total: 0,
    downstream_rq_http1_total: 0,
    downstream_rq_http2_total: 0,
    downstream_rq_1xx: 0,
    downstream_rq_2xx: 0,
    downstream_rq_3xx: 0,
    downstream_rq_4xx: 0,
    downstream_rq_5xx: 0,
    downstream_rq_completed: 0,
    downstream_rq_rx_reset: 0,
    downstream_rq_tx_reset: 0,
    downstream_rq_timeout: 0,
    downstream_rq_ws_on_non_ws_route: 0,
    downstream_cx_total: 0,
    downstream_cx_http1_total: 0,
    downstream_cx_http2_total: 0,
    downstream_cx_upgrades_total: 0,
    downstream_cx_destroy_remote: 0,
    downstream_cx_drain_close: 0,
    downstream_cx_rx_bytes_total: 0,
    downstream_cx_tx_bytes_total: 0,
    no_route: 0,
    no_cluster: 0,
    rq_redirect: 0,
    rq_direct_response: 0,
    'fault.delays_injected': 0,
    'fault.aborts_injected': 0,
    'cors.origin_valid': 0,
    'cors.origin_invalid': 0,
    // envoy.filters.http.ext_authz (Envoy: http.<stat_prefix>.ext_authz.*)
    'ext_authz.ok': 0,
    'ext_authz.denied': 0,
    'ext_authz.error': 0,
    'ext_authz.disabled': 0,
    'ext_authz.failure_mode_allowed': 0,
  };
}

export function httpGauges() {
  return { downstream_cx_active: 0, downstream_rq_active: 0, downstream_cx_http1_active: 0, downstream_cx_http2_active: 0, downstream_cx_upgrades_active: 0 };
}

export type HttpCounters = ReturnType<typeof httpCounters>;
export type HttpGauges = ReturnType<typeof httpGauges>;

export function tcpCounters() {
  return {
    downstream_cx_total: 0,
    downstream_cx_no_route: 0,
    downstream_cx_rx_bytes_total: 0,
    downstream_cx_tx_bytes_total: 0,
    idle_timeout: 0,
    upstream_flush_total: 0,
  };
}

export function listenerCounters() {
  return { downstream_cx_total: 0, downstream_cx_destroy: 0, no_filter_chain_match: 0, downstream_listener_filter_error: 0, ssl_connection_error: 0, ssl_handshake: 0, rbac_denied: 0 };
}

export function listenerGauges() {
  return { downstream_cx_active: 0 };
}
