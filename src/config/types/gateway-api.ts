// Spec shapes of the Kubernetes Gateway API (gateway.networking.k8s.io): GatewayClass, Gateway, HTTPRoute, GRPCRoute,
// TLSRoute, TCPRoute, ReferenceGrant.

import type { Resource } from '../resource.js';

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  sectionName?: string;
  port?: number;
}

export interface BackendRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  port?: number;
  weight?: number;
  filters?: HTTPRouteFilter[];
}

export interface GatewayListener {
  name?: string;
  hostname?: string;
  port?: number;
  protocol?: string;
  tls?: {
    mode?: 'Terminate' | 'Passthrough';
    certificateRefs?: Array<{ group?: string; kind?: string; name?: string; namespace?: string }>;
    options?: Record<string, string>;
  };
  allowedRoutes?: {
    namespaces?: { from?: 'All' | 'Same' | 'Selector'; selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } };
    kinds?: Array<{ group?: string; kind?: string }>;
  };
}

export interface K8sGatewaySpec {
  gatewayClassName?: string;
  listeners?: GatewayListener[];
  addresses?: Array<{ type?: string; value?: string }>;
  infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface HTTPHeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name?: string;
  value?: string;
}

export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPHeaderMatch[];
  method?: string;
}

export interface HTTPHeaderFilter {
  set?: Array<{ name?: string; value?: string }>;
  add?: Array<{ name?: string; value?: string }>;
  remove?: string[];
}

export interface HTTPPathModifier {
  type?: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  type?: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'RequestRedirect' | 'URLRewrite' | 'ExtensionRef' | 'CORS' | 'ExternalAuth';
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestMirror?: { backendRef?: BackendRef; percent?: number; fraction?: { numerator?: number; denominator?: number } };
  requestRedirect?: { scheme?: string; hostname?: string; path?: HTTPPathModifier; port?: number; statusCode?: number };
  urlRewrite?: { hostname?: string; path?: HTTPPathModifier };
  extensionRef?: { group?: string; kind?: string; name?: string };
  cors?: HTTPCORSFilter;
  externalAuth?: Record<string, unknown>;
}

/** GEP-1767 (experimental in v1.2, standard in v1.3). */
export interface HTTPCORSFilter {
  allowOrigins?: string[];
  allowCredentials?: boolean;
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: BackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
  sessionPersistence?: Record<string, unknown>;
}

export interface HTTPRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: HTTPRouteRule[];
}

export interface GRPCRouteMatch {
  method?: { type?: 'Exact' | 'RegularExpression'; service?: string; method?: string };
  headers?: HTTPHeaderMatch[];
}

export interface GRPCRouteRule {
  name?: string;
  matches?: GRPCRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: BackendRef[];
}

export interface GRPCRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: GRPCRouteRule[];
}

export interface L4RouteRule {
  name?: string;
  backendRefs?: BackendRef[];
}

/** TLSRoute (routed by SNI) and TCPRoute (no hostnames). */
export interface L4RouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: L4RouteRule[];
}

export interface ReferenceGrantSpec {
  from?: Array<{ group?: string; kind?: string; namespace?: string }>;
  to?: Array<{ group?: string; kind?: string; name?: string }>;
}

export interface GatewayClassSpec {
  controllerName?: string;
  description?: string;
  parametersRef?: Record<string, unknown>;
}

export type K8sGateway = Resource<K8sGatewaySpec>;
export type HTTPRoute = Resource<HTTPRouteSpec>;
export type GRPCRoute = Resource<GRPCRouteSpec>;
export type TLSRoute = Resource<L4RouteSpec>;
export type TCPRoute = Resource<L4RouteSpec>;
export type ReferenceGrant = Resource<ReferenceGrantSpec>;
export type GatewayClass = Resource<GatewayClassSpec>;

/** The GatewayClass (and `controllerName`) that Istio — and so Trellis — implements. */
export const ISTIO_GATEWAY_CLASS = 'istio';
export const ISTIO_CONTROLLER_NAME = 'istio.io/gateway-controller';
/** Istio's class for ambient waypoints (`istio-waypoint`) and its controller. */
export const ISTIO_WAYPOINT_CLASS = 'istio-waypoint';
export const ISTIO_MESH_CONTROLLER_NAME = 'istio.io/mesh-controller';
/** Istio's class for gateways it configures but does not deploy (`istio-remote`). */
export const ISTIO_REMOTE_CLASS = 'istio-remote';
export const ISTIO_UNMANAGED_CONTROLLER_NAME = 'istio.io/unmanaged-gateway';
/** The label Istio puts on the workloads it deploys for a Gateway (and selects them by). */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
