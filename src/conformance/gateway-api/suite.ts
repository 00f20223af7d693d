// The conformance suite's shape: tests named as upstream's (ShortName), the features each exercises, the GATEWAY-HTTP
// profile (core = Gateway, HTTPRoute, ReferenceGrant; every other feature is extended), a runner that applies each
// test's manifests, runs it and cleans up, and the score it prints.

import type { Harness } from './harness.js';

/** Feature names as the upstream suite spells them (its SupportX constants without the prefix). */
export type Feature = string;

/** The GATEWAY-HTTP profile's core features: a test that needs nothing else is a core test. */
export const CORE_FEATURES: ReadonlySet<Feature> = new Set(['Gateway', 'HTTPRoute', 'ReferenceGrant']);

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
  profile: 'core' | 'extended';
  /** The extended features it needs (none for core tests). */
  extended: Feature[];
  passed: boolean;
  error?: string;
  ms: number;
}

export const profileOf = (t: ConformanceTest): 'core' | 'extended' => (t.features.every((f) => CORE_FEATURES.has(f)) ? 'core' : 'extended');

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
  return { name: t.name, profile: profileOf(t), extended: t.features.filter((f) => !CORE_FEATURES.has(f)), passed: error === undefined, ...(error !== undefined ? { error } : {}), ms: Date.now() - started };
}

/** The score as `npm run conformance` prints it. */
export function scoreReport(results: readonly TestResult[]): string {
  const count = (profile: 'core' | 'extended') => {
    const all = results.filter((r) => r.profile === profile);
    return `${all.filter((r) => r.passed).length}/${all.length}`;
  };
  const lines = [`GATEWAY-HTTP profile (Gateway API conformance scenarios, run by Trellis)`, `  core:     ${count('core')} passed`, `  extended: ${count('extended')} passed`, ''];
  for (const r of results) {
    const tag = r.profile === 'core' ? 'core' : `extended: ${r.extended.join(', ')}`;
    lines.push(`  ${r.passed ? '✔' : '✘'} ${r.name} (${tag}) ${(r.ms / 1000).toFixed(1)} s${r.error ? `\n      ${r.error.split('\n')[0]}` : ''}`);
  }
  return lines.join('\n');
}
