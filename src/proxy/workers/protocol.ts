// The messages between the proxy's primary process and its workers over the cluster IPC channel. Every message from
// the primary is a request with an id; the worker answers each one, so the primary can wait for all of them.

import type { EnvoySnapshot, Secret } from '../../xds/envoy/index.js';
import type { ConfigIssue } from '../errors.js';
import type { ConfigDumpQuery, ListenerStatus, StatEntry } from '../admin/admin-target.js';
import type { ClusterStatus } from '../admin/clusters-text.js';
import type { TlsSecret } from '../tls/tls-context.js';
import type { MetricsJson } from '../../telemetry/merged-metrics.js';
import type { WorkloadMetadata } from '../../telemetry/workload-metadata.js';

type Json = Record<string, unknown>;

/** What a worker needs before its first message: who the proxy is, and its logging levels. Passed in the environment. */
export interface WorkerSetup {
  /** 1-based, stable across restarts of the same slot. */
  slot: number;
  proxy: { nodeId?: string; serviceCluster?: string; listenerDrainMs: number };
  levels: Record<string, string>;
  /** Istio metrics, access logs and traces (xDS mode), as the single-process proxy sets them up. */
  telemetry?: TelemetrySetup;
}

export interface TelemetrySetup {
  nodeId: string;
  local: WorkloadMetadata;
  /** A waypoint: its requests are reported with reporter="waypoint", the client known by its certificate. */
  waypoint?: boolean;
}

export const WORKER_SETUP_ENV = 'TRELLIS_PROXY_WORKER';

/** Requests, by operation: arguments and the value answered. */
export interface Operations {
  apply: { args: { snapshot: EnvoySnapshot; sds?: readonly Secret[] }; value: { version: number; issues: ConfigIssue[]; listeners: ListenerStatus[] } };
  secret: { args: { name: string; secret: TlsSecret }; value: null };
  stats: { args: null; value: StatEntry[] };
  clusters: { args: null; value: ClusterStatus[] };
  metrics: { args: null; value: MetricsJson };
  configDump: { args: ConfigDumpQuery; value: Record<string, unknown> };
  logging: { args: { level: string; name?: string }; value: null };
  drainListeners: { args: null; value: null };
  /** Drain (finish what is in flight, flush telemetry), answer, then exit. */
  drain: { args: { ms: number }; value: null };
}

export type Op = keyof Operations;

export interface Request<O extends Op = Op> {
  t: 'req';
  id: number;
  op: O;
  args: Operations[O]['args'];
}

export type Response =
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; error: string; issues?: ConfigIssue[] };

/** The worker's first message: its handlers are in place, requests can come. */
export interface Hello {
  t: 'hello';
  pid: number;
}

export type FromWorker = Response | Hello;
