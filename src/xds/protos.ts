// Envoy's v3 protos from the copy that @grpc/grpc-js-xds ships (deps/envoy-api, xds, validate, googleapis), so every
// type that can appear in an xDS resource or inside its Any fields is known. A built tree reads them from the compact
// descriptor `npm run build` generates (descriptor.ts), building each type on first use; without it (tsc alone, or
// a descriptor made from other FILES or package versions) the .proto files are parsed as before.

import { accessSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { DESCRIPTOR_FILE, DESCRIPTOR_FORMAT, LazyRoot, sameSource, type DescriptorSource, type EnvoyDescriptor } from './descriptor.js';

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
const OWN_PROTOS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');

const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
const packageVersion = (name: string) => (JSON.parse(readFileSync(path.join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;

/** What a descriptor made now would be made from. */
export function descriptorSource(): DescriptorSource {
  return { format: DESCRIPTOR_FORMAT, files: [...FILES], grpcJsXds: packageVersion('@grpc/grpc-js-xds'), protobufjs: packageVersion('protobufjs') };
}

/** Parses FILES and what they import, keeping every option (about 0.2 s): the build's input and the fallback. */
export function parseEnvoyProtoFiles(): protobuf.Root {
  const deps = path.join(packageDir('@grpc/grpc-js-xds'), 'deps');
  const dirs = [
    ...['envoy-api', 'xds', 'protoc-gen-validate', 'googleapis'].map((d) => path.join(deps, d)),
    packageDir('protobufjs'), // google/protobuf/descriptor.proto
    OWN_PROTOS,
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
  return r;
}

/** Envoy's types, from one source or the other. */
export interface EnvoyTypes {
  /** 'descriptor' (the generated file) or 'proto files' (parsed, with why the descriptor was not used). */
  readonly origin: string;
  /** A message type by full name, or undefined when none is loaded under it. */
  type(fullName: string): protobuf.Type | undefined;
  /** A root holding every type. */
  all(): protobuf.Root;
}

/** The descriptor at `file` when it was generated from what is installed now, else the parsed .proto files. */
export function openEnvoyTypes(file: URL | string = DESCRIPTOR_FILE): EnvoyTypes {
  let why: string;
  try {
    const descriptor = JSON.parse(readFileSync(file, 'utf8')) as EnvoyDescriptor;
    if (sameSource(descriptor.source, descriptorSource())) {
      const lazy = new LazyRoot(descriptor);
      return { origin: 'descriptor', type: (n) => lazy.type(n), all: () => lazy.all() };
    }
    why = 'made from other files or package versions';
  } catch (err) {
    why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not generated (npm run build makes it)' : `unreadable: ${(err as Error).message}`;
  }
  const root = parseEnvoyProtoFiles();
  const type = (n: string) => {
    const found = root.lookup(n.startsWith('.') ? n : `.${n}`);
    return found instanceof protobuf.Type ? found : undefined;
  };
  return { origin: `proto files (descriptor ${why})`, type, all: () => root };
}

let types: EnvoyTypes | undefined;
const envoyTypes = () => (types ??= openEnvoyTypes());

/** Where this process's types come from (diagnostics and tests). */
export const envoyProtosOrigin = (): string => envoyTypes().origin;

/** A root with every type loaded; the codec asks for single types (`envoyType`), which is cheaper. */
export function envoyProtos(): protobuf.Root {
  return envoyTypes().all();
}

/** A message type by full name ("envoy.config.listener.v3.Listener"); throws when it is not loaded. */
export function envoyType(fullName: string): protobuf.Type {
  const t = envoyTypes().type(fullName);
  if (!t) throw new Error(`no type ${fullName} in Envoy's protos (src/xds/protos.ts FILES)`);
  return t;
}

/** The message type a type URL names, or undefined when it is not loaded. */
export function typeForUrl(typeUrl: string): protobuf.Type | undefined {
  return envoyTypes().type(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
}
