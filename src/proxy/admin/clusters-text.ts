// /clusters in Envoy's text form (cluster::host:port::stat::value) and JSON form (ClusterStatuses).

import type { TrellisProxy } from '../proxy.js';

export function clustersText(proxy: TrellisProxy): string {
  const lines: string[] = [];
  for (const c of proxy.clusterList()) {
    const n = c.name;
    const t = c.config.thresholds;
    lines.push(`${n}::observability_name::${c.config.raw.altStatName || n}`);
    for (const p of ['default_priority', 'high_priority'] as const) {
      const th = p === 'default_priority' ? t : { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };
      lines.push(`${n}::${p}::max_connections::${th.maxConnections}`);
      lines.push(`${n}::${p}::max_pending_requests::${th.maxPendingRequests}`);
      lines.push(`${n}::${p}::max_requests::${th.maxRequests}`);
      lines.push(`${n}::${p}::max_retries::${th.maxRetries}`);
    }
    lines.push(`${n}::added_via_api::true`);
    for (const h of c.hosts) {
      const p = `${n}::${h.id}`;
      lines.push(`${p}::cx_active::${h.cxActive}`);
      lines.push(`${p}::cx_connect_fail::${h.cxConnectFail}`);
      lines.push(`${p}::cx_total::${h.cxTotal}`);
      lines.push(`${p}::rq_active::${h.activeRequests}`);
      lines.push(`${p}::rq_error::${h.rqError}`);
      lines.push(`${p}::rq_success::${h.rqSuccess}`);
      lines.push(`${p}::rq_timeout::${h.rqTimeout}`);
      lines.push(`${p}::rq_total::${h.rqTotal}`);
      lines.push(`${p}::hostname::${h.hostname}`);
      lines.push(`${p}::health_flags::${h.healthFlags()}`);
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

export function clustersJson(proxy: TrellisProxy): Record<string, unknown> {
  return {
    clusterStatuses: proxy.clusterList().map((c) => ({
      name: c.name,
      observabilityName: c.config.raw.altStatName || c.name,
      addedViaApi: true,
      circuitBreakers: {
        thresholds: [
          { priority: 'DEFAULT', ...c.config.thresholds },
          { priority: 'HIGH', maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
        ],
      },
      hostStatuses: c.hosts.map((h) => ({
        address: { socketAddress: { address: h.address, portValue: h.port } },
        stats: [
          { name: 'cx_connect_fail', value: String(h.cxConnectFail) },
          { name: 'cx_total', value: String(h.cxTotal) },
          { name: 'rq_error', value: String(h.rqError) },
          { name: 'rq_success', value: String(h.rqSuccess) },
          { name: 'rq_timeout', value: String(h.rqTimeout) },
          { name: 'rq_total', value: String(h.rqTotal) },
          { type: 'GAUGE', name: 'cx_active', value: String(h.cxActive) },
          { type: 'GAUGE', name: 'rq_active', value: String(h.activeRequests) },
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
