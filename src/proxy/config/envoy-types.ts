// The subset of Envoy's v3 API the proxy reads, typed as proto3 JSON (camelCase, durations as "1.5s", Any with "@type").

/** proto3 JSON of google.protobuf.Duration: "1.5s"; an object form is tolerated for hand-written configs. */
import type { ProtoDuration } from '../../duration.js';

export type Duration = ProtoDuration;
/** proto3 JSON renders 64-bit integers as strings; wrappers (UInt32Value…) as plain values. */
export type Uint = number | string;

export interface Any {
  '@type'?: string;
  [field: string]: unknown;
}

export interface FractionalPercent {
  numerator?: Uint;
  denominator?: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION' | number;
}

export interface RuntimeFractionalPercent {
  defaultValue?: FractionalPercent;
  runtimeKey?: string;
}

export interface Percent {
  value?: number;
}

export interface RegexMatcher {
  regex?: string;
  googleRe2?: unknown;
}

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safeRegex?: RegexMatcher;
  ignoreCase?: boolean;
}

export interface RegexMatchAndSubstitute {
  pattern?: RegexMatcher;
  substitution?: string;
}

export interface Int64Range {
  start?: Uint;
  end?: Uint;
}

export interface HeaderMatcher {
  name?: string;
  exactMatch?: string;
  safeRegexMatch?: RegexMatcher;
  rangeMatch?: Int64Range;
  presentMatch?: boolean;
  prefixMatch?: string;
  suffixMatch?: string;
  containsMatch?: string;
  stringMatch?: StringMatcher;
  invertMatch?: boolean;
  treatMissingHeaderAsEmpty?: boolean;
}

export interface QueryParameterMatcher {
  name?: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
}

export interface HeaderValueOption {
  header?: { key?: string; value?: string; rawValue?: string };
  append?: boolean;
  appendAction?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS' | number;
  keepEmptyValue?: boolean;
}

export interface SocketAddress {
  protocol?: 'TCP' | 'UDP';
  address?: string;
  portValue?: number;
  namedPort?: string;
  ipv4Compat?: boolean;
}

export interface Address {
  socketAddress?: SocketAddress;
  pipe?: { path?: string };
  envoyInternalAddress?: { serverListenerName?: string };
}

export interface CidrRange {
  addressPrefix?: string;
  prefixLen?: number;
}

// ---------------------------------------------------------------- listeners

export interface TypedFilter {
  name?: string;
  typedConfig?: Any;
  isOptional?: boolean;
  disabled?: boolean;
}

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
  filters?: TypedFilter[];
  transportSocket?: { name?: string; typedConfig?: Any };
}

export interface Listener {
  name?: string;
  address?: Address;
  filterChains?: FilterChain[];
  defaultFilterChain?: FilterChain;
  useOriginalDst?: boolean;
  bindToPort?: boolean;
  listenerFilters?: TypedFilter[];
  listenerFiltersTimeout?: Duration;
  continueOnListenerFiltersTimeout?: boolean;
  trafficDirection?: 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND' | number;
  statPrefix?: string;
  deprecatedV1?: { bindToPort?: boolean };
  perConnectionBufferLimitBytes?: number;
  drainType?: string;
}

export interface HttpFilter {
  name?: string;
  typedConfig?: Any;
  isOptional?: boolean;
  disabled?: boolean;
}

export interface UpgradeConfig {
  upgradeType?: string;
  enabled?: boolean;
}

export interface HttpProtocolOptions {
  idleTimeout?: Duration;
  maxConnectionDuration?: Duration;
  maxStreamDuration?: Duration;
  maxRequestsPerConnection?: number;
  maxHeadersCount?: number;
}

