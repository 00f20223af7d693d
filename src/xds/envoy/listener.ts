// Envoy's Listener (envoy.config.listener.v3) in proto3 JSON: addresses, filter chains and how a connection picks one.

import type { Address, Any, CidrRange, Duration, TypedExtension } from './core.js';
import type { TransportSocket } from './tls.js';

export interface FilterChainMatch {
  destinationPort?: number;
  prefixRanges?: CidrRange[];
  sourcePrefixRanges?: CidrRange[];
  directSourcePrefixRanges?: CidrRange[];
  sourceType?: 'ANY' | 'SAME_IP_OR_LOOPBACK' | 'EXTERNAL' | number;
  sourcePorts?: number[];
  serverNames?: string[];
  transportProtocol?: string;
  applicationProtocols?: string[];
}

export interface FilterChain {
  name?: string;
  filterChainMatch?: FilterChainMatch;
  filters?: TypedExtension[];
  transportSocket?: TransportSocket;
}

/** A listener that is not bound to a socket: proxyless gRPC's API listener carries one HTTP connection manager. */
export interface ApiListener {
  apiListener?: Any;
}

export interface Listener {
  name?: string;
  address?: Address;
  filterChains?: FilterChain[];
  defaultFilterChain?: FilterChain;
  useOriginalDst?: boolean;
  bindToPort?: boolean;
  listenerFilters?: TypedExtension[];
  listenerFiltersTimeout?: Duration;
  continueOnListenerFiltersTimeout?: boolean;
  trafficDirection?: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND' | number;
  statPrefix?: string;
  deprecatedV1?: { bindToPort?: boolean };
  perConnectionBufferLimitBytes?: number;
  drainType?: string;
  apiListener?: ApiListener;
  /** An internal listener: not bound, reached only through `envoyInternalAddress` endpoints. */
  internalListener?: Record<string, never>;
}
