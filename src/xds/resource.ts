// The contract between translation and transport: xDS resources in Envoy's proto3 JSON form, named and typed.

/** Type URLs of the xDS v3 resources Trellis serves. */
export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type TypeUrlValue = (typeof TypeUrl)[keyof typeof TypeUrl];

/**
 * One resource as the translation builds it: the message in proto3 JSON form — what Envoy's
 * `/config_dump` shows (camelCase fields, `"@type"` inside Any, durations as `"1.5s"`, enums as names,
 * wrapper types as plain values). The transport encodes it to binary protobuf.
 */
export interface XdsResource {
  name: string;
  typeUrl: string;
  value: Record<string, unknown>;
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
