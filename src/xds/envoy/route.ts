// Envoy's RouteConfiguration (envoy.config.route.v3) in proto3 JSON: virtual hosts, routes and their actions.

import type { Any, DataSource, Duration, HeaderMatcher, HeaderValueOption, Metadata, QueryParameterMatcher, RegexMatchAndSubstitute, RegexMatcher, RuntimeFractionalPercent, StringMatcher, Uint } from './core.js';

export interface UpgradeConfig {
  upgradeType?: string;
  enabled?: boolean;
  /** On a route's CONNECT upgrade: terminate CONNECT and send the stream's bytes to the upstream as TCP. */
  connectConfig?: Record<string, unknown>;
}


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
  metadata?: Metadata;
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
