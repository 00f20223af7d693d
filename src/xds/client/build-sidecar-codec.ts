// Generates dist/xds/client/sidecar-codec.generated.js at build time (build-descriptor.ts runs it): a decoder to proto3
// JSON for every message an xDS resource, its Any fields or a CA response can hold, and an encoder from proto3 JSON
// for the messages a sidecar sends (Discovery and DeltaDiscovery requests with their Node and NACK details, the CA
// request). It is generated from the same descriptor protobufjs reads, so it decodes the same types to the same JSON
// (sidecar-codec.test.ts compares them) with plain functions instead of a reflection library in every sidecar.

import { renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { CA_MESSAGES, CA_REQUEST_TYPE, CA_RESPONSE_TYPE } from '../../ca/ca-messages.js';
import type { DescriptorSource } from '../proto-files.js';
import { CODEC_FILE, CODEC_FORMAT } from './codec-source.js';

/** Types a sidecar receives nothing of: the admin API's dump types and the ext_authz service's messages. */
const NOT_RECEIVED = ['envoy.admin.', 'envoy.service.auth.'];
/** What a sidecar sends. */
export const ENCODED_ROOTS = ['envoy.service.discovery.v3.DiscoveryRequest', 'envoy.service.discovery.v3.DeltaDiscoveryRequest', 'google.rpc.ErrorInfo', CA_REQUEST_TYPE];

const jsonName = (s: string) => s.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());
/** `o.name`, or `o["name"]` for a name that is not an identifier. */
const prop = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`);
const WIRE: Record<string, number> = { double: 1, fixed64: 1, sfixed64: 1, float: 5, fixed32: 5, sfixed32: 5, string: 2, bytes: 2 };
const wireType = (type: string, resolved: protobuf.ReflectionObject | null) => (resolved instanceof protobuf.Type ? 2 : (WIRE[type] ?? 0));
const PACKABLE = (type: string, resolved: protobuf.ReflectionObject | null) => !(resolved instanceof protobuf.Type) && type !== 'string' && type !== 'bytes';

/** Well-known types read by the runtime (proto3 JSON is not an object of their fields), by full name. */
const WKT_READ: Record<string, string> = {
  'google.protobuf.Any': 'rt.anyJson(r, r.end(), DECODERS, SPECIAL)',
  'google.protobuf.Duration': 'rt.durationJson(r, r.end())',
  'google.protobuf.Timestamp': 'rt.timestampJson(r, r.end())',
  'google.protobuf.Struct': 'rt.structJson(r, r.end())',
  'google.protobuf.Value': 'rt.valueJson(r, r.end())',
  'google.protobuf.ListValue': 'rt.listJson(r, r.end())',
  'google.protobuf.Empty': 'rt.emptyJson(r, r.end())',
};
/** Wrappers: their value field's tag, how to read it, and the default (what protobufjs's prototypes hold). */
const WRAPPERS: Record<string, [number, string, string]> = {
  DoubleValue: [9, 'r.double()', '0'],
  FloatValue: [13, 'r.float()', '0'],
  Int64Value: [8, 'r.int64()', "'0'"],
  UInt64Value: [8, 'r.uint64()', "'0'"],
  Int32Value: [8, 'r.int32()', '0'],
  UInt32Value: [8, 'r.uint32()', '0'],
  BoolValue: [8, 'r.bool()', 'false'],
  StringValue: [10, 'r.string()', "''"],
  BytesValue: [10, 'r.bytes()', "''"],
};
/** The special well-known types an Any holds under "value" (codec.ts SPECIAL_JSON). */
const SPECIAL = ['google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue', ...Object.keys(WRAPPERS).map((w) => `google.protobuf.${w}`)];
/** Well-known types the runtime encodes from proto3 JSON (`$` is the value). */
const WKT_WRITE: Record<string, string> = {
  'google.protobuf.Any': 'rt.encodeAny(w, $, ENCODERS)',
  'google.protobuf.Duration': 'rt.encodeDuration(w, $)',
  'google.protobuf.Struct': 'rt.encodeStruct(w, $)',
  'google.protobuf.Value': 'rt.encodeValue(w, $)',
};

const nameOf = (t: protobuf.ReflectionObject) => t.fullName.slice(1);

/** Every message type below a namespace. */
function* messages(ns: protobuf.NamespaceBase): Generator<protobuf.Type> {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) yield o;
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) yield* messages(o);
  }
}

/** The message types `roots` name, with every message type their fields name (maps' values included). */
function closure(roots: protobuf.Type[]): protobuf.Type[] {
  const seen = new Map<string, protobuf.Type>();
  const pending = [...roots];
  while (pending.length) {
    const t = pending.pop()!;
    if (seen.has(t.fullName)) continue;
    seen.set(t.fullName, t);
    for (const f of t.fieldsArray) {
      f.resolve();
      if (f.resolvedType instanceof protobuf.Type) pending.push(f.resolvedType);
    }
  }
  return [...seen.values()].sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
}

class CodecWriter {
  private readonly enums = new Map<string, string>();
  private readonly lines: string[] = [];
  private readonly decoderNames = new Map<string, string>();
  private readonly encoderNames = new Map<string, string>();

  constructor(
    private readonly decoded: protobuf.Type[],
    private readonly encoded: protobuf.Type[],
  ) {
    decoded.forEach((t, i) => this.decoderNames.set(t.fullName, `d${i}`));
    encoded.forEach((t, i) => this.encoderNames.set(t.fullName, `e${i}`));
  }

  private enumNames(e: protobuf.Enum): string {
    let id = this.enums.get(e.fullName);
    if (!id) {
      id = `E${this.enums.size}`;
      this.enums.set(e.fullName, id);
      // valuesById: the last alias of a number wins, as in protobufjs
      this.lines.push(`const ${id} = ${JSON.stringify(e.valuesById)}; // ${nameOf(e)}`);
      this.lines.push(`const ${id}v = ${JSON.stringify(e.values)};`);
    }
    return id;
  }

  /** How the runtime reads a well-known type whose proto3 JSON is special, or undefined for other types. */
  private wktRead(name: string): string {
    if (WKT_READ[name]) return WKT_READ[name]!;
    const wrapper = name.startsWith('google.protobuf.') ? WRAPPERS[name.slice('google.protobuf.'.length)] : undefined;
    if (wrapper) return `rt.wrapperJson(r, r.end(), ${wrapper[0]}, R_${name.slice('google.protobuf.'.length)}, ${wrapper[2]})`;
    return '';
  }

  /** The expression that reads one value of `type` at the reader's position. */
  private read(type: string, resolved: protobuf.ReflectionObject | null): string {
    if (resolved instanceof protobuf.Enum) return `rt.enumName(${this.enumNames(resolved)}, r.int32())`;
    if (resolved instanceof protobuf.Type) return this.wktRead(nameOf(resolved)) || `${this.decoderNames.get(resolved.fullName)}(r, r.end())`;
    return `r.${type}()`;
  }

  private decoder(t: protobuf.Type): void {
    const cases: string[] = [];
    for (const f of t.fieldsArray) {
      const key = prop(jsonName(f.name));
      const tag = (n: number) => (f.id << 3) | n;
      if (f.map) {
        const mf = f as unknown as protobuf.MapField;
        const keyRead = mf.keyType === 'bool' ? 'String(r.bool())' : mf.keyType === 'string' ? 'r.string()' : `String(r.${mf.keyType}())`;
        const valueDefault = f.resolvedType instanceof protobuf.Type ? '{}' : f.resolvedType instanceof protobuf.Enum ? '0' : f.type === 'string' || f.type === 'bytes' ? "''" : f.type === 'bool' ? 'false' : /64/.test(f.type) ? "'0'" : '0';
        const keyDefault = mf.keyType === 'string' ? "''" : mf.keyType === 'bool' ? "'false'" : "'0'";
        cases.push(
          `case ${tag(2)}: { const e = r.end(); let k = ${keyDefault}, v = ${valueDefault}; while (r.pos < e) { const u = r.uint32(); if (u === ${(1 << 3) | wireType(mf.keyType, null)}) k = ${keyRead}; else if (u === ${(2 << 3) | wireType(f.type, f.resolvedType)}) v = ${this.read(f.type, f.resolvedType)}; else r.skip(u & 7); } (o${key} ??= {})[k] = v; break; }`,
        );
      } else if (f.repeated) {
        const wt = wireType(f.type, f.resolvedType);
        cases.push(`case ${tag(wt)}: (o${key} ??= []).push(${this.read(f.type, f.resolvedType)}); break;`);
        if (PACKABLE(f.type, f.resolvedType)) cases.push(`case ${tag(2)}: { const e = r.end(), a = (o${key} ??= []); while (r.pos < e) a.push(${this.read(f.type, f.resolvedType)}); break; }`);
      } else {
        cases.push(`case ${tag(wireType(f.type, f.resolvedType))}: o${key} = ${this.read(f.type, f.resolvedType)}; break;`);
      }
    }
    this.lines.push(
      `function ${this.decoderNames.get(t.fullName)}(r, end) { // ${nameOf(t)}`,
      '  const o = {};',
      '  while (r.pos < end) {',
      '    const t = r.uint32();',
      '    switch (t) {',
      ...cases.map((c) => `      ${c}`),
      '      default: r.skip(t & 7);',
      '    }',
      '  }',
      '  return o;',
      '}',
    );
  }

  /** Statements that write `v` (one value of `type`) with its tag. */
  private write(tagNo: number, type: string, resolved: protobuf.ReflectionObject | null, v: string): string {
    const tag = `w.uint32(${(tagNo << 3) | wireType(type, resolved)});`;
    if (resolved instanceof protobuf.Enum) {
      const id = this.enumNames(resolved);
      return `${tag} w.int32(typeof ${v} === 'string' ? rt.enumValue(${id}v, ${v}) : ${v});`;
    }
    if (resolved instanceof protobuf.Type) {
      const name = nameOf(resolved);
      const special = WKT_WRITE[name];
      if (special) return `${tag} w.fork(); ${special.replace('$', v)}; w.ldelim();`;
      if (name.startsWith('google.protobuf.') && name !== 'google.protobuf.Empty' && !this.encoderNames.has(resolved.fullName)) throw new Error(`the sidecar codec cannot encode ${name} (a field of what a sidecar sends)`);
      return `${tag} w.fork(); ${this.encoderNames.get(resolved.fullName)}(w, ${v}); w.ldelim();`;
    }
    return `${tag} w.${type}(${v});`;
  }

  private encoder(t: protobuf.Type): void {
    const body: string[] = [];
    for (const f of t.fieldsArray) {
      const key = prop(jsonName(f.name));
      if (f.map) {
        const mf = f as unknown as protobuf.MapField;
        const k = mf.keyType === 'string' ? 'k' : mf.keyType === 'bool' ? "k === 'true'" : /64/.test(mf.keyType) ? 'k' : 'Number(k)';
        body.push(`if ((v = o${key}) != null) for (const k of Object.keys(v)) { w.uint32(${(f.id << 3) | 2}); w.fork(); ${this.write(1, mf.keyType, null, k)} ${this.write(2, f.type, f.resolvedType, 'v[k]')} w.ldelim(); }`);
      } else if (f.repeated) {
        body.push(`if ((v = o${key}) != null) for (const x of v) { ${this.write(f.id, f.type, f.resolvedType, 'x')} }`);
      } else {
        body.push(`if ((v = o${key}) != null) { ${this.write(f.id, f.type, f.resolvedType, 'v')} }`);
      }
    }
    this.lines.push(`function ${this.encoderNames.get(t.fullName)}(w, o) { // ${nameOf(t)}`, '  let v;', ...body.map((b) => `  ${b}`), '}');
  }

  source(stamp: DescriptorSource & { codec: number }): string {
    for (const t of this.decoded) this.decoder(t);
    for (const t of this.encoded) this.encoder(t);
    const wrapperReaders = Object.entries(WRAPPERS).map(([n, [, read]]) => `const R_${n} = (r) => ${read};`);
    const table = (names: Map<string, string>) => `{\n${[...names].map(([full, fn]) => `  ${JSON.stringify(full.slice(1))}: ${fn},`).join('\n')}\n}`;
    return [
      '// Generated by src/xds/client/build-sidecar-codec.ts from the Envoy descriptor: do not edit. See proto-runtime.ts.',
      "import * as rt from './proto-runtime.js';",
      `export const SOURCE = ${JSON.stringify(stamp)};`,
      ...wrapperReaders,
      ...this.lines,
      `export const DECODERS = ${table(this.decoderNames)};`,
      `export const ENCODERS = ${table(this.encoderNames)};`,
      `const SPECIAL = {\n${SPECIAL.map((n) => `  ${JSON.stringify(n)}: (r, end) => ${this.wktRead(n).replace('r.end()', 'end')},`).join('\n')}\n};`,
      '',
    ].join('\n');
  }
}

