// What the sidecar's xDS and CA clients need from a protobuf codec: a message of a named type from proto3 JSON to
// bytes and back. Two implementations: the generated one (codec-generated.ts, the sidecar's default) and protobufjs
// reflection (codec-reflection.ts, what grpc-js clients and the control plane use).

export type Json = Record<string, unknown>;

export interface XdsCodec {
  /** 'generated' or 'reflection' (with why, when the generated codec could not be used). */
  readonly origin: string;
  /** proto3 JSON of the message type `fullName` ("envoy.service.discovery.v3.DiscoveryRequest") → bytes. */
  encode(fullName: string, json: Json): Uint8Array;
  /** bytes → proto3 JSON (Any as `{"@type", ...}`, durations as "1.5s", 64-bit integers as strings). */
  decode(fullName: string, bytes: Uint8Array): Json;
}

export const DISCOVERY_REQUEST = 'envoy.service.discovery.v3.DiscoveryRequest';
export const DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
export const DELTA_DISCOVERY_REQUEST = 'envoy.service.discovery.v3.DeltaDiscoveryRequest';
export const DELTA_DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';
