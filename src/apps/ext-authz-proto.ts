// Loads Envoy's ext_authz v3 service (envoy.service.auth.v3.Authorization) from the .proto files shipped with @grpc/grpc-js-xds.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

/** Field names stay as in the .proto (snake_case), enums as names, 64-bit numbers as strings. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

let cached: grpc.ServiceClientConstructor | undefined;

/** The include paths for Envoy's protos and their imports inside @grpc/grpc-js-xds's deps folder. */
export function envoyProtoIncludeDirs(): string[] {
  const pkg = createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json');
  const deps = join(dirname(pkg), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
}

/** The Authorization service: `.service` for servers, `new Ctor(address, credentials)` for clients. */
export function authorizationService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...LOADER_OPTIONS,
    includeDirs: envoyProtoIncludeDirs(),
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } };
  };
  cached = loaded.envoy.service.auth.v3.Authorization;
  return cached;
}

/** The parts of a CheckRequest this project reads. */
export interface CheckRequest {
  attributes?: {
    source?: { principal?: string };
    request?: { http?: { method?: string; host?: string; path?: string; headers?: Record<string, string>; body?: string } };
  };
}

export interface HeaderValueOption {
  header: { key: string; value: string };
}

export interface CheckResponse {
  status: { code: number; message?: string };
  /** Which of the oneof is set, as the loader reports it (`oneofs: true`). */
  http_response?: 'ok_response' | 'denied_response';
  ok_response?: { headers: HeaderValueOption[] };
  denied_response?: { status: { code: string | number }; headers: HeaderValueOption[]; body: string };
}
