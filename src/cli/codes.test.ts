// `trellis codes` and `trellis analyze --list-codes` as a user runs them: the real bin script, text and JSON.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CATALOGUE, PARTS } from '../errors/catalogue.js';
import type { CodeGroup } from './format/codes.js';

const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));

function trellis(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('trellis codes -o json: the whole catalogue, grouped by part in order', () => {
  const r = trellis(['codes', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const groups = JSON.parse(r.stdout) as CodeGroup[];
  assert.deepEqual(groups.map((g) => g.part), PARTS.map((p) => p.part));
  assert.deepEqual(groups.flatMap((g) => g.codes), JSON.parse(JSON.stringify(CATALOGUE)));
  for (const g of groups) assert.ok(g.codes.every((c) => c.part === g.part), g.part);
});

test('trellis codes: a heading per part and a line per code, with level or HTTP status', () => {
  const r = trellis(['codes']);
  assert.equal(r.code, 0, r.stderr);
  for (const p of PARTS) assert.ok(r.stdout.includes(`[${p.part}]\n`), p.part);
  const lines = r.stdout.split('\n').filter((l) => /^ {2}(IST|TRL)\d{4} /.test(l));
  assert.equal(lines.length, CATALOGUE.length);
  assert.match(r.stdout, /^ {2}IST0101 {2}Error {4}ReferencedResourceNotFound: /m);
  assert.match(r.stdout, /^ {2}TRL2001 {11}InvalidField: /m);
  assert.match(r.stdout, /^ {2}TRL2130 {2}403 {6}ExtAuthzDenied: /m);
  assert.match(r.stdout, /^ {2}TRL3003 {2}403 {6}VIEW_ONLY: /m);
});

test('trellis codes CODE|PART: only those; an unknown code exits 1 and says so', () => {
  const one = trellis(['codes', 'trl2001', 'console-api', '-o', 'json']);
  assert.equal(one.code, 0, one.stderr);
  const groups = JSON.parse(one.stdout) as CodeGroup[];
  assert.deepEqual(groups.map((g) => [g.part, g.codes.length]), [['proxy-config', 1], ['console-api', CATALOGUE.filter((e) => e.part === 'console-api').length]]);
  assert.equal(groups[0]!.codes[0]!.code, 'TRL2001');

  const unknown = trellis(['codes', 'IST9999']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not in the catalogue: IST9999/);
  assert.equal(trellis(['codes', '-o', 'yaml']).code, 2);
});

test('trellis analyze --list-codes: every config message with its level and whether Istio has it', () => {
  const r = trellis(['analyze', '--list-codes']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, CATALOGUE.filter((e) => e.part === 'config').length);
  assert.ok(lines.includes('TRL0001  Error    Trellis  ConfigFileNotFound: A path given to Trellis does not exist or cannot be read.'));
  assert.ok(lines.some((l) => l.startsWith('IST0101  Error    Istio    ReferencedResourceNotFound: ')));
  assert.ok(lines.some((l) => l.startsWith('IST0162  Warning  Istio    GatewayPortNotDefinedOnService: ')));
  assert.ok(lines.some((l) => l.startsWith('IST0117  Warning  retired  DeploymentRequiresServiceAssociated: ')));
  assert.ok(!lines.some((l) => l.startsWith('IST0104')), 'Istio retired IST0104 for IST0162, and so does Trellis');
  const others = CATALOGUE.filter((e) => e.part !== 'config').map((e) => e.code);
  assert.ok(!lines.some((l) => others.some((c) => l.startsWith(c))), 'the other parts are for trellis codes');

  const json = JSON.parse(trellis(['analyze', '--list-codes', '-o', 'json']).stdout) as Array<{ code: string; name: string; level: string; istio: string; meaning: string }>;
  assert.equal(json.length, lines.length);
  assert.equal(new Set(json.map((e) => e.code)).size, json.length, 'codes are unique');
  const subset = json.find((e) => e.code === 'IST0173')!;
  assert.deepEqual([subset.name, subset.level, subset.istio], ['DestinationRuleSubsetNotSelectPods', 'Error', 'current']);
  assert.equal(json.find((e) => e.code === 'TRL0101')?.istio, 'no');
});