export interface HttpConnectionManager {
  '@type'?: string;
  codecType?: 'AUTO' | 'HTTP1' | 'HTTP2' | 'HTTP3' | number;
  statPrefix?: string;
  rds?: { routeConfigName?: string; configSource?: unknown };
  routeConfig?: RouteConfiguration;
  httpFilters?: HttpFilter[];
  commonHttpProtocolOptions?: HttpProtocolOptions;
  http2ProtocolOptions?: unknown;
  streamIdleTimeout?: Duration;
  requestTimeout?: Duration;
  requestHeadersTimeout?: Duration;
  drainTimeout?: Duration;
  useRemoteAddress?: boolean;
  xffNumTrustedHops?: number;
  skipXffAppend?: boolean;
  generateRequestId?: boolean;
  preserveExternalRequestId?: boolean;
  alwaysSetRequestIdInResponse?: boolean;
  upgradeConfigs?: UpgradeConfig[];
  normalizePath?: boolean;
  mergeSlashes?: boolean;
  stripMatchingHostPort?: boolean;
  stripAnyHostPort?: boolean;
  serverName?: string;
  serverHeaderTransformation?: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH' | number;
  maxRequestHeadersKb?: number;
  accessLog?: unknown[];
  tracing?: unknown;
}

export interface TcpProxy {
  '@type'?: string;
  statPrefix?: string;
  cluster?: string;
  weightedClusters?: { clusters?: Array<{ name?: string; weight?: number }> };
  idleTimeout?: Duration;
  maxConnectAttempts?: number;
  maxDownstreamConnectionDuration?: Duration;
  hashPolicy?: Array<{ sourceIp?: unknown }>;
  accessLog?: unknown[];
}

// ---------------------------------------------------------------- routes

export interface CorsPolicy {
  allowOriginStringMatch?: StringMatcher[];
  allowMethods?: string;
  allowHeaders?: string;
  exposeHeaders?: string;
  maxAge?: string;
  allowCredentials?: boolean;
  filterEnabled?: RuntimeFractionalPercent;
  shadowEnabled?: RuntimeFractionalPercent;
  allowPrivateNetworkAccess?: boolean;
  forwardNotMatchingPreflights?: boolean;
}

export interface RetryPolicy {
  retryOn?: string;
  numRetries?: number;
  perTryTimeout?: Duration;
  perTryIdleTimeout?: Duration;
  retryHostPredicate?: Array<{ name?: string; typedConfig?: Any }>;
  hostSelectionRetryMaxAttempts?: Uint;
  retriableStatusCodes?: number[];
  retryBackOff?: { baseInterval?: Duration; maxInterval?: Duration };
  retriableHeaders?: HeaderMatcher[];
  retriableRequestHeaders?: HeaderMatcher[];
}

export interface HashPolicy {
  header?: { headerName?: string; regexRewrite?: RegexMatchAndSubstitute };
  cookie?: { name?: string; ttl?: Duration; path?: string; attributes?: Array<{ name?: string; value?: string }> };
  connectionProperties?: { sourceIp?: boolean };
  queryParameter?: { name?: string };
  filterState?: { key?: string };
  terminal?: boolean;
}

export interface RequestMirrorPolicy {
  cluster?: string;
  clusterHeader?: string;
  runtimeFraction?: RuntimeFractionalPercent;
  traceSampled?: boolean;
  disableShadowHostSuffixAppend?: boolean;
}

export interface ClusterWeight {
  name?: string;
  clusterHeader?: string;
  weight?: number;
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
  typedPerFilterConfig?: Record<string, Any>;
  hostRewriteLiteral?: string;
}

export interface WeightedCluster {
  clusters?: ClusterWeight[];
  totalWeight?: number;
  runtimeKeyPrefix?: string;
  headerName?: string;
}

export interface RouteAction {
  cluster?: string;
  clusterHeader?: string;
  weightedClusters?: WeightedCluster;
  clusterNotFoundResponseCode?: 'SERVICE_UNAVAILABLE' | 'NOT_FOUND' | 'INTERNAL_SERVER_ERROR' | number;
  prefixRewrite?: string;
  regexRewrite?: RegexMatchAndSubstitute;
  hostRewriteLiteral?: string;
  autoHostRewrite?: boolean;
  hostRewriteHeader?: string;
  hostRewritePathRegex?: RegexMatchAndSubstitute;
  appendXForwardedHost?: boolean;
  timeout?: Duration;
  idleTimeout?: Duration;
  retryPolicy?: RetryPolicy;
  requestMirrorPolicies?: RequestMirrorPolicy[];
  hashPolicy?: HashPolicy[];
  cors?: CorsPolicy;
  maxGrpcTimeout?: Duration;
  grpcTimeoutOffset?: Duration;
  upgradeConfigs?: UpgradeConfig[];
  maxStreamDuration?: { maxStreamDuration?: Duration; grpcTimeoutHeaderMax?: Duration; grpcTimeoutHeaderOffset?: Duration };
}

