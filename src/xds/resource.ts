// The contract between translation and transport: xDS resources in Envoy's proto3 JSON form, named and typed.

import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration, Secret } from './envoy/index.js';
import type { Address, Authorization } from './istio/workload.js';

/** Type URLs of the xDS v3 resources Trellis serves. */
export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  /** Istio's NDS: the names a sidecar's DNS proxy answers (one resource, named ""). */
  NameTable: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
  /** Istio's workload discovery (WDS) for ztunnels and waypoints: workloads by uid, services by `namespace/hostname`. */
  Address: 'type.googleapis.com/istio.workload.Address',
  /** Istio's L4 authorization for ztunnels, by `namespace/name`. */
  Authorization: 'type.googleapis.com/istio.security.Authorization',
} as const;

export type TypeUrlValue = (typeof TypeUrl)[keyof typeof TypeUrl];

/** The message each resource type URL carries. */
export interface XdsMessages {
  [TypeUrl.Listener]: Listener;
  [TypeUrl.RouteConfiguration]: RouteConfiguration;
  [TypeUrl.Cluster]: Cluster;
  [TypeUrl.ClusterLoadAssignment]: ClusterLoadAssignment;
  [TypeUrl.Secret]: Secret;
  [TypeUrl.NameTable]: NameTable;
  [TypeUrl.Address]: Address;
  [TypeUrl.Authorization]: Authorization;
}

/** Istio's NameTable in proto3 JSON: fully qualified host → its addresses (and, for Kubernetes, short name and namespace). */
export interface NameTable {
  table?: Record<string, NameInfo>;
}

export interface NameInfo {
  ips?: string[];
  registry?: 'Kubernetes' | 'External' | string;
  shortname?: string;
  namespace?: string;
}

/**
 * One resource as the translation builds it: the message in proto3 JSON form — what Envoy's `/config_dump` shows
 * (camelCase fields, `"@type"` inside Any, durations as `"1.5s"`, enums as names, wrapper types as plain values).
 * The transport only encodes `value` (it knows nothing of its type); translation builds typed ones with `xdsResource`.
 */
export interface XdsResource<T extends object = object> {
  name: string;
  typeUrl: string;
  value: T;
}

/** The resource name of a message: its `name`, or `clusterName` for a ClusterLoadAssignment. */
export function resourceName<U extends TypeUrlValue>(typeUrl: U, value: XdsMessages[U]): string {
  if (typeUrl === TypeUrl.ClusterLoadAssignment) return (value as ClusterLoadAssignment).clusterName ?? '';
  if (typeUrl === TypeUrl.Address) return addressName(value as Address);
  if (typeUrl === TypeUrl.Authorization) return `${(value as Authorization).namespace ?? ''}/${(value as Authorization).name ?? ''}`;
  return (value as { name?: string }).name ?? '';
}

/** Istio's WDS keys: a workload's uid, a service's `namespace/hostname`. */
export function addressName(a: Address): string {
  return a.workload ? (a.workload.uid ?? '') : `${a.service?.namespace ?? ''}/${a.service?.hostname ?? ''}`;
}

/** A typed resource, named at the edge from its own message. */
export function xdsResource<U extends TypeUrlValue>(typeUrl: U, value: XdsMessages[U]): XdsResource<XdsMessages[U]> {
  return { typeUrl, name: resourceName(typeUrl, value), value };
}

/** The identity and metadata a proxy sends in its first DiscoveryRequest (`node`). */
export interface ProxyNode {
  id: string;
  cluster: string;
  metadata: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subZone?: string };
  userAgentName?: string;
  userAgentVersion?: string;
}

/** A proxy's complete configuration as an xDS client assembles it from the five resource types. */
export interface XdsSnapshot {
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  secrets: Secret[];
}
