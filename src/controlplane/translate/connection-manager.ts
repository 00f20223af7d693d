// The HTTP connection manager every listener builds on, in Istio's filter order ([tracing] [jwt_authn, rbac, ext_authz]
// cors, fault, [istio.stats] router, with access logs), and the network filters that carry it or a plain TCP stream.

import { ADS_SOURCE, TYPE, typed, type HttpConnectionManager, type RouteConfiguration, type TypedExtension } from '../../xds/envoy/index.js';
import { NO_TELEMETRY, type HcmTelemetry } from '../../telemetry/telemetry-api.js';
import { authorizationFilters } from './authorization.js';
import type { PushContext } from './push-context.js';
import { requestAuthenticationFilters } from './request-authentication.js';

export type Flavour = 'envoy' | 'grpc';

function httpFilters(flavour: Flavour): TypedExtension[] {
  const fault = { name: 'envoy.filters.http.fault', typedConfig: typed(TYPE.fault, {}) };
  const router = { name: 'envoy.filters.http.router', typedConfig: typed(TYPE.router, {}) };
  // Proxyless gRPC implements fault and router but not CORS (an unknown filter would make it reject the listener).
  return flavour === 'grpc' ? [fault, router] : [{ name: 'envoy.filters.http.cors', typedConfig: typed(TYPE.cors, {}) }, fault, router];
}

export interface ConnectionManagerOptions {
  statPrefix: string;
  routes: { rds: string } | { routeConfig: RouteConfiguration };
  flavour?: Flavour;
  /** jwt_authn, then authorization (CUSTOM, AUDIT, DENY, ALLOW): ahead of CORS, fault and the router. */
  authFilters?: TypedExtension[];
  telemetry?: HcmTelemetry;
  /** Gateways trust the client's address (Istio's gateways set use_remote_address); sidecars do not. */
  useRemoteAddress?: boolean;
}

/** An HTTP connection manager: [tracing] [jwt_authn, rbac, ext_authz] cors, fault, [istio.stats] router, with access logs. */
export function connectionManager(o: ConnectionManagerOptions): HttpConnectionManager {
  const flavour = o.flavour ?? 'envoy';
  const t = o.telemetry ?? NO_TELEMETRY;
  const standard = httpFilters(flavour);
  const router = standard.pop()!;
  return {
    statPrefix: o.statPrefix,
    ...('rds' in o.routes ? { rds: { routeConfigName: o.routes.rds, configSource: ADS_SOURCE } } : { routeConfig: o.routes.routeConfig }),
    httpFilters: [...t.head, ...(o.authFilters ?? []), ...standard, ...t.beforeRouter, router],
    ...(flavour === 'envoy' ? { upgradeConfigs: [{ upgradeType: 'websocket' }], normalizePath: true, streamIdleTimeout: '0s', useRemoteAddress: o.useRemoteAddress ?? false } : {}),
    ...(t.accessLog.length ? { accessLog: t.accessLog } : {}),
  };
}

export const hcmFilter = (config: HttpConnectionManager): TypedExtension => ({ name: 'envoy.filters.network.http_connection_manager', typedConfig: typed(TYPE.hcm, config) });
export const tcpFilter = (statPrefix: string, cluster: string): TypedExtension => ({ name: 'envoy.filters.network.tcp_proxy', typedConfig: typed(TYPE.tcpProxy, { statPrefix, cluster }) });

/** Who a gateway's policies select: its workload's namespace and labels. */
export interface GatewayWorkload {
  namespace: string;
  labels: Record<string, string>;
}

/** A gateway's HTTP connection manager: RequestAuthentications and AuthorizationPolicies selecting the gateway run ahead of routing. */
export function gatewayConnectionManager(push: PushContext, gw: GatewayWorkload, port: number, routeName: string, telemetry: HcmTelemetry): TypedExtension {
  const w = { namespace: gw.namespace, labels: gw.labels };
  // JWT first (its claims feed the policies), then authorization, then routing.
  const authFilters = [...requestAuthenticationFilters(push.policies, w, push), ...authorizationFilters(push.policies, push.mesh, w)];
  return hcmFilter(connectionManager({ statPrefix: `outbound_0.0.0.0_${port}`, routes: { rds: routeName }, authFilters, telemetry, useRemoteAddress: true }));
}

