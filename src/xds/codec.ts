// proto3 JSON (what translation builds and /config_dump shows) ⇄ protobuf binary, for any loaded Envoy type.
// protobufjs's own fromObject/toObject do not speak proto3 JSON for well-known types (durations as "1.5s",
// wrappers as plain values, Struct as JSON, Any with "@type"), so this walks the type and converts those.

import protobuf from 'protobufjs';
import { envoyType, typeForUrl } from './protos.js';
import { parseProtoDuration } from '../duration.js';

type Json = Record<string, unknown>;

/** A resource's JSON does not fit its type: says where (JSON path) and why. */
export class CodecError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path || '(root)'}: ${message}`);
  }
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));
/** proto3 JSON names (protoc's rule: drop "_", upper-case what follows, so consecutive_5xx → consecutive5xx). */
const jsonName = (s: string) => s.replace(/_(.)/g, (_m, c: string) => c.toUpperCase());
const fieldIndex = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

/** A field by its proto3 JSON name, protobufjs's name, or its snake_case proto name. */
function fieldNamed(type: protobuf.Type, key: string): protobuf.Field | undefined {
  let index = fieldIndex.get(type);
  if (!index) {
    index = new Map();
    for (const f of type.fieldsArray) {
      index.set(f.name, f);
      index.set(jsonName(f.name), f);
      index.set(f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), f);
    }
    fieldIndex.set(type, index);
  }
  return index.get(key) ?? index.get(jsonName(key));
}
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- encode

/** Encode a proto3-JSON message of `typeUrl` (or a protobufjs Type) to bytes. */
export function encodeJson(type: protobuf.Type | string, json: Json, path = ''): Uint8Array {
  const t = typeof type === 'string' ? requireType(type, path) : type;
  return t.encode(t.fromObject(toPlain(t, json, path))).finish();
}

/**
 * Like encodeJson, but the bytes of each top-level field whose value is an object or list are remembered by that
 * value's identity. A protobuf message is the concatenation of its fields, so shallow copies that differ in one
 * field (a route configuration per workload with its own peer-metadata header, a listener per proxy with its own
 * address) encode their shared fields once. Fields are written in field-number order, as protobufjs does, so the
 * bytes equal encodeJson's. The values must not change once encoded (translation builds new objects per change).
 */
export function encodeJsonSharingFields(typeUrl: string, json: object, path = ''): Uint8Array {
  const t = requireType(typeUrl, path);
  if (!isObj(json)) throw new CodecError(path, `expected an object for ${t.fullName.slice(1)}`);
  const parts: Array<{ id: number; bytes: Uint8Array }> = [];
  const seen = new Set<protobuf.Field>();
  for (const [key, value] of Object.entries(json)) {
    if (value === null || value === undefined) continue;
    const field = fieldNamed(t, key);
    // Unknown fields (for the error) and a field given twice under two spellings: the whole-message path decides.
    if (!field || seen.has(field)) return encodeJson(t, json, path);
    seen.add(field);
    parts.push({ id: field.id, bytes: fieldBytes(t, field, key, value, path) });
  }
  parts.sort((a, b) => a.id - b.id);
  return Buffer.concat(parts.map((p) => p.bytes));
}

// Field bytes by value identity (shallow copies within one push), then by content (across pushes: a change
// rebuilds every object, but most of the new config equals the last one, and JSON text is far cheaper than encoding).
const sharedFields = new WeakMap<object, { field: protobuf.Field; bytes: Uint8Array }>();
let byContent = new Map<string, Uint8Array>();
let byContentBefore = new Map<string, Uint8Array>();

/**
 * Start a new generation of the content cache (the ADS server does at every push): field values not encoded
 * since the previous call are forgotten, so the cache holds about one configuration's worth.
 */
export function nextEncodingGeneration(): void {
  byContentBefore = byContent;
  byContent = new Map();
}

function fieldBytes(t: protobuf.Type, field: protobuf.Field, key: string, value: unknown, path: string): Uint8Array {
  const shared = typeof value === 'object' && value !== null;
  const hit = shared ? sharedFields.get(value) : undefined;
  if (hit?.field === field) return hit.bytes;
  const content = `${t.fullName}.${field.name}=${JSON.stringify(value)}`;
  let bytes = byContent.get(content) ?? byContentBefore.get(content);
  if (!bytes) bytes = encodeJson(t, { [key]: value }, path);
  byContent.set(content, bytes);
  if (shared) sharedFields.set(value, { field, bytes });
  return bytes;
}

/** Encode as google.protobuf.Any: `{typeUrl, value}` with the value's bytes. */
export function encodeAny(json: Json, path = ''): { type_url: string; value: Uint8Array } {
  const typeUrl = json['@type'];
  if (typeof typeUrl !== 'string' || !typeUrl) throw new CodecError(path, 'an Any needs "@type"');
  const t = requireType(typeUrl, path);
  const body: Json = { ...json };
  delete body['@type'];
  // A well-known type inside Any is written {"@type": ..., "value": <its JSON form>}.
  const inner = SPECIAL_JSON.has(t.fullName) ? wktToPlain(t, body.value, path) : toPlain(t, body, path);
  // protobufjs defines the well-known types with their proto field names (type_url, string_value…), not camelCase.
  return { type_url: typeUrl, value: t.encode(t.fromObject(inner as Json)).finish() };
}

function requireType(typeUrl: string, path: string): protobuf.Type {
  const t = typeForUrl(typeUrl);
  if (!t) throw new CodecError(path, `type ${typeUrl} is not one Trellis loads (src/xds/protos.ts), so it cannot be encoded`);
  return t;
}

/** proto3 JSON → the plain-object form protobufjs's fromObject accepts. */
function toPlain(type: protobuf.Type, json: Json, path: string): Json {
  if (!isObj(json)) throw new CodecError(path, `expected an object for ${type.fullName.slice(1)}`);
  const out: Json = {};
  for (const [key, value] of Object.entries(json)) {
    if (value === null || value === undefined) continue;
    const field = fieldNamed(type, key);
    const p = path ? `${path}.${key}` : key;
    if (!field) throw new CodecError(p, `${type.fullName.slice(1)} has no field "${key}"`);
    out[field.name] = fieldToPlain(field, value, p);
  }
  return out;
}

function fieldToPlain(field: protobuf.Field, value: unknown, path: string): unknown {
  if (field.map) {
    if (!isObj(value)) throw new CodecError(path, 'expected an object (map)');
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) out[k] = valueToPlain(field, v, `${path}.${k}`);
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new CodecError(path, 'expected a list');
    return value.map((v, i) => valueToPlain(field, v, `${path}[${i}]`));
  }
  return valueToPlain(field, value, path);
}

function valueToPlain(field: protobuf.Field, value: unknown, path: string): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (rt.fullName.startsWith('.google.protobuf.')) return wktToPlain(rt, value, path);
    return toPlain(rt, value as Json, path);
  }
  if (rt instanceof protobuf.Enum) {
    if (typeof value === 'string' && !(value in rt.values)) throw new CodecError(path, `"${value}" is not a value of ${rt.fullName.slice(1)}`);
    return value;
  }
  return value; // scalars: protobufjs accepts numbers, int64 strings and base64 bytes as proto3 JSON writes them
}

function wktToPlain(t: protobuf.Type, value: unknown, path: string): unknown {
  const name = t.fullName;
  if (name === '.google.protobuf.Any') return encodeAny(value as Json, path);
  if (name === '.google.protobuf.Duration') return typeof value === 'string' ? parseDuration(value, path) : value;
  if (name === '.google.protobuf.Timestamp') return typeof value === 'string' ? parseTimestamp(value, path) : value;
  if (WRAPPERS.has(name)) return isObj(value) && 'value' in value ? value : { value };
  if (name === '.google.protobuf.Struct') return structToPlain(value, path);
  if (name === '.google.protobuf.Value') return valueJsonToPlain(value);
  if (name === '.google.protobuf.ListValue') return { values: (value as unknown[]).map(valueJsonToPlain) };
  if (name === '.google.protobuf.Empty') return {};
  return toPlain(t, value as Json, path);
}

function structToPlain(value: unknown, path: string): Json {
  if (!isObj(value)) throw new CodecError(path, 'expected an object (Struct)');
  const fields: Json = {};
  for (const [k, v] of Object.entries(value)) fields[k] = valueJsonToPlain(v);
  return { fields };
}

function valueJsonToPlain(v: unknown): Json {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueJsonToPlain) } };
  return { structValue: structToPlain(v, '') };
}

function parseDuration(s: string, path: string): { seconds: string; nanos: number } {
  const d = parseProtoDuration(s);
  if (!d) throw new CodecError(path, `"${s}" is not a proto3 duration such as "1.5s"`);
  return d;
}

function parseTimestamp(s: string, path: string): { seconds: string; nanos: number } {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new CodecError(path, `"${s}" is not an RFC 3339 timestamp`);
  const frac = /\.(\d{1,9})/.exec(s)?.[1] ?? '';
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number(frac.padEnd(9, '0') || 0) };
}

// ---------------------------------------------------------------- decode

/** Decode bytes of `typeUrl` (or a Type) into proto3 JSON. */
export function decodeToJson(type: protobuf.Type | string, bytes: Uint8Array): Json {
  const t = typeof type === 'string' ? requireType(type, '') : type;
  return messageToJson(t, t.decode(bytes) as unknown as Json);
}

/** google.protobuf.Any `{typeUrl, value}` → `{"@type", ...fields}` (`{"@type", value}` for well-known types). */
export function anyToJson(any: { typeUrl?: string; type_url?: string; value?: Uint8Array }): Json {
  const typeUrl = any.type_url ?? any.typeUrl ?? '';
  const t = typeUrl ? typeForUrl(typeUrl) : undefined;
  if (!t) return { '@type': typeUrl, value: Buffer.from(any.value ?? []).toString('base64') };
  const msg = t.decode(any.value ?? new Uint8Array()) as unknown as Json;
  if (SPECIAL_JSON.has(t.fullName)) return { '@type': typeUrl, value: wktFromMessage(t, msg) };
  return { '@type': typeUrl, ...messageToJson(t, msg) };
}

/** Well-known types whose JSON is not an object of their fields. */
const SPECIAL_JSON = new Set([...WRAPPERS, '.google.protobuf.Duration', '.google.protobuf.Timestamp', '.google.protobuf.Struct', '.google.protobuf.Value', '.google.protobuf.ListValue']);

/** A decoded protobufjs message (only fields that were set are own properties) → proto3 JSON. */
export function messageToJson(type: protobuf.Type, msg: Json): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    const v = msg[field.name];
    if (v === null || v === undefined) continue;
    const name = jsonName(field.name);
    if (field.map) {
      const entries = Object.entries(v as Json);
      if (entries.length) out[name] = Object.fromEntries(entries.map(([k, x]) => [k, scalarOrMessage(field, x)]));
    } else if (field.repeated) {
      if ((v as unknown[]).length) out[name] = (v as unknown[]).map((x) => scalarOrMessage(field, x));
    } else {
      out[name] = scalarOrMessage(field, v);
    }
  }
  return out;
}

function scalarOrMessage(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (rt.fullName.startsWith('.google.protobuf.')) return wktFromMessage(rt, v as Json);
    return messageToJson(rt, v as Json);
  }
  if (rt instanceof protobuf.Enum) return rt.valuesById[v as number] ?? v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) return String(v); // int64 (Long) → decimal string
  return v;
}

function longValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v) return Number(String(v));
  return 0;
}

function wktFromMessage(t: protobuf.Type, msg: Json): unknown {
  const name = t.fullName;
  if (name === '.google.protobuf.Any') return anyToJson(msg as { typeUrl?: string; value?: Uint8Array });
  if (name === '.google.protobuf.Duration') {
    const seconds = longValue(msg.seconds);
    const nanos = Number(msg.nanos ?? 0);
    const frac = nanos ? `.${String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '')}` : '';
    return `${seconds < 0 || nanos < 0 ? '-' : ''}${Math.abs(seconds)}${frac}s`;
  }
  if (name === '.google.protobuf.Timestamp') return new Date(longValue(msg.seconds) * 1000 + Number(msg.nanos ?? 0) / 1e6).toISOString();
  if (WRAPPERS.has(name)) {
    const f = t.fields.value!;
    return scalarOrMessage(f, msg.value ?? (f.type === 'bool' ? false : f.type === 'string' ? '' : 0));
  }
  if (name === '.google.protobuf.Struct') {
    const out: Json = {};
    for (const [k, v] of Object.entries((msg.fields ?? {}) as Json)) out[k] = valueFromMessage(v as Json);
    return out;
  }
  if (name === '.google.protobuf.Value') return valueFromMessage(msg);
  if (name === '.google.protobuf.ListValue') return ((msg.values ?? []) as Json[]).map(valueFromMessage);
  if (name === '.google.protobuf.Empty') return {};
  return messageToJson(t, msg);
}

function valueFromMessage(v: Json): unknown {
  // protobufjs names these fields in camelCase but Any's in snake_case; read either.
  const get = (camelName: string, snake: string) => (Object.prototype.hasOwnProperty.call(v, camelName) ? v[camelName] : Object.prototype.hasOwnProperty.call(v, snake) ? v[snake] : undefined);
  const n = get('numberValue', 'number_value');
  if (n !== undefined) return n;
  const str = get('stringValue', 'string_value');
  if (str !== undefined) return str;
  const b = get('boolValue', 'bool_value');
  if (b !== undefined) return b;
  const st = get('structValue', 'struct_value');
  if (st !== undefined) return wktFromMessage(envoyType('google.protobuf.Struct'), st as Json);
  const l = get('listValue', 'list_value');
  if (l !== undefined) return (((l as Json).values as Json[] | undefined) ?? []).map(valueFromMessage);
  return null;
}
