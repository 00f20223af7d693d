// The protobuf wire format and the well-known types' proto3 JSON, for the sidecar codec that the build generates
// (build-sidecar-codec.ts): a reader, a writer and the conversions the generated functions call. It produces the same
// proto3 JSON as src/xds/codec.ts does through protobufjs (durations as "1.5s", 64-bit integers as decimal strings,
// bytes as base64, Struct as JSON, Any with "@type"), without a reflection library in the sidecar.

import { parseProtoDuration } from '../../duration.js';

type Json = Record<string, unknown>;

/** Reads one message's bytes; `end()` reads a length prefix and returns where that field ends. */
export class ProtoReader {
  pos = 0;
  readonly buf: Buffer;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A varint's low 32 bits, unsigned (a longer varint is read whole). */
  uint32(): number {
    const b = this.buf;
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = b[this.pos++]!;
      if (byte === undefined) throw new RangeError('protobuf: truncated varint');
      v |= (byte & 0x7f) << shift;
      if (byte < 0x80) return v >>> 0;
    }
    // bits above 32 (negative int32s are sign-extended to ten bytes): skipped
    for (let i = 0; i < 5; i++) if (b[this.pos++]! < 0x80) return v >>> 0;
    throw new RangeError('protobuf: varint longer than ten bytes');
  }

  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const n = this.uint32();
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    return this.varint64() !== 0n;
  }

  /** A varint as an unsigned 64-bit BigInt. */
  varint64(): bigint {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let byte: number;
    for (let shift = 0; shift < 28; shift += 7) {
      byte = b[this.pos++]!;
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt(lo >>> 0);
    }
    byte = b[this.pos++]!;
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    for (let shift = 3; shift < 32; shift += 7) {
      byte = b[this.pos++]!;
      if (byte === undefined) throw new RangeError('protobuf: truncated varint');
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    }
    throw new RangeError('protobuf: varint longer than ten bytes');
  }

  /** int64 / uint64 / sint64 as proto3 JSON writes them: decimal strings. */
  int64(): string {
    return BigInt.asIntN(64, this.varint64()).toString();
  }
  uint64(): string {
    return this.varint64().toString();
  }
  sint64(): string {
    const n = this.varint64();
    return ((n >> 1n) ^ -(n & 1n)).toString();
  }

  fixed32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  sfixed32(): number {
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  fixed64(): string {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v.toString();
  }
  sfixed64(): string {
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v.toString();
  }
  float(): number {
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }
  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix; returns the position where the field's bytes end. */
  end(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.buf.length) throw new RangeError('protobuf: length beyond the message');
    return end;
  }

  string(): string {
    const end = this.end();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  rawBytes(): Buffer {
    const end = this.end();
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  /** bytes as proto3 JSON: base64. */
  bytes(): string {
    return this.rawBytes().toString('base64');
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.pos = this.end();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new RangeError(`protobuf: wire type ${wireType} is not one proto3 uses`);
    }
  }
}

