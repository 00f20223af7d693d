// The code catalogue: codes unique and well formed, each part in its own range, every TRL code that src/ mentions
// defined here, and the modules that report codes (analyzer messages, proxy replies, console API) taking them from here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Messages } from '../config/analysis/messages.js';
import { ApiError, ERRORS } from '../console/api/errors.js';
import { ConfigCode, LocalReply } from '../proxy/errors.js';
import { CATALOGUE, ConfigMessages, ConsoleApiCodes, lookupCode, PARTS, ProxyConfigCodes, ProxyReplyCodes, type Part } from './catalogue.js';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
/** Built, so that the scan of src/ below does not find it. */
const NOT_A_CODE = ['TRL', '9999'].join('');

/** Where each part's codes live: Istio's codes are config messages; Trellis's own use a range of numbers per part. */
const RANGES: Record<Part, { ist: boolean; trl: [number, number] }> = {
  config: { ist: true, trl: [1, 199] },
  'proxy-config': { ist: false, trl: [2000, 2099] },
  'proxy-reply': { ist: false, trl: [2100, 2199] },
  'console-api': { ist: false, trl: [3000, 3099] },
};

function inRange(code: string, part: Part): boolean {
  const r = RANGES[part];
  const n = Number(code.slice(3));
  return code.startsWith('IST') ? r.ist : n >= r.trl[0] && n <= r.trl[1];
}

test('every code is well formed, unique, in its part’s range, with a name and a meaning', () => {
  assert.ok(CATALOGUE.length > 100, `${CATALOGUE.length} codes`);
  const codes = new Set<string>();
  const names = new Set<string>();
  for (const e of CATALOGUE) {
    assert.match(e.code, /^(IST|TRL)\d{4}$/, e.code);
    assert.ok(inRange(e.code, e.part), `${e.code} is in the ${e.part} range`);
    assert.ok(!codes.has(e.code), `${e.code} is defined once`);
    assert.ok(!names.has(e.name), `${e.name} names one code`);
    codes.add(e.code);
    names.add(e.name);
    assert.match(e.name, /^[A-Za-z][A-Za-z0-9_]*$/, e.code);
    assert.ok(e.meaning.length > 10 && !e.meaning.includes('\n'), `${e.code} has a one-line meaning`);
    assert.equal(lookupCode(e.code.toLowerCase()), e);
  }
  assert.deepEqual(new Set(CATALOGUE.map((e) => e.part)), new Set(PARTS.map((p) => p.part)), 'every part has codes, every code a listed part');
  assert.equal(lookupCode(NOT_A_CODE), undefined);
});

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (/\.(ts|tsx|md)$/.test(d.name)) out.push(p);
  }
  return out;
}

test('every TRL code mentioned in src/ (code, tests, READMEs) is in the catalogue, and has four digits', async () => {
  const files = await sourceFiles(src);
  assert.ok(files.length > 200, `read ${files.length} files under src/`);
  const unknown: string[] = [];
  let seen = 0;
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/\bTRL\d+\b/g)) {
      seen++;
      if (!/^TRL\d{4}$/.test(m[0]) || !lookupCode(m[0])) unknown.push(`${path.relative(src, file)}: ${m[0]}`);
    }
  }
  assert.ok(seen > 100, `found ${seen} mentions`);
  assert.deepEqual(unknown, []);
});

test('the reporting modules take their codes from the catalogue, and cover it', () => {
  // Analyzer messages are the config part itself.
  assert.equal(Messages, ConfigMessages);
  assert.equal(Messages.ReferencedResourceNotFound.code, 'IST0101');
  assert.equal(Messages.ReferencedResourceNotFound.level, 'Error');

  // Proxy config codes: one per catalogue entry.
  assert.deepEqual(ConfigCode, Object.fromEntries(Object.values(ProxyConfigCodes).map((e) => [e.name, e.code])));

  // Local replies: every catalogue reply has Envoy's details here, with the catalogue's code and status.
  assert.deepEqual(Object.keys(LocalReply).sort(), Object.keys(ProxyReplyCodes).sort());
  for (const [name, r] of Object.entries(LocalReply)) {
    const e = ProxyReplyCodes[name as keyof typeof ProxyReplyCodes];
    assert.deepEqual([r.code, r.status], [e.code, e.status], name);
  }
  assert.equal(LocalReply.ExtAuthzDenied.code, 'TRL2130');

  // Console API: the JSON keeps the error name as `code` and adds the catalogue code as `trl`.
  assert.deepEqual(Object.keys(ERRORS).sort(), Object.keys(ConsoleApiCodes).sort());
  const e = new ApiError('VIEW_ONLY');
  assert.deepEqual(e.toJSON(), { error: { code: 'VIEW_ONLY', trl: 'TRL3003', message: ERRORS.VIEW_ONLY.message } });
  assert.equal(e.status, 403);
});

test('every config message is reported somewhere in the analysis, so `trellis analyze --list-codes` lists only codes it can report', async () => {
  const files = (await sourceFiles(path.join(src, 'config'))).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const used = new Set<string>();
  for (const file of files) for (const m of (await readFile(file, 'utf8')).matchAll(/\bMessages\.(\w+)/g)) used.add(m[1]!);
  assert.deepEqual(Object.keys(ConfigMessages).filter((name) => !used.has(name)), []);
  // Istio's code for a config message is Istio's: a retired one says since when, a Trellis one has none.
  for (const e of Object.values(ConfigMessages)) {
    const retired = (e as { retiredInIstio?: string }).retiredInIstio;
    if (retired !== undefined) assert.ok(e.code.startsWith('IST') && /^\d+\.\d+$/.test(retired), e.code);
  }
});
