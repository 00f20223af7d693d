// Query-parameter parsing shared by the API handlers; bad input is a 400 with the parameter named.

import { GRAPH_TYPES, type GraphType } from '../graph/types.js';
import { ApiError } from './errors.js';

/** `60`, `60s`, `5m`, `1h` → seconds; bounded to [10 s, 7 d]. */
export function durationParam(q: URLSearchParams, name: string, fallback: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  const m = /^(\d+)(s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new ApiError('BAD_REQUEST', `${name}: expected a duration like 60s, 5m or 1h, got "${raw}"`);
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Math.min(Math.max(n, 10), 7 * 86400);
}

export function graphTypeParam(q: URLSearchParams): GraphType {
  const raw = q.get('graphType') ?? 'versionedApp';
  if (!(GRAPH_TYPES as readonly string[]).includes(raw)) throw new ApiError('BAD_REQUEST', `graphType: one of ${GRAPH_TYPES.join(', ')}`);
  return raw as GraphType;
}

export function listParam(q: URLSearchParams, name: string): string[] {
  return (q.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function boolParam(q: URLSearchParams, name: string, fallback: boolean): boolean {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  return raw === 'true' || raw === '1';
}

export function parseJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError('BAD_REQUEST', 'the body is not valid JSON');
  }
}
