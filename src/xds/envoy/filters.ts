// The filter configs Trellis's control plane writes and its proxy reads, in proto3 JSON: the HTTP connection manager
// and tcp_proxy, the HTTP filters (router, fault, CORS, RBAC, jwt_authn, ext_authz), network RBAC, the TLS inspector,
// access loggers, and Istio's and Trellis's own TypedStruct-carried settings (istio.stats, trellis.tracing).

import type { Any, CidrRange, ConfigSource, DataSource, Duration, FractionalPercent, HeaderMatcher, StringMatcher, TypedExtension } from './core.js';
import type { CommonHttpProtocolOptions } from './cluster.js';
import type { RouteConfiguration, RouteMatch, UpgradeConfig } from './route.js';

// ---------------------------------------------------------------- network filters

export interface HttpConnectionManager {
  codecType?: 'AUTO' | 'HTTP1' | 'HTTP2' | 'HTTP3' | number;
  statPrefix?: string;
  rds?: { routeConfigName?: string; configSource?: ConfigSource };
  routeConfig?: RouteConfiguration;
  httpFilters?: TypedExtension[];
  commonHttpProtocolOptions?: CommonHttpProtocolOptions;
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
  accessLog?: AccessLog[];
  tracing?: unknown;
}

export interface TcpProxy {
  statPrefix?: string;
  cluster?: string;
  weightedClusters?: { clusters?: Array<{ name?: string; weight?: number }> };
  idleTimeout?: Duration;
  maxConnectAttempts?: number;
  maxDownstreamConnectionDuration?: Duration;
  hashPolicy?: Array<{ sourceIp?: unknown }>;
  accessLog?: AccessLog[];
  /** Tunnel the connection over HTTP/2 CONNECT to the upstream host, `hostname` (with %DOWNSTREAM_LOCAL_ADDRESS%) as authority. */
  tunnelingConfig?: { hostname?: string; usePost?: boolean; headersToAdd?: unknown[] };
}

// ---------------------------------------------------------------- HTTP filters

/** envoy.filters.http.router and envoy.filters.http.cors carry no settings of their own here. */
export type Router = Record<string, never>;
export type Cors = Record<string, never>;
/** envoy.filters.listener.tls_inspector. */
export type TlsInspector = Record<string, never>;

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

// ---------------------------------------------------------------- RBAC (HTTP and network)

export interface MetadataValueMatcher {
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
  boolMatch?: boolean;
  listMatch?: { oneOf?: MetadataValueMatcher };
}

export interface MetadataMatcher {
  filter?: string;
  path?: Array<{ key?: string }>;
  value?: MetadataValueMatcher;
  invert?: boolean;
}

/** What a request or connection must be (envoy.config.rbac.v3.Permission): one of these forms. */
export interface Permission {
  any?: boolean;
  andRules?: { rules?: Permission[] };
  orRules?: { rules?: Permission[] };
  notRule?: Permission;
  header?: HeaderMatcher;
  urlPath?: { path?: StringMatcher };
  destinationIp?: CidrRange;
  destinationPort?: number;
  requestedServerName?: StringMatcher;
  metadata?: MetadataMatcher;
}

/** Who the peer is (envoy.config.rbac.v3.Principal): one of these forms. */
export interface Principal {
  any?: boolean;
  andIds?: { ids?: Principal[] };
  orIds?: { ids?: Principal[] };
  notId?: Principal;
  authenticated?: { principalName?: StringMatcher };
  directRemoteIp?: CidrRange;
  remoteIp?: CidrRange;
  sourceIp?: CidrRange;
  header?: HeaderMatcher;
  urlPath?: { path?: StringMatcher };
  metadata?: MetadataMatcher;
}

export interface RbacPolicy {
  permissions?: Permission[];
  principals?: Principal[];
}

export interface RbacRules {
  action?: 'ALLOW' | 'DENY' | 'LOG' | number;
  policies?: Record<string, RbacPolicy>;
}