/** The codec's source for `root` (the Envoy types; the CA's messages are added here). */
export function sidecarCodecSource(root: protobuf.Root, source: DescriptorSource): { text: string; decoders: number; encoders: number } {
  root.addJSON(CA_MESSAGES.nested as Record<string, protobuf.AnyNestedObject>);
  root.resolveAll();
  const all = [...messages(root)];
  const received = all.filter((t) => !NOT_RECEIVED.some((p) => nameOf(t).startsWith(p)) && nameOf(t) !== CA_REQUEST_TYPE);
  const decoded = closure(received);
  if (!decoded.some((t) => nameOf(t) === CA_RESPONSE_TYPE)) throw new Error('the CA response type is missing');
  const encoded = closure(ENCODED_ROOTS.map((n) => root.lookupType(n))).filter((t) => !WKT_WRITE[nameOf(t)]);
  const text = new CodecWriter(decoded, encoded).source({ ...source, codec: CODEC_FORMAT });
  return { text, decoders: decoded.length, encoders: encoded.length };
}

/** Writes the codec (to a temporary name first: a process starting meanwhile reads a whole file). */
export function writeSidecarCodec(root: protobuf.Root, source: DescriptorSource, file: URL = CODEC_FILE): { decoders: number; encoders: number; bytes: number } {
  const { text, decoders, encoders } = sidecarCodecSource(root, source);
  const path = fileURLToPath(file);
  writeFileSync(`${path}.${process.pid}.tmp`, text);
  renameSync(`${path}.${process.pid}.tmp`, path);
  return { decoders, encoders, bytes: text.length };
}
