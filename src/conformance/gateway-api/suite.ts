// The conformance suite's shape: tests named as upstream's (ShortName), the features each exercises, the profiles they
// count for (GATEWAY-HTTP: core = Gateway, HTTPRoute, ReferenceGrant; GATEWAY-GRPC: core = Gateway, GRPCRoute,
// ReferenceGrant; every other feature is extended), a runner that applies each test's manifests, runs it and cleans
// up, and the score it prints.

import type { Harness } from './harness.js';

/** Feature names as the upstream suite spells them (its SupportX constants without the prefix). */
export type Feature = string;

export type Profile = 'GATEWAY-HTTP' | 'GATEWAY-GRPC';

/** Each profile's core features: a test that needs nothing else is a core test of it. */
export const CORE_FEATURES: Readonly<Record<Profile, ReadonlySet<Feature>>> = {
  'GATEWAY-HTTP': new Set(['Gateway', 'HTTPRoute', 'ReferenceGrant']),
  'GATEWAY-GRPC': new Set(['Gateway', 'GRPCRoute', 'ReferenceGrant']),
};

/** The profile a test counts for: GATEWAY-GRPC when it exercises GRPCRoute, else GATEWAY-HTTP. */
export const profileOf = (t: { features: readonly Feature[] }): Profile => (t.features.includes('GRPCRoute') ? 'GATEWAY-GRPC' : 'GATEWAY-HTTP');

export interface ConformanceTest {
  /** Upstream's ShortName. */
  name: string;
  description: string;
  features: readonly Feature[];
  /** YAML applied before the test (as one file) and removed after it; a function when it needs the harness (Secrets). */
  manifests?: string | ((h: Harness) => string);
  run(h: Harness): Promise<void>;
}

export interface TestResult {
  name: string;
  profile: Profile;
  level: 'core' | 'extended';
  /** The extended features it needs (none for core tests). */
  extended: Feature[];
  passed: boolean;
  error?: string;
  ms: number;
}

export const levelOf = (t: ConformanceTest): 'core' | 'extended' => (t.features.every((f) => CORE_FEATURES[profileOf(t)].has(f)) ? 'core' : 'extended');

/** Runs one test: its manifests applied as a file, the test, the file removed (whatever happened). */
export async function runTest(h: Harness, t: ConformanceTest): Promise<TestResult> {
  const started = Date.now();
  const file = `tests-${t.name}`;
  let error: string | undefined;
  try {
    if (t.manifests) await h.apply(file, typeof t.manifests === 'string' ? t.manifests : t.manifests(h));
    await t.run(h);
  } catch (err) {
    error = (err as Error).message;
  } finally {
    if (t.manifests) await h.remove(file).catch((err: Error) => (error ??= `cleanup: ${err.message}`));
  }
  return { name: t.name, profile: profileOf(t), level: levelOf(t), extended: t.features.filter((f) => !CORE_FEATURES[profileOf(t)].has(f)), passed: error === undefined, ...(error !== undefined ? { error } : {}), ms: Date.now() - started };
}

/** The score as `npm run conformance` prints it: per profile, core and extended, then every test. */
export function scoreReport(results: readonly TestResult[]): string {
  const lines: string[] = [];
  for (const profile of ['GATEWAY-HTTP', 'GATEWAY-GRPC'] as const) {
    const mine = results.filter((r) => r.profile === profile);
    if (!mine.length) continue;
    const count = (level: 'core' | 'extended') => {
      const all = mine.filter((r) => r.level === level);
      return `${all.filter((r) => r.passed).length}/${all.length}`;
    };
    lines.push(`${profile} profile (Gateway API conformance scenarios, run by Trellis)`, `  core:     ${count('core')} passed`, `  extended: ${count('extended')} passed`, '');
    for (const r of mine) {
      const tag = r.level === 'core' ? 'core' : `extended: ${r.extended.join(', ')}`;
      lines.push(`  ${r.passed ? '✔' : '✘'} ${r.name} (${tag}) ${(r.ms / 1000).toFixed(1)} s${r.error ? `\n      ${r.error.split('\n')[0]}` : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}
