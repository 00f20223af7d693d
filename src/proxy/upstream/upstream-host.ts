// One upstream endpoint: its address, weight and health, live counters, outlier state and (lazily) its connection pool.

import type { EndpointSpec, HostHealth } from '../config/cluster-config.js';
import type { HostPool } from './pool.js';

export class UpstreamHost {
  /** "10.0.0.1:9080" or "[::1]:9080", the form Envoy's /clusters prints. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  weight: number;
  health: HostHealth;
  priority: number;
  region: string;
  zone: string;
  subZone: string;
  hostname: string;
  /** An internal listener of this proxy stands in for the host (Envoy's internal address; Istio's HBONE originator). */
  readonly internal: { listener: string; endpointId: string } | undefined;

  /** Set by outlier detection; an ejected host is left out of load balancing. */
  ejected = false;
  numEjections = 0;
  lastEjectionMs = 0;
  lastUnejectionMs = 0;
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalOriginFailure = 0;

  /** Requests in flight (least-request balancing reads this). */
  activeRequests = 0;
  rqTotal = 0;
  rqError = 0;
  rqSuccess = 0;
  rqTimeout = 0;
  cxTotal = 0;
  cxActive = 0;
  cxConnectFail = 0;

  /** Connection pools by protocol, created on first use. */
  http1Pool: HostPool | undefined;
  http2Pool: HostPool | undefined;

  constructor(spec: Pick<EndpointSpec, 'address' | 'port'> & Partial<EndpointSpec>) {
    this.address = spec.address;
    this.port = spec.port;
    this.internal = spec.internal;
    // Envoy prints internal addresses as `envoy://<listener>/<endpoint id>`.
    this.id = spec.internal ? `envoy://${spec.internal.listener}/${spec.internal.endpointId || `${spec.address}:${spec.port}`}` : spec.address.includes(':') ? `[${spec.address}]:${spec.port}` : `${spec.address}:${spec.port}`;
    this.weight = spec.weight ?? 1;
    this.health = spec.health ?? 'healthy';
    this.priority = spec.priority ?? 0;
    this.region = spec.region ?? '';
    this.zone = spec.zone ?? '';
    this.subZone = spec.subZone ?? '';
    this.hostname = spec.hostname ?? '';
  }

  /** Takes the EDS view of an existing host (same address) without losing its counters or outlier state. */
  refresh(spec: EndpointSpec): boolean {
    const changed = this.weight !== spec.weight || this.health !== spec.health || this.priority !== spec.priority;
    this.weight = spec.weight;
    this.health = spec.health;
    this.priority = spec.priority;
    this.region = spec.region;
    this.zone = spec.zone;
    this.subZone = spec.subZone;
    this.hostname = spec.hostname;
    return changed;
  }

  /** Usable for load balancing outside panic mode. */
  get available(): boolean {
    return this.health === 'healthy' && !this.ejected;
  }

  /** Envoy's /clusters health_flags: "healthy" or a list like "/failed_outlier_check/failed_eds_health". */
  healthFlags(): string {
    let s = '';
    if (this.ejected) s += '/failed_outlier_check';
    if (this.health === 'unhealthy') s += '/failed_eds_health';
    if (this.health === 'degraded') s += '/degraded_eds_health';
    if (this.health === 'draining') s += '/eds_status_draining';
    return s || 'healthy';
  }

  pools(): HostPool[] {
    const out: HostPool[] = [];
    if (this.http1Pool) out.push(this.http1Pool);
    if (this.http2Pool) out.push(this.http2Pool);
    return out;
  }
}
