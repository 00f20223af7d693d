// Istio's own analyzer test table (../shared/conformance/istio-analyzers, read in place): every case's files analyzed as
// `trellis analyze` does, the messages of the case's analyzer compared with Istio's expectation as a set of
// (code, kind, namespace, name). The score is printed; the build fails when it drops below the floor kept in
// test/fixtures/istio-analyzer-table.json (raise it as cases are fixed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { istioAnalyzerTableDir } from '../../samples.js';
import type { Diagnostic } from '../diagnostics.js';
import { analyzePaths } from './analyze-paths.js';
import type { Analyzer } from './analyzer.js';
import { ANALYZERS, OPTIONAL_ANALYZERS } from './registry.js';

interface Expected {
  code: string;
  level: string;
  kind: string;
  /** null when the input named none (the CLI's default namespace applies) or the resource is cluster-scoped. */
  namespace: string | null;
  name: string;
  clusterScoped: boolean;
}

interface Case {
  id: string;
  analyzer: string;
  plain: boolean;
  inputFiles: string[];
  meshConfigFile?: string;
  meshNetworksFile?: string;
  expected: Expected[];
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = istioAnalyzerTableDir();
const cases = (JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
const floor = JSON.parse(readFileSync(join(root, 'test/fixtures/istio-analyzer-table.json'), 'utf8')) as { floor: number };
const testdata = (f: string) => join(dir, 'testdata', f);
/** Trellis's analyzers by Istio's names, those istioctl never runs included (the table has a case for the alpha annotations one). */
const byName = new Map<string, Analyzer[]>();
for (const a of [...ANALYZERS, ...OPTIONAL_ANALYZERS]) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);

const key = (code: string, kind: string, namespace: string, name: string) => `${code} ${kind} ${namespace}/${name}`;
const expectedKeys = (c: Case) => new Set(c.expected.map((e) => key(e.code, e.kind, e.namespace ?? (e.clusterScoped ? '' : 'default'), e.name)));
/** The IST messages of the case's analyzer: Istio's harness runs that analyzer alone. */
const actualKeys = (c: Case, ds: readonly Pick<Diagnostic, 'code' | 'analyzer' | 'resource'>[]) =>
  new Set(ds.filter((d) => d.analyzer === c.analyzer && d.code.startsWith('IST') && d.resource).map((d) => key(d.code, d.resource!.kind, d.resource!.namespace, d.resource!.name)));
const sorted = (s: Set<string>) => [...s].sort();

/** The case's files through `trellis analyze`'s code path; `alone`: only the case's analyzer runs, as in Istio's harness. */
async function analyzeCase(c: Case, alone: boolean): Promise<Diagnostic[]> {
  const { diagnostics } = await analyzePaths(c.inputFiles.map(testdata), {
    meshConfigFile: c.meshConfigFile && testdata(c.meshConfigFile),
    meshNetworksFile: c.meshNetworksFile && testdata(c.meshNetworksFile),
    analyzers: alone ? (byName.get(c.analyzer) ?? []) : undefined,
  });
  return diagnostics;
}

test('the table holds what this test expects', () => {
  assert.ok(cases.length >= 100, `${cases.length} cases`);
  assert.equal(cases.filter((c) => c.plain).length, 98);
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'case ids are unique');
});

test("Istio's analyzer table: score at or above the recorded floor", async (t) => {
  const results = new Map<string, { ok: boolean; missing: string[]; extra: string[] }>();
  const positionless: string[] = [];
  for (const c of cases) {
    const ds = await analyzeCase(c, true);
    const want = expectedKeys(c);
    const got = actualKeys(c, ds);
    const missing = sorted(want).filter((k) => !got.has(k));
    const extra = sorted(got).filter((k) => !want.has(k));
    results.set(c.id, { ok: missing.length === 0 && extra.length === 0, missing, extra });
    for (const d of ds) if (d.resource && !(d.file && d.line && d.column)) positionless.push(`${c.id}: ${d.code} ${d.resource.kind} ${d.resource.name}`);
  }
  const plain = cases.filter((c) => c.plain);
  const other = cases.filter((c) => !c.plain);
  const passed = (list: Case[]) => list.filter((c) => results.get(c.id)!.ok).length;
  const score = passed(cases);
  const summary = `Istio analyzer table: ${passed(plain)}/${plain.length} plain cases, ${passed(other)}/${other.length} others (${score}/${cases.length}; floor ${floor.floor})`;
  t.diagnostic(summary);
  process.stdout.write(`# ${summary}\n`);
  for (const c of cases) {
    const r = results.get(c.id)!;
    if (!r.ok) t.diagnostic(`miss ${c.id} [${c.analyzer}]: missing ${JSON.stringify(r.missing)} extra ${JSON.stringify(r.extra)}`);
  }
  assert.deepEqual(positionless, [], 'every message about a resource has its file, line and column');
  assert.ok(score >= floor.floor, `${summary}: below the floor`);
});

test('trellis analyze -o json (the real CLI) answers as the in-process analysis on cases that need its defaults and flags', async () => {
  const bin = join(root, 'bin/trellis.js');
  for (const id of ['gatewaybadport', 'virtualservicegateways', 'telemetry-lightstep', 'unknown-service-registry-in-mesh-networks']) {
    const c = cases.find((x) => x.id === id)!;
    const args = [bin, 'analyze', '-o', 'json', ...c.inputFiles.map(testdata)];
    if (c.meshConfigFile) args.push('--meshConfigFile', testdata(c.meshConfigFile));
    if (c.meshNetworksFile) args.push('--meshNetworksFile', testdata(c.meshNetworksFile));
    const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
    assert.ok(run.status === 0 || run.status === 79, `${id}: exit ${run.status}: ${run.stderr}`);
    const records = JSON.parse(run.stdout) as Array<{ code: string; analyzer: string | null; resource: Diagnostic['resource'] | null; file: string | null; line: number | null }>;
    const got = actualKeys(c, records.map((r) => ({ code: r.code, analyzer: r.analyzer ?? undefined, resource: r.resource ?? undefined })));
    const inProcess = await analyzeCase(c, false);
    assert.deepEqual(sorted(got), sorted(actualKeys(c, inProcess)), `${id} through the CLI`);
    assert.deepEqual(records.map((r) => `${r.code} ${r.file}:${r.line}`), inProcess.map((d) => `${d.code} ${d.file ?? null}:${d.line ?? null}`), `${id}: every message, in order`);
  }
});
