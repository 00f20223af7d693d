// Spec shape of telemetry.istio.io Telemetry.

import type { Resource } from '../resource.js';
import type { WorkloadSelector } from './networking.js';
import type { PolicyTargetReference } from './security.js';

export interface ProviderRef {
  name?: string;
}

export type MetricSelector =
  | 'ALL_METRICS'
  | 'REQUEST_COUNT'
  | 'REQUEST_DURATION'
  | 'REQUEST_SIZE'
  | 'RESPONSE_SIZE'
  | 'TCP_OPENED_CONNECTIONS'
  | 'TCP_CLOSED_CONNECTIONS'
  | 'TCP_SENT_BYTES'
  | 'TCP_RECEIVED_BYTES'
  | 'GRPC_REQUEST_MESSAGES'
  | 'GRPC_RESPONSE_MESSAGES';

export interface MetricsOverrides {
  match?: { metric?: MetricSelector; customMetric?: string; mode?: 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER' };
  disabled?: boolean;
  tagOverrides?: Record<string, { operation?: 'UPSERT' | 'REMOVE'; value?: string }>;
}

export interface Metrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  reportingInterval?: string;
}

export interface AccessLogging {
  match?: { mode?: 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER' };
  providers?: ProviderRef[];
  disabled?: boolean;
  filter?: { expression?: string };
}

export interface Tracing {
  match?: { mode?: 'CLIENT_AND_SERVER' | 'CLIENT' | 'SERVER' };
  providers?: ProviderRef[];
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
  customTags?: Record<
    string,
    { literal?: { value?: string }; environment?: { name?: string; defaultValue?: string }; header?: { name?: string; defaultValue?: string } }
  >;
  useRequestIdForTraceSampling?: boolean;
}

export interface TelemetrySpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  tracing?: Tracing[];
  metrics?: Metrics[];
  accessLogging?: AccessLogging[];
}

export type Telemetry = Resource<TelemetrySpec>;
