// Type URLs of the typed configs Trellis writes and reads, the config type each URL names, and `typed()`: the one way
// translation builds a google.protobuf.Any, so the fields inside are checked against the type the URL names.

import type { Any } from './core.js';
import type { UpstreamHttpProtocolOptions } from './cluster.js';
import type { CorsPolicy } from './route.js';
import type { DownstreamTlsContext, UpstreamTlsContext } from './tls.js';
import type {
  CelExpressionFilter,
  Cors,
  ExtAuthz,
  FileAccessLog,
  HttpConnectionManager,
  HttpFault,
  JwtAuthentication,
  Rbac,
  Router,
  StatsPluginConfig,
  TcpProxy,
  TlsInspector,
  TracingFilterConfig,
  TypedStruct,
} from './filters.js';

const P = 'type.googleapis.com/';

export const TYPE = {
  hcm: `${P}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  tcpProxy: `${P}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
  networkRbac: `${P}envoy.extensions.filters.network.rbac.v3.RBAC`,
  router: `${P}envoy.extensions.filters.http.router.v3.Router`,
  fault: `${P}envoy.extensions.filters.http.fault.v3.HTTPFault`,
  cors: `${P}envoy.extensions.filters.http.cors.v3.Cors`,
  corsPolicy: `${P}envoy.extensions.filters.http.cors.v3.CorsPolicy`,
  httpRbac: `${P}envoy.extensions.filters.http.rbac.v3.RBAC`,
  jwtAuthn: `${P}envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`,
  extAuthz: `${P}envoy.extensions.filters.http.ext_authz.v3.ExtAuthz`,
  tlsInspector: `${P}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`,
  originalDst: `${P}envoy.extensions.filters.listener.original_dst.v3.OriginalDst`,
  httpProtocolOptions: `${P}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
  previousHosts: `${P}envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate`,
  downstreamTls: `${P}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
  upstreamTls: `${P}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
  fileAccessLog: `${P}envoy.extensions.access_loggers.file.v3.FileAccessLog`,
  celFilter: `${P}envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter`,
  typedStruct: `${P}udpa.type.v1.TypedStruct`,
} as const;

/** The type URLs carried inside a TypedStruct (no proto exists for them). */
export const STRUCT_TYPE = {
  statsPlugin: `${P}stats.PluginConfig`,
  tracing: `${P}trellis.telemetry.Tracing`,
} as const;

/** The config type each type URL names. */
export interface TypedConfigs {
  [TYPE.hcm]: HttpConnectionManager;
  [TYPE.tcpProxy]: TcpProxy;
  [TYPE.networkRbac]: Rbac;
  [TYPE.router]: Router;
  [TYPE.fault]: HttpFault;
  [TYPE.cors]: Cors;
  [TYPE.corsPolicy]: CorsPolicy;
  [TYPE.httpRbac]: Rbac;
  [TYPE.jwtAuthn]: JwtAuthentication;
  [TYPE.extAuthz]: ExtAuthz;
  [TYPE.tlsInspector]: TlsInspector;
  [TYPE.originalDst]: Record<string, never>;
  [TYPE.httpProtocolOptions]: UpstreamHttpProtocolOptions;
  [TYPE.previousHosts]: Record<string, never>;
  [TYPE.downstreamTls]: DownstreamTlsContext;
  [TYPE.upstreamTls]: UpstreamTlsContext;
  [TYPE.fileAccessLog]: FileAccessLog;
  [TYPE.celFilter]: CelExpressionFilter;
  [TYPE.typedStruct]: TypedStruct;
}

export type TypeUrlOf = keyof TypedConfigs;

/** An Any of `type` holding `config`; the compiler checks `config` against the type the URL names. */
export function typed<K extends TypeUrlOf>(type: K, config: TypedConfigs[K]): Any {
  return { '@type': type, ...config };
}

/** A TypedStruct-carried config (Istio's `istio.stats`, Trellis's `trellis.tracing`). */
export function typedStruct(typeUrl: typeof STRUCT_TYPE.statsPlugin, value: StatsPluginConfig): Any;
export function typedStruct(typeUrl: typeof STRUCT_TYPE.tracing, value: TracingFilterConfig): Any;
export function typedStruct(typeUrl: string, value: object): Any {
  return typed(TYPE.typedStruct, { typeUrl, value: value as Record<string, unknown> });
}

/** The config inside an Any when it is of `type` (a reader's narrowing; the proxy still validates every field). */
export function configOf<K extends TypeUrlOf>(any: Any | undefined, type: K): TypedConfigs[K] | undefined {
  return any?.['@type'] === type ? (any as unknown as TypedConfigs[K]) : undefined;
}
