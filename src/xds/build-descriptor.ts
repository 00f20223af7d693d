// Generates dist/xds/envoy-descriptor.json from the .proto files (`npm run build` and `prepare` run it after tsc):
// every message and enum that an xDS resource can hold, in protobufjs's JSON, with only the options that change how
// a message is encoded. The file comes from node_modules, so it is built, never committed.

import { renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { writeSidecarCodec } from './client/build-sidecar-codec.js';
import { DESCRIPTOR_FILE, LazyRoot, type DescriptorSource, type DescriptorUnit, type EnvoyDescriptor } from './descriptor.js';
import { descriptorSource, parseEnvoyProtoFiles } from './protos.js';

// The options protobufjs reads when it encodes, decodes or fills defaults; every other one (validate rules, udpa and
// xds annotations, deprecation marks) is documentation for Envoy's own code generators.
const FIELD_OPTIONS = ['packed', 'proto3_optional', 'default', 'features', 'json_name'];
const ENUM_OPTIONS = ['allow_alias', 'features'];
const TYPE_OPTIONS = ['features'];

type Options = Record<string, unknown> | undefined;
type Json = Record<string, unknown>;

function pick(options: Options, keep: string[]): Options {
  const kept = Object.entries(options ?? {}).filter(([k]) => keep.includes(k));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

/** Drops undefined members, so the file holds only what is set. */
const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The package-level message or enum a type is nested in: the unit it is stored and loaded with. */
function unitOf(t: protobuf.ReflectionObject): string {
  while (t.parent instanceof protobuf.Type) t = t.parent;
  return t.fullName.slice(1);
}

function compactEnum(e: protobuf.Enum): protobuf.IEnum {
  const json = e.toJSON() as protobuf.IEnum & { edition?: string };
  return defined({ edition: json.edition, options: pick(json.options, ENUM_OPTIONS), values: json.values }) as unknown as protobuf.IEnum;
}

function compactType(t: protobuf.Type, deps: Set<string>): protobuf.IType {
  const json = t.toJSON() as protobuf.IType & { edition?: string; group?: boolean };
  const fields: Record<string, protobuf.IField> = {};
  for (const f of t.fieldsArray) {
    if (f.declaringField) continue; // an extension's copy inside the extended type
    const fj = f.toJSON() as protobuf.IField & Json;
    // The absolute name resolves to the same type whichever other units a lazy root holds.
    if (f.resolvedType) {
      fj.type = f.resolvedType.fullName;
      deps.add(unitOf(f.resolvedType));
    }
    fields[f.name] = defined({ ...fj, options: pick(fj.options, FIELD_OPTIONS) }) as unknown as protobuf.IField;
  }
  const oneofs = json.oneofs ? Object.fromEntries(Object.entries(json.oneofs).map(([k, o]) => [k, { oneof: o.oneof }])) : undefined;
  const nested: Record<string, protobuf.IType | protobuf.IEnum> = {};
  for (const n of t.nestedArray) {
    if (n instanceof protobuf.Type) nested[n.name] = compactType(n, deps);
    else if (n instanceof protobuf.Enum) nested[n.name] = compactEnum(n);
    // extension fields declared inside a message extend options: left out with the options
  }
  return defined({
    edition: json.edition,
    options: pick(json.options, TYPE_OPTIONS),
    oneofs,
    fields,
    group: json.group,
    nested: Object.keys(nested).length ? nested : undefined,
  }) as unknown as protobuf.IType;
}

function* reflectionObjects(ns: protobuf.NamespaceBase): Generator<protobuf.ReflectionObject> {
  for (const o of ns.nestedArray) {
    yield o;
    if (o instanceof protobuf.Type) yield* o.fieldsArray;
    if (o instanceof protobuf.Namespace) yield* reflectionObjects(o);
  }
}

/**
 * Files that only exist to annotate others: they declare extensions of google.protobuf's *Options (validate, udpa
 * and xds annotations…), plus the files of the types they extend (descriptor.proto). Their messages describe
 * options, which the descriptor drops, so nothing left can name them.
 */
function optionFiles(root: protobuf.Root): Set<string> {
  const files = new Set<string>();
  for (const o of reflectionObjects(root)) {
    if (!(o instanceof protobuf.Field) || o.extend === undefined || o.declaringField) continue;
    if (o.filename) files.add(o.filename);
    const extended = o.extensionField?.parent;
    if (extended?.filename) files.add(extended.filename);
  }
  return files;
}

/** The compact descriptor of a parsed root: every unit outside the option files, and what those units' fields name. */
export function compactDescriptor(root: protobuf.Root, source: DescriptorSource): EnvoyDescriptor {
  const skip = optionFiles(root);
  const all = new Map<string, { unit: DescriptorUnit; keep: boolean }>();
  for (const o of reflectionObjects(root)) {
    if (!(o instanceof protobuf.Type || o instanceof protobuf.Enum) || o.parent instanceof protobuf.Type) continue;
    const deps = new Set<string>();
    const json = o instanceof protobuf.Type ? compactType(o, deps) : compactEnum(o);
    deps.delete(o.fullName.slice(1));
    all.set(o.fullName.slice(1), { unit: deps.size ? { deps: [...deps].sort(), json } : { json }, keep: !(o.filename && skip.has(o.filename)) });
  }
  // A unit from an option file that a kept unit's field names after all stays, with what it names in turn.
  const units: Record<string, DescriptorUnit> = {};
  const pending = [...all].filter(([, u]) => u.keep).map(([name]) => name);
  while (pending.length) {
    const name = pending.pop()!;
    if (units[name]) continue;
    const { unit } = all.get(name)!;
    units[name] = unit;
    pending.push(...(unit.deps ?? []));
  }
  // Sorted, so the file only changes when the protos do.
  return { source, units: Object.fromEntries(Object.keys(units).sort().map((n) => [n, units[n]!])) };
}

/**
 * Parses FILES and writes the descriptor (to a temporary name first: a process starting meanwhile reads a whole file),
 * then the sidecar's codec generated from it (client/build-sidecar-codec.ts).
 */
export function writeDescriptor(file: URL = DESCRIPTOR_FILE): { units: number; bytes: number; ms: number; codec: { decoders: number; encoders: number; bytes: number } } {
  const started = performance.now();
  const descriptor = compactDescriptor(parseEnvoyProtoFiles(), descriptorSource());
  const text = JSON.stringify(descriptor);
  const path = fileURLToPath(file);
  writeFileSync(`${path}.${process.pid}.tmp`, text);
  renameSync(`${path}.${process.pid}.tmp`, path);
  const codec = writeSidecarCodec(new LazyRoot(descriptor).all(), descriptor.source);
  return { units: Object.keys(descriptor.units).length, bytes: text.length, ms: Math.round(performance.now() - started), codec };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const r = writeDescriptor();
    process.stdout.write(`envoy descriptor: ${r.units} top-level types, ${(r.bytes / 1024).toFixed(0)} KiB; sidecar codec: ${r.codec.decoders} decoders, ${r.codec.encoders} encoders, ${(r.codec.bytes / 1024).toFixed(0)} KiB; ${r.ms} ms\n`);
  } catch (err) {
    process.stderr.write(`envoy descriptor failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
