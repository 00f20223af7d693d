// Envoy's Cluster and ClusterLoadAssignment (envoy.config.cluster.v3, envoy.config.endpoint.v3) in proto3 JSON:
// upstream groups, their load balancing and circuit breaking, and the endpoints that fill them.

import type { Address, Any, ConfigSource, Duration, Locality, Metadata, Percent, SocketAddress, Uint } from './core.js';
import type { TransportSocket } from './tls.js';

/** envoy.config.core.v3.HttpProtocolOptions: limits common to HTTP/1.1 and HTTP/2 connections. */
export interface CommonHttpProtocolOptions {
  idleTimeout?: Duration;
  maxConnectionDuration?: Duration;
  maxStreamDuration?: Duration;
  maxRequestsPerConnection?: number;
  maxHeadersCount?: number;
}

/** envoy.extensions.upstreams.http.v3.HttpProtocolOptions: which HTTP version a cluster speaks to its endpoints. */
export interface UpstreamHttpProtocolOptions {
  commonHttpProtocolOptions?: CommonHttpProtocolOptions;
  explicitHttpConfig?: { httpProtocolOptions?: Record<string, never>; http2ProtocolOptions?: Record<string, unknown> };
  useDownstreamProtocolConfig?: { httpProtocolOptions?: Record<string, never>; http2ProtocolOptions?: Record<string, unknown> };
  autoConfig?: Record<string, unknown>;
}


export interface CircuitBreakerThresholds {
  priority?: 'DEFAULT' | 'HIGH' | number;
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
  trackRemaining?: boolean;
}

export interface OutlierDetection {
  consecutive5xx?: number;
  interval?: Duration;
  baseEjectionTime?: Duration;
  maxEjectionPercent?: number;
  enforcingConsecutive5xx?: number;
  enforcingSuccessRate?: number;
  consecutiveGatewayFailure?: number;
  enforcingConsecutiveGatewayFailure?: number;
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailure?: number;
  enforcingConsecutiveLocalOriginFailure?: number;
  maxEjectionTime?: Duration;
  alwaysEjectOneHost?: boolean;
}

export interface LbEndpoint {
  endpoint?: { address?: Address; hostname?: string; healthCheckConfig?: unknown };
  healthStatus?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED' | number;
  metadata?: Metadata;
  loadBalancingWeight?: number;
}

export interface LocalityLbEndpoints {
  locality?: Locality;
  lbEndpoints?: LbEndpoint[];
  loadBalancingWeight?: number;
  priority?: number;
}

export interface ClusterLoadAssignment {
  clusterName?: string;
  endpoints?: LocalityLbEndpoints[];
  policy?: { overprovisioningFactor?: number };
}

export interface Cluster {
  name?: string;
  altStatName?: string;
  type?: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS' | 'ORIGINAL_DST' | number;
  edsClusterConfig?: { serviceName?: string; edsConfig?: ConfigSource };
  connectTimeout?: Duration;
  lbPolicy?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RING_HASH' | 'RANDOM' | 'MAGLEV' | 'CLUSTER_PROVIDED' | number;
  loadAssignment?: ClusterLoadAssignment;
  maxRequestsPerConnection?: number;
  circuitBreakers?: { thresholds?: CircuitBreakerThresholds[] };
  commonHttpProtocolOptions?: CommonHttpProtocolOptions;
  http2ProtocolOptions?: unknown;
  protocolSelection?: 'USE_CONFIGURED_PROTOCOL' | 'USE_DOWNSTREAM_PROTOCOL' | number;
  typedExtensionProtocolOptions?: Record<string, Any>;
  dnsRefreshRate?: Duration;
  dnsLookupFamily?: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL' | number;
  outlierDetection?: OutlierDetection;
  ringHashLbConfig?: { minimumRingSize?: Uint; maximumRingSize?: Uint; hashFunction?: string };
  maglevLbConfig?: { tableSize?: Uint };
  leastRequestLbConfig?: { choiceCount?: number };
  originalDstLbConfig?: { useHttpHeader?: boolean; httpHeaderName?: string; upstreamPortOverride?: number };
  commonLbConfig?: { healthyPanicThreshold?: Percent };
  transportSocket?: TransportSocket;
  metadata?: Metadata;
  cleanupInterval?: Duration;
  /** The local address upstream connections bind (Istio's inbound passthrough binds 127.0.0.6 / ::6). */
  upstreamBindConfig?: { sourceAddress?: SocketAddress };
}
