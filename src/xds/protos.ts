// Envoy's v3 protos, loaded once from the copy that @grpc/grpc-js-xds ships (deps/envoy-api, xds, validate,
// googleapis), so every type that can appear in an xDS resource or inside its Any fields is known.

import { accessSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** Every file whose messages Trellis sends or reads; Any-typed fields can only carry types loaded here. */
const FILES = [
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
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
];

let root: protobuf.Root | undefined;

/** The loaded root (about 0.2 s the first time). */
export function envoyProtos(): protobuf.Root {
  if (root) return root;
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const dirs = [
    ...['envoy-api', 'xds', 'protoc-gen-validate', 'googleapis'].map((d) => path.join(deps, d)),
    path.dirname(require.resolve('protobufjs/package.json')), // google/protobuf/descriptor.proto
  ];
  const r = new protobuf.Root();
  r.resolvePath = (origin, target) => {
    for (const dir of dirs) {
      const candidate = path.join(dir, target);
      try {
        accessSync(candidate);
        return candidate;
      } catch {
        /* next folder */
      }
    }
    return protobuf.util.path.resolve(origin, target);
  };
  for (const file of FILES) r.loadSync(file, { keepCase: false });
  r.resolveAll();
  root = r;
  return r;
}

/** The message type a type URL names, or undefined when it is not loaded. */
export function typeForUrl(typeUrl: string): protobuf.Type | undefined {
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  try {
    return envoyProtos().lookupType(name);
  } catch {
    return undefined;
  }
}