/** Writes a message; `fork()`/`ldelim()` bracket a length-delimited field whose length is known only at its end. */
export class ProtoWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  private readonly starts: number[] = [];

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  uint32(v: number): void {
    this.room(5);
    v >>>= 0;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** A varint of a 64-bit two's complement value (negative int32 and int64 take ten bytes). */
  varint64(v: bigint): void {
    this.room(10);
    let n = BigInt.asUintN(64, v);
    while (n > 0x7fn) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }

  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(BigInt(v));
  }
  sint32(v: number): void {
    this.uint32((v << 1) ^ (v >> 31));
  }
  bool(v: boolean): void {
    this.uint32(v ? 1 : 0);
  }
  int64(v: string | number | bigint): void {
    this.varint64(BigInt(v));
  }
  sint64(v: string | number | bigint): void {
    const n = BigInt.asIntN(64, BigInt(v));
    this.varint64((n << 1n) ^ (n >> 63n));
  }
  fixed32(v: number): void {
    this.room(4);
    this.pos = this.buf.writeUInt32LE(v >>> 0, this.pos);
  }
  sfixed32(v: number): void {
    this.room(4);
    this.pos = this.buf.writeInt32LE(v | 0, this.pos);
  }
  fixed64(v: string | number | bigint): void {
    this.room(8);
    this.pos = this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.pos);
  }
  sfixed64(v: string | number | bigint): void {
    this.room(8);
    this.pos = this.buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(v)), this.pos);
  }
  float(v: number): void {
    this.room(4);
    this.pos = this.buf.writeFloatLE(v, this.pos);
  }
  double(v: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  string(s: string): void {
    const len = Buffer.byteLength(s);
    this.uint32(len);
    this.room(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** bytes from proto3 JSON (base64) or raw. */
  bytes(v: string | Uint8Array): void {
    const b = typeof v === 'string' ? Buffer.from(v, 'base64') : v;
    this.uint32(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  fork(): void {
    this.starts.push(this.pos);
  }

  /** Ends the field fork() began: moves its bytes up to make room for their length, and writes the length. */
  ldelim(): void {
    const start = this.starts.pop()!;
    const len = this.pos - start;
    let n = 1;
    while (len >>> (7 * n) && n < 5) n++;
    this.room(n);
    this.buf.copy(this.buf, start + n, start, this.pos);
    let v = len;
    let p = start;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos += n;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

// ---------------------------------------------------------------- well-known types, decoding to proto3 JSON

/** A generated decoder: reads a message that ends at `end`. */
export type Decoder = (r: ProtoReader, end: number) => Json;
/** A generated encoder: writes a message's fields from its proto3 JSON. */
export type Encoder = (w: ProtoWriter, json: Json) => void;

/** An enum value as proto3 JSON: its name, or the number when the enum has no such value. */
export const enumName = (names: Record<number, string>, v: number): string | number => names[v] ?? v;

/** An enum's number from its proto3 JSON name. */
export function enumValue(values: Record<string, number>, name: string): number {
  const v = values[name];
  if (v === undefined) throw new TypeError(`"${name}" is not a value of the enum`);
  return v;
}

export function durationJson(r: ProtoReader, end: number): string {
  let seconds = 0n;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 8) seconds = BigInt.asIntN(64, r.varint64());
    else if (t === 16) nanos = r.int32();
    else r.skip(t & 7);
  }
  const frac = nanos ? `.${String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${seconds < 0n || nanos < 0 ? '-' : ''}${seconds < 0n ? -seconds : seconds}${frac}s`;
}

export function timestampJson(r: ProtoReader, end: number): string {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 8) seconds = Number(BigInt.asIntN(64, r.varint64()));
    else if (t === 16) nanos = r.int32();
    else r.skip(t & 7);
  }
  return new Date(seconds * 1000 + nanos / 1e6).toISOString();
}

/** A wrapper (google.protobuf.UInt32Value …): its `value` field (tag 8, 9, 10, 13 or 18 by type), or its default. */
export function wrapperJson<T>(r: ProtoReader, end: number, tag: number, read: (r: ProtoReader) => T, dflt: T): T {
  let v = dflt;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag) v = read(r);
    else r.skip(t & 7);
  }
  return v;
}

export function structJson(r: ProtoReader, end: number): Json {
  const out: Json = {};
  while (r.pos < end) {
    const t = r.uint32();
    if (t !== 10) {
      r.skip(t & 7);
      continue;
    }
    const entryEnd = r.end();
    let key = '';
    let value: unknown = null;
    while (r.pos < entryEnd) {
      const e = r.uint32();
      if (e === 10) key = r.string();
      else if (e === 18) value = valueJson(r, r.end());
      else r.skip(e & 7);
    }
    out[key] = value;
  }
  return out;
}

export function valueJson(r: ProtoReader, end: number): unknown {
  let v: unknown = null;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case 8:
        r.uint32();
        v = null;
        break;
      case 17:
        v = r.double();
        break;
      case 26:
        v = r.string();
        break;
      case 32:
        v = r.bool();
        break;
      case 42:
        v = structJson(r, r.end());
        break;
      case 50:
        v = listJson(r, r.end());
        break;
      default:
        r.skip(t & 7);
    }
  }
  return v;
}

