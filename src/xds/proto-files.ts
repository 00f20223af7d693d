// Which .proto files Trellis loads (every type an xDS resource or its Any fields can hold) and what a generated file
// derived from them was made from. No protobufjs here: the sidecar's generated codec checks its stamp with this
// module without loading the reflection library it replaces.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Bumped whenever the descriptor's layout or what it keeps changes, so an older file is not used. */
export const DESCRIPTOR_FORMAT = 1;

/** Every file whose messages Trellis sends or reads; Any-typed fields can only carry types loaded here. */
export const FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/filters/cel/v3/cel.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/load_balancing_policies/ring_hash/v3/ring_hash.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
  'envoy/service/auth/v3/external_auth.proto',
  'envoy/admin/v3/config_dump.proto',
  // google.rpc.ErrorInfo: the coded items of a NACK's error_detail (nack.ts)
  'google/rpc/error_details.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  // Istio's NameTable (NDS) for the sidecar's DNS proxy, from this repository's protos/ folder.
  'istio/networking/nds/v1/nds.proto',
  // Istio's workload discovery (WDS) and L4 authorization for the ztunnel and waypoints (ambient mode).
  'istio/workload/workload.proto',
  'istio/security/authorization.proto',
];

/** This repository's own .proto files (Istio's messages that no npm package ships). */
export const OWN_PROTOS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');

export const packageDir = (name: string): string => path.dirname(require.resolve(`${name}/package.json`));
const packageVersion = (name: string) => (JSON.parse(readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;

/** What a generated file was made from; one that does not match the running code is not used. */
export interface DescriptorSource {
  format: number;
  /** The .proto files loaded (FILES), in order. */
  files: string[];
  /** Versions of the packages the descriptor is derived from (the .proto copy) and read with. */
  grpcJsXds: string;
  protobufjs: string;
}

/** What a descriptor made now would be made from. */
export function descriptorSource(): DescriptorSource {
  return { format: DESCRIPTOR_FORMAT, files: [...FILES], grpcJsXds: packageVersion('@grpc/grpc-js-xds'), protobufjs: packageVersion('protobufjs') };
}

export const sameSource = (a: DescriptorSource, b: DescriptorSource): boolean =>
  a.format === b.format && a.grpcJsXds === b.grpcJsXds && a.protobufjs === b.protobufjs && a.files.length === b.files.length && a.files.every((f, i) => f === b.files[i]);
