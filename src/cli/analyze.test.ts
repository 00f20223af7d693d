// End-to-end tests of `trellis analyze` as a user runs it: the real bin script, exit codes, formats, stdin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { istioSamplesDir } from '../samples.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = `${root}bin/trellis.js`;
const samples = istioSamplesDir();

function trellis(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bookinfoFiles = [`${samples}/bookinfo/platform/kube/bookinfo.yaml`, `${samples}/bookinfo/networking/bookinfo-gateway.yaml`, `${samples}/bookinfo/networking/destination-rule-all.yaml`];

test('the upstream Bookinfo sample analyzes clean as trellis up runs it (--local), exit status 0', () => {
  const r = trellis(['analyze', '--local', ...bookinfoFiles, '--output-threshold', 'Error']);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /No validation issues found/);
  assert.equal(r.code, 0);
});

test('by default it answers as istioctl: subsets of versions bookinfo.yaml does not deploy are IST0173 Errors (exit 79)', () => {
  const r = trellis(['analyze', '-o', 'json', ...bookinfoFiles]);
  assert.equal(r.code, 79);
  const records = JSON.parse(r.stdout) as Array<{ code: string; level: string; resource: { name: string }; analyzer: string }>;
  assert.deepEqual(
    records.filter((x) => x.level === 'Error').map((x) => `${x.code} ${x.resource.name} ${x.analyzer}`),
    ['IST0173 ratings destinationrule.SubsetSelectPodAnalyzer', 'IST0173 ratings destinationrule.SubsetSelectPodAnalyzer', 'IST0173 ratings destinationrule.SubsetSelectPodAnalyzer', 'IST0173 details destinationrule.SubsetSelectPodAnalyzer'],
  );
});

test('the gateway a Gateway selects: istioctl\'s default one by default, Trellis\'s own with --local, none with the ingress controller off', () => {
  const gateway = 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: web}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ["*"]\n';
  const codes = (args: string[]) => (JSON.parse(trellis(['analyze', '-', '-o', 'json', ...args], gateway).stdout) as Array<{ code: string; line: number; analyzer: string }>).map((x) => `${x.code}:${x.line} ${x.analyzer}`);
  // istioctl's files-only default gateway Service has ports 80, 443, 31400 and 15443; Trellis's own listens on 8080.
  assert.deepEqual(codes([]), ['IST0162:7 gateway.IngressGatewayPortAnalyzer']);
  assert.deepEqual(codes(['--local']), []);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-analyze-'));
  try {
    const mesh = join(dir, 'mesh.yaml');
    writeFileSync(mesh, 'ingressControllerMode: "OFF"\n');
    // The mesh config file feeds the one mesh model: with the ingress controller off, istioctl assumes no gateway.
    assert.deepEqual(codes(['--meshConfigFile', mesh]), ['IST0101:5 gateway.IngressGatewayPortAnalyzer']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const missing = trellis(['analyze', '-', '-o', 'json', '--meshConfigFile', 'no/such/mesh.yaml'], gateway);
  assert.equal(missing.code, 79);
  assert.deepEqual((JSON.parse(missing.stdout) as Array<{ code: string; file: string }>).filter((x) => x.code === 'TRL0001').map((x) => x.file), ['no/such/mesh.yaml']);
});

test('malformed YAML from stdin: one located message, exit 79, no stack trace', () => {
  const r = trellis(['analyze', '-'], 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n');
  assert.equal(r.code, 79);
  assert.match(r.stdout, /^Error \[TRL0002\] \(<stdin>:\d+:\d+\) invalid YAML/);
  assert.doesNotMatch(r.stdout + r.stderr, /at .*\.js:\d+/);
});

test('a missing file is named; JSON output is a list of records', () => {
  const r = trellis(['analyze', 'no/such/file.yaml', '-o', 'json']);
  assert.equal(r.code, 79);
  const out = JSON.parse(r.stdout);
  assert.equal(out.length, 1);
  assert.equal(out[0].code, 'TRL0001');
  assert.equal(out[0].file, 'no/such/file.yaml');
});

test('thresholds and suppressions decide what is shown and the exit status', () => {
  const widget = 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n';
  const info = trellis(['analyze', '-', '-o', 'json'], widget);
  assert.equal(info.code, 0, 'an Info message does not fail by default');
  assert.equal(JSON.parse(info.stdout)[0].code, 'TRL0004');
  assert.equal(trellis(['analyze', '-', '--failure-threshold', 'Info'], widget).code, 79);
  const hidden = trellis(['analyze', '-', '-o', 'json', '--output-threshold', 'Warning'], widget);
  assert.deepEqual(JSON.parse(hidden.stdout), []);
  const suppressed = trellis(['analyze', '-', '-o', 'json', '--failure-threshold', 'Info', '-S', 'TRL0004=Widget default/*'], widget);
  assert.deepEqual(JSON.parse(suppressed.stdout), []);
  assert.equal(suppressed.code, 0);
});

test('usage errors exit 2 with the usage text', () => {
  const r = trellis(['analyze', '-o', 'xml', 'x.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--output must be text, json or yaml/);
  assert.match(r.stderr, /Usage: trellis analyze/);
  assert.equal(trellis(['analyze']).code, 2);
  assert.equal(trellis(['nonsense']).code, 2);
});