export function listJson(r: ProtoReader, end: number): unknown[] {
  const out: unknown[] = [];
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 10) out.push(valueJson(r, r.end()));
    else r.skip(t & 7);
  }
  return out;
}

export function emptyJson(r: ProtoReader, end: number): Json {
  r.pos = end;
  return {};
}

/** The types whose proto3 JSON is not an object of their fields: inside an Any they sit under "value". */
export type SpecialDecoder = (r: ProtoReader, end: number) => unknown;

/**
 * google.protobuf.Any → `{"@type", ...fields}` (`{"@type", value}` for the special well-known types), or the bytes in
 * base64 under "value" when the type is not one the codec has.
 */
export function anyJson(r: ProtoReader, end: number, messages: Record<string, Decoder>, special: Record<string, SpecialDecoder>): Json {
  let typeUrl = '';
  let value: Buffer = Buffer.alloc(0);
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 10) typeUrl = r.string();
    else if (t === 18) value = r.rawBytes();
    else r.skip(t & 7);
  }
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const inner = new ProtoReader(value);
  const s = special[name];
  if (s) return { '@type': typeUrl, value: s(inner, value.length) };
  const m = messages[name];
  if (!m) return { '@type': typeUrl, value: value.toString('base64') };
  return { '@type': typeUrl, ...m(inner, value.length) };
}

// ---------------------------------------------------------------- well-known types, encoding from proto3 JSON

export function encodeDuration(w: ProtoWriter, v: unknown): void {
  let seconds: string | number;
  let nanos: number;
  if (typeof v === 'string') {
    const d = parseProtoDuration(v);
    if (!d) throw new TypeError(`"${v}" is not a proto3 duration such as "1.5s"`);
    ({ seconds, nanos } = d);
  } else {
    const o = v as { seconds?: string | number; nanos?: number };
    seconds = o.seconds ?? 0;
    nanos = o.nanos ?? 0;
  }
  if (BigInt(seconds) !== 0n) {
    w.uint32(8);
    w.int64(seconds);
  }
  if (nanos) {
    w.uint32(16);
    w.int32(nanos);
  }
}

export function encodeStruct(w: ProtoWriter, v: unknown): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('a Struct must be a JSON object');
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    w.uint32(10);
    w.fork();
    w.uint32(10);
    w.string(k);
    w.uint32(18);
    w.fork();
    encodeValue(w, x);
    w.ldelim();
    w.ldelim();
  }
}

export function encodeValue(w: ProtoWriter, x: unknown): void {
  if (x === null || x === undefined) {
    w.uint32(8);
    w.uint32(0);
  } else if (typeof x === 'number') {
    w.uint32(17);
    w.double(x);
  } else if (typeof x === 'string') {
    w.uint32(26);
    w.string(x);
  } else if (typeof x === 'boolean') {
    w.uint32(32);
    w.bool(x);
  } else if (Array.isArray(x)) {
    w.uint32(50);
    w.fork();
    for (const item of x) {
      w.uint32(10);
      w.fork();
      encodeValue(w, item);
      w.ldelim();
    }
    w.ldelim();
  } else {
    w.uint32(42);
    w.fork();
    encodeStruct(w, x);
    w.ldelim();
  }
}

/** google.protobuf.Any from `{"@type", ...fields}`: the type must be one the codec encodes. */
export function encodeAny(w: ProtoWriter, v: Json, encoders: Record<string, Encoder>): void {
  const typeUrl = v['@type'];
  if (typeof typeUrl !== 'string' || !typeUrl) throw new TypeError('an Any needs "@type"');
  const enc = encoders[typeUrl.slice(typeUrl.lastIndexOf('/') + 1)];
  if (!enc) throw new TypeError(`the sidecar codec cannot encode ${typeUrl}`);
  w.uint32(10);
  w.string(typeUrl);
  w.uint32(18);
  w.fork();
  const body = { ...v };
  delete body['@type'];
  enc(w, body);
  w.ldelim();
}
