// Durations, one rule for the whole program: Istio's config takes Go's forms (`1m30s`, `1h0m0.5s`, `500ms`, `2.5us`),
// xDS carries proto3 JSON (`"90s"`, `"0.5s"`) or a {seconds, nanos} object; everything inside works in milliseconds.
// Validation, translation, the xDS codec and the proxy all read and write durations through this module.

const GO_UNIT_NS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, µs: 1_000n, μs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/**
 * Istio's duration syntax (Go's time.ParseDuration, as Istio's CRDs read it): one or more decimal numbers, each with
 * an optional fraction and a unit (`h`, `m`, `s`, `ms`, `us`/`µs`, `ns`). No sign: a negative duration is never valid
 * in Istio's config. `0` alone is accepted, as Go accepts it.
 */
export const ISTIO_DURATION = /^(?:0|(?:\d+(?:\.\d*)?|\.\d+)(?:h|m|s|ms|us|µs|μs|ns)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:h|m|s|ms|us|µs|μs|ns))*)$/;

const COMPONENT = /(\d*)(?:\.(\d*))?(h|ms|m|s|us|µs|μs|ns)/g;

/** Nanoseconds of a Go-form duration, exactly (BigInt: a component like `0.1s` is not a binary fraction). */
function goDurationNs(text: string): bigint | undefined {
  if (!ISTIO_DURATION.test(text)) return undefined;
  if (text === '0') return 0n;
  let total = 0n;
  for (const m of text.matchAll(COMPONENT)) {
    const unit = GO_UNIT_NS[m[3]!]!;
    const whole = BigInt(m[1] || '0');
    const frac = m[2] ?? '';
    // The fraction's contribution, truncated to whole nanoseconds as Go does.
    const fracNs = frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n;
    total += whole * unit + fracNs;
  }
  return total;
}

/** Milliseconds of a duration written in Istio's config (`1m30s` → 90000), or undefined when it is not one. */
export function istioDurationMs(text: string): number | undefined {
  const ns = goDurationNs(text.trim());
  return ns === undefined ? undefined : nsToMs(ns);
}

const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;

/** proto3 JSON of google.protobuf.Duration: `"1.5s"`, `"-0.001s"`, up to nine fractional digits. */
const PROTO_DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/** A Duration as seconds and nanoseconds (protobuf's own form; both carry the sign). */
export interface SecondsNanos {
  seconds: string;
  nanos: number;
}

/** proto3 JSON `"1.5s"` → {seconds: "1", nanos: 500000000}; undefined when malformed (the codec's reader). */
export function parseProtoDuration(text: string): SecondsNanos | undefined {
  const m = PROTO_DURATION.exec(text.trim());
  if (!m) return undefined;
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) : 0;
  return { seconds: (m[1] ?? '') + m[2], nanos: m[1] ? -nanos : nanos };
}

/** A Duration as xDS carries it: proto3 JSON text, or the {seconds, nanos} object a hand-written config may use. */
export type ProtoDuration = string | { seconds?: number | string; nanos?: number };

/** Milliseconds of an xDS Duration (`"1.5s"` or {seconds, nanos}); undefined when absent or malformed. */
export function protoDurationMs(d: ProtoDuration | undefined | null): number | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'string') {
    const p = parseProtoDuration(d);
    return p ? Number(p.seconds) * 1000 + p.nanos / 1e6 : undefined;
  }
  if (typeof d === 'object') {
    const s = Number(d.seconds ?? 0);
    const n = Number(d.nanos ?? 0);
    if (!Number.isFinite(s) || !Number.isFinite(n)) return undefined;
    return s * 1000 + n / 1e6;
  }
  return undefined;
}

/** True when an xDS Duration field is present but cannot be read. */
export function badProtoDuration(d: ProtoDuration | undefined | null): boolean {
  return d !== undefined && d !== null && protoDurationMs(d) === undefined;
}

/** Milliseconds → proto3 JSON (`90000` → `"90s"`, `0.5` → `"0.0005s"`), exact to the nanosecond, shortest form. */
export function msToProtoDuration(ms: number): string {
  const negative = ms < 0;
  const ns = BigInt(Math.round(Math.abs(ms) * 1e6));
  const seconds = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative && ns !== 0n ? '-' : ''}${seconds}${frac ? '.' + frac : ''}s`;
}

/** An Istio duration as proto3 JSON (`1m30s` → `"90s"`); undefined when absent or not a duration. */
export function istioToProtoDuration(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ns = goDurationNs(text.trim());
  if (ns === undefined) return undefined;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${ns / 1_000_000_000n}${frac ? '.' + frac : ''}s`;
}
