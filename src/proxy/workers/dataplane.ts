// The seam between the proxy program (admin, xDS client, CA agent, stats port) and whatever serves traffic: one
// in-process proxy, or a pool of worker processes sharing the listeners. The program talks only to this.

import type { AdminTarget } from '../admin/admin-target.js';
import type { EnvoySnapshot, Secret } from '../../xds/envoy/index.js';
import type { ApplyResult } from '../proxy.js';
import type { TlsSecret } from '../tls/tls-context.js';
import type { MetricsSource } from '../../telemetry/merged-metrics.js';
import type { TelemetrySetup } from './protocol.js';

export interface Dataplane {
  readonly admin: AdminTarget;
  /** LIVE with a snapshot applied (the readiness endpoints). */
  readonly ready: boolean;
  /** Istio's metrics, access logs and traces for this workload; call before start(). */
  enableTelemetry(setup: TelemetrySetup): Promise<MetricsSource>;
  start(): Promise<void>;
  /** Applies a snapshot (with the SDS secrets that came with it) everywhere; rejects (a NACK) if anything refused it. */
  apply(snapshot: EnvoySnapshot, sds?: readonly Secret[]): Promise<ApplyResult>;
  /** A certificate or trust bundle from this proxy's agent (`default`, `ROOTCA`). */
  setSecret(name: string, secret: TlsSecret): void;
  /** Stops accepting, lets what is in flight finish for up to `ms`, flushes telemetry, releases everything. */
  shutdown(ms: number): Promise<void>;
}
