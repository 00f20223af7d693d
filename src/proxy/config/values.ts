// Readers for proto3-JSON scalars (durations come from src/duration.ts): 64-bit integers as strings, enums by name or number, percentages.

import type { FractionalPercent, RuntimeFractionalPercent, Uint } from '../../xds/envoy/index.js';

/** A non-negative integer from a number or a numeric string (uint64 is a string in proto3 JSON). */
export function uint(v: Uint | undefined | null, dflt: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : dflt;
}

/** An enum given by name or by number, normalised to its name. */
export function enumName<T extends string>(v: T | number | undefined, names: readonly T[], dflt: T): T {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return names[v] ?? dflt;
  return (names as readonly string[]).includes(v) ? v : dflt;
}

const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };
const DENOMINATOR_BY_NUMBER = [100, 10_000, 1_000_000];

/**
 * A FractionalPercent as a probability in [0, 1]. An absent percentage is 0, as in Envoy (a default
 * message has numerator 0); the caller decides when absence means "always".
 */
export function fraction(p: FractionalPercent | undefined): number {
  if (!p) return 0;
  const num = uint(p.numerator, 0);
  const den = typeof p.denominator === 'number' ? DENOMINATOR_BY_NUMBER[p.denominator] ?? 100 : DENOMINATORS[p.denominator ?? 'HUNDRED'] ?? 100;
  return Math.min(1, num / den);
}

/** A RuntimeFractionalPercent (runtime keys are not supported: the default value applies). */
export function runtimeFraction(p: RuntimeFractionalPercent | undefined, whenAbsent: number): number {
  if (!p) return whenAbsent;
  return p.defaultValue ? fraction(p.defaultValue) : 0;
}

/** Draw against a probability; 1 and 0 are decided without a random number. */
export function sample(p: number): boolean {
  if (p >= 1) return true;
  if (p <= 0) return false;
  return Math.random() < p;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Escapes a JSON Pointer token. */
export function ptr(...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