/** envoy.extensions.filters.http.rbac.v3.RBAC; the network filter adds `statPrefix`. */
export interface Rbac {
  rules?: RbacRules;
  shadowRules?: RbacRules;
  shadowRulesStatPrefix?: string;
  statPrefix?: string;
}

// ---------------------------------------------------------------- jwt_authn

export interface JwtProvider {
  issuer?: string;
  audiences?: string[];
  localJwks?: DataSource;
  fromHeaders?: Array<{ name?: string; valuePrefix?: string }>;
  fromParams?: string[];
  fromCookies?: string[];
  forward?: boolean;
  forwardPayloadHeader?: string;
  claimToHeaders?: Array<{ headerName?: string; claimName?: string }>;
  payloadInMetadata?: string;
  clockSkewSeconds?: number;
}

export interface JwtRequirement {
  providerName?: string;
  requiresAny?: { requirements?: JwtRequirement[] };
  requiresAll?: { requirements?: JwtRequirement[] };
  allowMissing?: Record<string, never>;
  allowMissingOrFailed?: Record<string, never>;
}

export interface JwtAuthentication {
  providers?: Record<string, JwtProvider>;
  rules?: Array<{ match?: RouteMatch; requires?: JwtRequirement }>;
}

// ---------------------------------------------------------------- ext_authz

export interface ListStringMatcher {
  patterns?: StringMatcher[];
}

export interface ExtAuthzHttpService {
  serverUri?: { uri?: string; cluster?: string; timeout?: Duration };
  pathPrefix?: string;
  authorizationRequest?: { headersToAdd?: Array<{ key?: string; value?: string }>; allowedHeaders?: ListStringMatcher };
  authorizationResponse?: { allowedUpstreamHeaders?: ListStringMatcher; allowedClientHeaders?: ListStringMatcher; allowedClientHeadersOnSuccess?: ListStringMatcher };
}

export interface GrpcService {
  envoyGrpc?: { clusterName?: string; authority?: string };
  timeout?: Duration;
}

export interface ExtAuthz {
  httpService?: ExtAuthzHttpService;
  grpcService?: GrpcService;
  allowedHeaders?: ListStringMatcher;
  statusOnError?: { code?: number };
  failureModeAllow?: boolean;
  failureModeAllowHeaderAdd?: boolean;
  withRequestBody?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
  transportApiVersion?: 'V3' | 'AUTO' | number;
  filterEnabledMetadata?: MetadataMatcher;
  includePeerCertificate?: boolean;
}

// ---------------------------------------------------------------- access logs

export interface AccessLog {
  name?: string;
  typedConfig?: Any;
  filter?: { extensionFilter?: TypedExtension };
}

/** envoy.extensions.access_loggers.file.v3.FileAccessLog. */
export interface FileAccessLog {
  path?: string;
  logFormat?: { textFormatSource?: DataSource; jsonFormat?: Record<string, string>; textFormat?: string };
}

/** envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter. */
export interface CelExpressionFilter {
  expression?: string;
}

// ---------------------------------------------------------------- TypedStruct-carried settings

/** udpa.type.v1.TypedStruct: a config for a type the proto set does not have, as a plain JSON value. */
export interface TypedStruct<V = Record<string, unknown>> {
  typeUrl?: string;
  value?: V;
}

/** Istio's stats plugin config (`istio.stats`): the Telemetry API's metric overrides for one side. */
export interface StatsPluginConfig {
  overrides?: Array<{
    metric?: string;
    mode?: 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER';
    disabled?: boolean;
    tagOverrides?: Record<string, { operation?: 'UPSERT' | 'REMOVE'; value?: string }>;
  }>;
}

/** Trellis's tracing filter (`trellis.tracing`): sampling, where spans go, custom tags, which side this is. */
export interface TracingFilterConfig {
  sampling?: number;
  collectors?: Array<{ kind: 'zipkin' | 'otlp'; url: string }>;
  customTags?: Record<string, { literal?: { value?: string }; header?: { name?: string; defaultValue?: string }; environment?: { name?: string; defaultValue?: string } }>;
  spanKind?: 'CLIENT' | 'SERVER';
}
