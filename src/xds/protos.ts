// Envoy's v3 protos from the copy that @grpc/grpc-js-xds ships (deps/envoy-api, xds, validate, googleapis), so every
// type that can appear in an xDS resource or inside its Any fields is known. A built tree reads them from the compact
// descriptor `npm run build` generates (descriptor.ts), building each type on first use; without it (tsc alone, or
// a descriptor made from other FILES or package versions) the .proto files are parsed as before.

import { accessSync, readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { DESCRIPTOR_FILE, LazyRoot, type EnvoyDescriptor } from './descriptor.js';
import { descriptorSource, FILES, OWN_PROTOS, packageDir, sameSource } from './proto-files.js';

export { descriptorSource } from './proto-files.js';

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
