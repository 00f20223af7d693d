// Health from error ratios, with Kiali's default tolerances.

import type { HealthStatus, RequestRates } from './types.js';

/**
 * Kiali's default request-health tolerances (https://kiali.io/docs/configuration/health, "Default Configuration"):
 *   http 5xx: degraded 0, failure 10   — any application error degrades; more than 10% fails
 *   http 4xx: degraded 10, failure 20  — client errors are often normal (404), so they are tolerated more
 *   grpc 1–16: degraded 0, failure 10
 * Percentages; a ratio above `degraded` is Degraded, above `failure` is Failure (the page: "if the rate of
 * application errors is >= 0.1% Kiali will show Degraded health and if > 10% will show Failure health").
 */
export interface Tolerance {
  degraded: number;
  failure: number;
}

export interface HealthConfig {
  http5xx: Tolerance;
  http4xx: Tolerance;
  grpc: Tolerance;
}

export const KIALI_DEFAULT_HEALTH: HealthConfig = {
  http5xx: { degraded: 0, failure: 10 },
  http4xx: { degraded: 10, failure: 20 },
  grpc: { degraded: 0, failure: 10 },
};

const ORDER: Record<HealthStatus, number> = { NA: 0, Healthy: 1, Degraded: 2, Failure: 3 };

export function worst(...statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((a, b) => (ORDER[b] > ORDER[a] ? b : a), 'NA');
}

function statusFor(percent: number, t: Tolerance): HealthStatus {
  if (percent > t.failure) return 'Failure';
  if (percent > t.degraded) return 'Degraded';
  return 'Healthy';
}

export interface RatesHealth {
  status: HealthStatus;
  /** e.g. `5xx 12.5%`: the ratio that decided, when not healthy. */
  reason?: string;
}

/** Health of one direction of traffic; NA when there was none (Kiali shows "no health information"). */
export function ratesHealth(r: RequestRates, config: HealthConfig = KIALI_DEFAULT_HEALTH): RatesHealth {
  if (!(r.total > 0)) return { status: 'NA' };
  const checks: Array<[string, number, Tolerance]> = [
    ['5xx', (r.err5xx / r.total) * 100, config.http5xx],
    ['4xx', (r.err4xx / r.total) * 100, config.http4xx],
    ['gRPC errors', (r.grpcErr / r.total) * 100, config.grpc],
  ];
  let out: RatesHealth = { status: 'Healthy' };
  for (const [what, pct, tol] of checks) {
    const s = statusFor(pct, tol);
    if (ORDER[s] > ORDER[out.status]) out = { status: s, reason: `${what} ${formatPercent(pct)}` };
  }
  return out;
}

export function formatPercent(p: number): string {
  return `${p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`;
}

export function emptyRates(): RequestRates {
  return { total: 0, err4xx: 0, err5xx: 0, grpcErr: 0 };
}

export function addRates(into: RequestRates, from: RequestRates): void {
  into.total += from.total;
  into.err4xx += from.err4xx;
  into.err5xx += from.err5xx;
  into.grpcErr += from.grpcErr;
}

/**
 * Classify one series' rate by its response code, as Kiali does: 4xx and 5xx for http; for gRPC the
 * `grpc_response_status` (non-zero is an error); code 0 or `-` (no response at all) counts as a server error.
 */
export function classify(rate: number, protocol: string, code: string, grpcStatus: string | undefined): RequestRates {
  const r: RequestRates = { total: rate, err4xx: 0, err5xx: 0, grpcErr: 0 };
  if (protocol === 'grpc') {
    if (grpcStatus !== undefined && grpcStatus !== '' && grpcStatus !== '0') r.grpcErr = rate;
    else if (grpcStatus === undefined || grpcStatus === '') {
      // Old telemetry without grpc_response_status: fall back to the HTTP code.
      if (code.startsWith('5') || code === '0' || code === '-') r.grpcErr = rate;
    }
    return r;
  }
  if (code.startsWith('4')) r.err4xx = rate;
  else if (code.startsWith('5') || code === '0' || code === '-' || code === '') r.err5xx = rate;
  return r;
}
