// /clusters in Envoy's text form (cluster::host:port::stat::value) and JSON form (ClusterStatuses), rendered from plain
// data so that the statuses of several worker processes can be summed before they are printed.

import type { TrellisProxy } from '../proxy.js';

/** Per-host counters (and the two gauges) that /clusters prints; summed across workers. */
export interface HostCounters {
  cx_active: number;
  cx_connect_fail: number;
  cx_total: number;
  rq_active: number;
  rq_error: number;
  rq_success: number;
  rq_timeout: number;
  rq_total: number;
}

export interface HostStatus {
  id: string;
  address: string;
  port: number;
  hostname: string;
  health: string;
  ejected: boolean;
  healthFlags: string;
  weight: number;
  priority: number;
  region: string;
  zone: string;
  subZone: string;
  stats: HostCounters;
}

export interface ClusterStatus {
  name: string;
  observabilityName: string;
  thresholds: Record<string, number>;
  hosts: HostStatus[];
}

const HIGH_PRIORITY = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

/** The proxy's clusters and hosts as JSON-safe data (what a worker sends its primary). */
export function clusterStatuses(proxy: TrellisProxy): ClusterStatus[] {
  return proxy.clusterList().map((c) => ({
    name: c.name,
    observabilityName: c.config.raw.altStatName || c.name,
    thresholds: { ...c.config.thresholds } as unknown as Record<string, number>,
    hosts: c.hosts.map((h) => ({
      id: h.id,
      address: h.address,
      port: h.port,
      hostname: h.hostname,
      health: h.health,
      ejected: h.ejected,
      healthFlags: h.healthFlags(),
      weight: h.weight,
      priority: h.priority,
      region: h.region,
      zone: h.zone,
      subZone: h.subZone,
      stats: {
        cx_active: h.cxActive,
        cx_connect_fail: h.cxConnectFail,
        cx_total: h.cxTotal,
        rq_active: h.activeRequests,
        rq_error: h.rqError,
        rq_success: h.rqSuccess,
        rq_timeout: h.rqTimeout,
        rq_total: h.rqTotal,
      },
    })),
  }));
}

/**
 * One view of several workers' clusters: host counters are summed (a request is served by exactly one worker);
 * configuration comes from the first worker that has the cluster. Each worker runs its own outlier detection, so a
 * host ejected by any worker is shown ejected.
 */
export function mergeClusterStatuses(perWorker: ClusterStatus[][]): ClusterStatus[] {
  const out = new Map<string, ClusterStatus>();
  for (const list of perWorker) {
    for (const c of list) {
      const into = out.get(c.name);
      if (!into) {
        out.set(c.name, structuredClone(c));
        continue;
      }
      const hosts = new Map(into.hosts.map((h) => [h.id, h]));
      for (const h of c.hosts) {
        const mine = hosts.get(h.id);
        if (!mine) {
          into.hosts.push(structuredClone(h));
          continue;
        }
        for (const k of Object.keys(mine.stats) as Array<keyof HostCounters>) mine.stats[k] += h.stats[k];
        if (h.ejected && !mine.ejected) {
          mine.ejected = true;
          mine.healthFlags = h.healthFlags;
        }
      }
    }
  }
  return [...out.values()];
}

export function clustersText(clusters: ClusterStatus[]): string {
  const lines: string[] = [];
  for (const c of clusters) {
    const n = c.name;
    lines.push(`${n}::observability_name::${c.observabilityName}`);
    for (const p of ['default_priority', 'high_priority'] as const) {
      const th = p === 'default_priority' ? c.thresholds : HIGH_PRIORITY;
      lines.push(`${n}::${p}::max_connections::${th.maxConnections}`);
      lines.push(`${n}::${p}::max_pending_requests::${th.maxPendingRequests}`);
      lines.push(`${n}::${p}::max_requests::${th.maxRequests}`);
      lines.push(`${n}::${p}::max_retries::${th.maxRetries}`);
    }
    lines.push(`${n}::added_via_api::true`);
    for (const h of c.hosts) {
      const p = `${n}::${h.id}`;
      const s = h.stats;
      lines.push(`${p}::cx_active::${s.cx_active}`);
      lines.push(`${p}::cx_connect_fail::${s.cx_connect_fail}`);
      lines.push(`${p}::cx_total::${s.cx_total}`);
      lines.push(`${p}::rq_active::${s.rq_active}`);
      lines.push(`${p}::rq_error::${s.rq_error}`);
      lines.push(`${p}::rq_success::${s.rq_success}`);
      lines.push(`${p}::rq_timeout::${s.rq_timeout}`);
      lines.push(`${p}::rq_total::${s.rq_total}`);
      lines.push(`${p}::hostname::${h.hostname}`);
      lines.push(`${p}::health_flags::${h.healthFlags}`);
      lines.push(`${p}::weight::${h.weight}`);
      lines.push(`${p}::region::${h.region}`);
      lines.push(`${p}::zone::${h.zone}`);
      lines.push(`${p}::sub_zone::${h.subZone}`);
      lines.push(`${p}::canary::false`);
      lines.push(`${p}::priority::${h.priority}`);
      lines.push(`${p}::success_rate::-1`);
      lines.push(`${p}::local_origin_success_rate::-1`);
    }
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

export function clustersJson(clusters: ClusterStatus[]): Record<string, unknown> {
  return {
    clusterStatuses: clusters.map((c) => ({
      name: c.name,
      observabilityName: c.observabilityName,
      addedViaApi: true,
      circuitBreakers: { thresholds: [{ priority: 'DEFAULT', ...c.thresholds }, { priority: 'HIGH', ...HIGH_PRIORITY }] },
      hostStatuses: c.hosts.map((h) => ({
        address: { socketAddress: { address: h.address, portValue: h.port } },
        stats: [
          { name: 'cx_connect_fail', value: String(h.stats.cx_connect_fail) },
          { name: 'cx_total', value: String(h.stats.cx_total) },
          { name: 'rq_error', value: String(h.stats.rq_error) },
          { name: 'rq_success', value: String(h.stats.rq_success) },
          { name: 'rq_timeout', value: String(h.stats.rq_timeout) },
          { name: 'rq_total', value: String(h.stats.rq_total) },
          { type: 'GAUGE', name: 'cx_active', value: String(h.stats.cx_active) },
          { type: 'GAUGE', name: 'rq_active', value: String(h.stats.rq_active) },
        ],
        healthStatus: {
          edsHealthStatus: h.health === 'healthy' ? 'HEALTHY' : h.health === 'degraded' ? 'DEGRADED' : h.health === 'draining' ? 'DRAINING' : 'UNHEALTHY',
          ...(h.ejected ? { failedOutlierCheck: true } : {}),
        },
        weight: h.weight,
        hostname: h.hostname,
        priority: h.priority,
        locality: { region: h.region, zone: h.zone, subZone: h.subZone },
      })),
    })),
  };
}