export interface RedirectAction {
  httpsRedirect?: boolean;
  schemeRedirect?: string;
  hostRedirect?: string;
  portRedirect?: number;
  pathRedirect?: string;
  prefixRewrite?: string;
  regexRewrite?: RegexMatchAndSubstitute;
  responseCode?: 'MOVED_PERMANENTLY' | 'FOUND' | 'SEE_OTHER' | 'TEMPORARY_REDIRECT' | 'PERMANENT_REDIRECT' | number;
  stripQuery?: boolean;
}

export interface DataSource {
  inlineString?: string;
  inlineBytes?: string;
  filename?: string;
}

export interface DirectResponseAction {
  status?: number;
  body?: DataSource;
}

export interface RouteMatch {
  prefix?: string;
  path?: string;
  safeRegex?: RegexMatcher;
  pathSeparatedPrefix?: string;
  connectMatcher?: unknown;
  caseSensitive?: boolean;
  runtimeFraction?: RuntimeFractionalPercent;
  headers?: HeaderMatcher[];
  queryParameters?: QueryParameterMatcher[];
  grpc?: unknown;
}

export interface Route {
  name?: string;
  match?: RouteMatch;
  route?: RouteAction;
  redirect?: RedirectAction;
  directResponse?: DirectResponseAction;
  nonForwardingAction?: unknown;
  metadata?: unknown;
  decorator?: { operation?: string };
  typedPerFilterConfig?: Record<string, Any>;
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
}

export interface VirtualHost {
  name?: string;
  domains?: string[];
  routes?: Route[];
  requireTls?: string;
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
  cors?: CorsPolicy;
  typedPerFilterConfig?: Record<string, Any>;
  retryPolicy?: RetryPolicy;
  requestMirrorPolicies?: RequestMirrorPolicy[];
  includeRequestAttemptCount?: boolean;
}

export interface RouteConfiguration {
  name?: string;
  virtualHosts?: VirtualHost[];
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
  mostSpecificHeaderMutationsWins?: boolean;
  validateClusters?: boolean;
  ignorePortInHostMatching?: boolean;
  typedPerFilterConfig?: Record<string, Any>;
  requestMirrorPolicies?: RequestMirrorPolicy[];
}

// ---------------------------------------------------------------- HTTP filters

export interface HttpFault {
  delay?: {
    fixedDelay?: Duration;
    headerDelay?: Record<string, never>;
    percentage?: FractionalPercent;
  };
  abort?: {
    httpStatus?: number;
    grpcStatus?: number;
    headerAbort?: Record<string, never>;
    percentage?: FractionalPercent;
  };
  upstreamCluster?: string;
  headers?: HeaderMatcher[];
  downstreamNodes?: string[];
  maxActiveFaults?: number;
}

// ---------------------------------------------------------------- clusters and endpoints

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
  metadata?: unknown;
  loadBalancingWeight?: number;
}

export interface LocalityLbEndpoints {
  locality?: { region?: string; zone?: string; subZone?: string };
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
  edsClusterConfig?: { serviceName?: string; edsConfig?: unknown };
  connectTimeout?: Duration;
  lbPolicy?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RING_HASH' | 'RANDOM' | 'MAGLEV' | 'CLUSTER_PROVIDED' | number;
  loadAssignment?: ClusterLoadAssignment;
  maxRequestsPerConnection?: number;
  circuitBreakers?: { thresholds?: CircuitBreakerThresholds[] };
  commonHttpProtocolOptions?: HttpProtocolOptions;
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
  transportSocket?: { name?: string; typedConfig?: Any };
  metadata?: unknown;
  cleanupInterval?: Duration;
}

/** What `proxy.apply()` takes: a full state-of-the-world snapshot of the four resource types. */
export interface EnvoySnapshot {
  listeners?: Listener[];
  routes?: RouteConfiguration[];
  clusters?: Cluster[];
  endpoints?: ClusterLoadAssignment[];
}
