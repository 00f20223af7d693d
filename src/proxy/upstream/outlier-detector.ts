// Passive health checking: eject hosts after consecutive 5xx / gateway / local-origin failures; bring them back on the interval timer.

import { realClock, type Clock, type Timer } from '../../clock.js';
import type { CompiledOutlierDetection } from '../config/cluster-config.js';
import type { ClusterCounters, ClusterGauges } from '../stats.js';
import type { UpstreamHost } from './upstream-host.js';

/** Outcomes the router and the TCP proxy report; local-origin ones never reached the upstream application. */
export type LocalOriginResult = 'connect_failed' | 'connect_success' | 'timeout' | 'request_failed' | 'request_success';

export interface OutlierCluster {
  readonly hosts: readonly UpstreamHost[];
  readonly counters: ClusterCounters;
  readonly gauges: ClusterGauges;
  /** Called after ejections or un-ejections so the load balancer set is rebuilt. */
  onHostHealthChange(): void;
}

function isGatewayError(code: number): boolean {
  return code === 502 || code === 503 || code === 504;
}

function roll(percent: number): boolean {
  return percent >= 100 || (percent > 0 && Math.random() * 100 < percent);
}

export class OutlierDetector {
  private timer: Timer | undefined;

  constructor(private cfg: CompiledOutlierDetection, private readonly cluster: OutlierCluster, private readonly clock: Clock = realClock) {
    this.schedule();
  }

  update(cfg: CompiledOutlierDetection): void {
    const intervalChanged = cfg.intervalMs !== this.cfg.intervalMs;
    this.cfg = cfg;
    if (intervalChanged) this.schedule();
  }

  private schedule(): void {
    this.clock.clearInterval(this.timer);
    this.timer = this.clock.setInterval(() => this.onInterval(), Math.max(1, this.cfg.intervalMs));
    this.timer.unref();
  }

  close(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** An HTTP status from the upstream (or one the router generated on its behalf, in non-split mode). */
  putHttpStatus(host: UpstreamHost, code: number): void {
    if (code >= 500 && code <= 599) {
      if (isGatewayError(code)) {
        if (++host.consecutiveGatewayFailure === this.cfg.consecutiveGatewayFailure) this.onConsecutive(host, 'gateway');
      } else {
        host.consecutiveGatewayFailure = 0;
      }
      if (++host.consecutive5xx === this.cfg.consecutive5xx) this.onConsecutive(host, '5xx');
    } else {
      host.consecutive5xx = 0;
      host.consecutiveGatewayFailure = 0;
    }
  }

  /** Connection failures, timeouts and resets. Without split mode they count as 503 / 504 like Envoy does. */
  putLocalOrigin(host: UpstreamHost, result: LocalOriginResult): void {
    if (!this.cfg.splitExternalLocalOriginErrors) {
      if (result === 'connect_failed' || result === 'request_failed') this.putHttpStatus(host, 503);
      else if (result === 'timeout') this.putHttpStatus(host, 504);
      else if (result === 'request_success') this.putHttpStatus(host, 200);
      // connect_success alone says nothing about the response
      return;
    }
    if (result === 'connect_success' || result === 'request_success') {
      host.consecutiveLocalOriginFailure = 0;
      return;
    }
    if (++host.consecutiveLocalOriginFailure === this.cfg.consecutiveLocalOriginFailure) this.onConsecutive(host, 'local');
  }

  private onConsecutive(host: UpstreamHost, kind: '5xx' | 'gateway' | 'local'): void {
    const c = this.cluster.counters;
    let enforcing: number;
    if (kind === '5xx') {
      c['outlier_detection.ejections_detected_consecutive_5xx']++;
      enforcing = this.cfg.enforcingConsecutive5xx;
    } else if (kind === 'gateway') {
      c['outlier_detection.ejections_detected_consecutive_gateway_failure']++;
      enforcing = this.cfg.enforcingConsecutiveGatewayFailure;
    } else {
      c['outlier_detection.ejections_detected_consecutive_local_origin_failure']++;
      enforcing = this.cfg.enforcingConsecutiveLocalOriginFailure;
    }
    if (!roll(enforcing)) return;
    if (this.eject(host)) {
      if (kind === '5xx') c['outlier_detection.ejections_enforced_consecutive_5xx']++;
      else if (kind === 'gateway') c['outlier_detection.ejections_enforced_consecutive_gateway_failure']++;
      else c['outlier_detection.ejections_enforced_consecutive_local_origin_failure']++;
    }
  }

  /** Ejects unless that would pass max_ejection_percent (checked against the hosts already ejected, as Envoy does). */
  private eject(host: UpstreamHost): boolean {
    if (host.ejected) return false;
    const hosts = this.cluster.hosts;
    let ejected = 0;
    for (const h of hosts) if (h.ejected) ejected++;
    const percent = hosts.length ? (100 * ejected) / hosts.length : 100;
    if (!(percent < this.cfg.maxEjectionPercent || (this.cfg.alwaysEjectOneHost && ejected === 0))) {
      this.cluster.counters['outlier_detection.ejections_overflow']++;
      return false;
    }
    host.ejected = true;
    host.numEjections++;
    host.lastEjectionMs = this.clock.now();
    host.consecutive5xx = 0;
    host.consecutiveGatewayFailure = 0;
    host.consecutiveLocalOriginFailure = 0;
    this.cluster.counters['outlier_detection.ejections_enforced_total']++;
    this.cluster.gauges['outlier_detection.ejections_active'] = ejected + 1;
    this.cluster.onHostHealthChange();
    return true;
  }

  /** Un-ejects hosts whose time is up: base_ejection_time × number of ejections, capped at max_ejection_time. */
  onInterval(): void {
    const now = this.clock.now();
    let changed = false;
    let active = 0;
    for (const h of this.cluster.hosts) {
      if (!h.ejected) {
        // A host that stayed healthy for a while earns back one ejection ("backoff" decreases).
        if (h.numEjections > 0 && now - h.lastUnejectionMs >= this.cfg.baseEjectionTimeMs && now - h.lastEjectionMs >= this.cfg.baseEjectionTimeMs * h.numEjections) h.numEjections--;
        continue;
      }
      const ejectFor = Math.min(this.cfg.baseEjectionTimeMs * h.numEjections, this.cfg.maxEjectionTimeMs);
      if (now - h.lastEjectionMs >= ejectFor) {
        h.ejected = false;
        h.lastUnejectionMs = now;
        changed = true;
      } else {
        active++;
      }
    }
    this.cluster.gauges['outlier_detection.ejections_active'] = active;
    if (changed) this.cluster.onHostHealthChange();
  }
}
