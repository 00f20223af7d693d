// Tests of YAML loading: multi-document files, positions of every field, defaults, Lists, and clear load errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDocumentFile, loadDocumentText, loadPaths, loadText } from './loader.js';
import { positionOf } from './resource.js';
import { resolveHost } from './hosts.js';

const VS = `# leading comment
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: bookinfo
  labels: {app: reviews, version: 1}
spec:
  ports: [{port: 9080, name: http}]
`;

test('multi-document text becomes typed resources with group, version and defaults', () => {
  const { resources, errors } = loadText(VS, 'vs.yaml');
  assert.deepEqual(errors, []);
  assert.equal(resources.length, 2);
  const [vs, svc] = resources;
  assert.equal(vs!.group, 'networking.istio.io');
  assert.equal(vs!.version, 'v1beta1');
  assert.equal(vs!.kind, 'VirtualService');
  assert.equal(vs!.metadata.namespace, 'default', 'namespace defaults to default');
  assert.equal(svc!.group, '');
  assert.equal(svc!.metadata.namespace, 'bookinfo');
  assert.deepEqual(svc!.metadata.labels, { app: 'reviews', version: '1' }, 'label values are strings');
});

test('every field keeps its file, line and column', () => {
  const [vs, svc] = loadText(VS, 'vs.yaml').resources;
  assert.equal(vs!.source!.file, 'vs.yaml');
  assert.deepEqual(vs!.source!.position, { line: 2, column: 1 });
  assert.deepEqual(positionOf(vs!, '/spec/http/0/route/0/destination/host'), { line: 12, column: 9 });
  assert.deepEqual(positionOf(vs!, '/spec/hosts/0'), { line: 8, column: 5 });
  assert.deepEqual(positionOf(vs!, '/spec/http/0/route/0/destination/port'), { line: 11, column: 7 }, 'a missing field falls back to its parent');
  assert.deepEqual(positionOf(svc!, '/spec/ports/0/port'), { line: 22, column: 12 });
  assert.equal(svc!.source!.documentIndex, 1);
});

test('a namespace can be given for objects that name none; cluster-scoped kinds have none', () => {
  const { resources } = loadText('apiVersion: v1\nkind: Namespace\nmetadata: {name: bookinfo}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', 'x.yaml', { defaultNamespace: 'prod' });
  assert.equal(resources[0]!.metadata.namespace, '');
  assert.equal(resources[1]!.metadata.namespace, 'prod');
});

test('kind: List is expanded with positions rebased on each item', () => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    name: b\n';
  const { resources, errors } = loadText(text, 'list.yaml');
  assert.deepEqual(errors, []);
  assert.deepEqual(resources.map((r) => r.metadata.name), ['a', 'b']);
  assert.deepEqual(positionOf(resources[1]!, '/metadata/name'), { line: 11, column: 5 });
});

test('unknown kinds are kept, not dropped', () => {
  const { resources } = loadText('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n', 'w.yaml');
  assert.equal(resources.length, 1);
  assert.equal(resources[0]!.kind, 'Widget');
  assert.deepEqual(resources[0]!.spec, { size: 3 });
});

test('malformed YAML, non-objects and objects without apiVersion/kind/name give one located error each', () => {
  const bad = loadText('apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n', 'bad.yaml');
  assert.equal(bad.resources.length, 0);
  assert.equal(bad.errors.length >= 1, true);
  assert.equal(bad.errors[0]!.code, 'YAMLSyntax');
  assert.equal(bad.errors[0]!.file, 'bad.yaml');
  assert.ok(bad.errors[0]!.line >= 4, `line ${bad.errors[0]!.line}`);

  const dup = loadText('a: 1\na: 2\n', 'dup.yaml');
  assert.equal(dup.errors[0]!.code, 'YAMLSyntax');
  assert.match(dup.errors[0]!.message, /unique/i);

  const notObj = loadText('---\n- 1\n- 2\n', 'seq.yaml');
  assert.deepEqual(notObj.errors.map((e) => [e.code, e.line]), [['NotAnObject', 2]]);

  const noKind = loadText('apiVersion: v1\nmetadata: {name: x}\n', 'nokind.yaml');
  assert.equal(noKind.errors[0]!.code, 'MissingField');
  assert.match(noKind.errors[0]!.message, /"kind"/);

  const noName = loadText('apiVersion: v1\nkind: Service\nmetadata:\n  labels: {}\n', 'noname.yaml');
  assert.match(noName.errors[0]!.message, /metadata\.name/);
  assert.equal(noName.errors[0]!.line, 3);

  assert.deepEqual(loadText('', 'empty.yaml'), { resources: [], errors: [] });
  assert.deepEqual(loadText('---\n---\n', 'empty.yaml'), { resources: [], errors: [] });
});

test('directories are read recursively in name order; missing paths are reported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-loader-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n');
    await writeFile(join(dir, 'a.yml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n');
    await writeFile(join(dir, 'sub', 'c.json'), '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"c"}}');
    await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
    const { resources, errors } = await loadPaths([dir, join(dir, 'missing.yaml')]);
    assert.deepEqual(resources.map((r) => r.metadata.name), ['a', 'b', 'c']);
    assert.deepEqual(errors.map((e) => e.code), ['FileNotFound']);
    assert.equal(errors[0]!.file, join(dir, 'missing.yaml'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('short hosts resolve in the config namespace as Istio does', () => {
  assert.equal(resolveHost('reviews', 'default'), 'reviews.default.svc.cluster.local');
  assert.equal(resolveHost('reviews', 'bookinfo', 'example.org'), 'reviews.bookinfo.svc.example.org');
  assert.equal(resolveHost('reviews.default', 'x'), 'reviews.default', 'a name with a dot is taken as written');
  assert.equal(resolveHost('*.example.com', 'x'), '*.example.com');
  assert.equal(resolveHost('*', 'x'), '*');
  assert.equal(resolveHost('10.0.0.1', 'x'), '10.0.0.1');
});

test('a document that is not a Kubernetes object (a mesh config file) loads as a resource of the given identity, every field located', async () => {
  const identity = { apiVersion: 'v1alpha1', kind: 'MeshConfig', namespace: 'istio-system', name: 'meshconfig' };
  const { resource, errors } = loadDocumentText('# mesh\nrootNamespace: mesh-root\ndefaultConfig:\n  concurrency: 2\n', 'mesh.yaml', identity);
  assert.deepEqual(errors, []);
  assert.deepEqual([resource!.kind, resource!.metadata.namespace, resource!.metadata.name], ['MeshConfig', 'istio-system', 'meshconfig']);
  assert.deepEqual(resource!.raw, { rootNamespace: 'mesh-root', defaultConfig: { concurrency: 2 } });
  assert.deepEqual(positionOf(resource!, '/defaultConfig/concurrency'), { line: 4, column: 3 });
  assert.deepEqual(loadDocumentText('', 'empty.yaml', identity).resource!.raw, {}, 'an empty file is an empty mapping');
  assert.deepEqual(loadDocumentText('- a\n', 'list.yaml', identity).errors.map((e) => [e.code, e.line]), [['NotAnObject', 1]]);
  assert.deepEqual(loadDocumentText('a: [\n', 'bad.yaml', identity).errors.map((e) => e.code), ['YAMLSyntax']);
  assert.deepEqual(loadDocumentText('a: 1\n---\nb: 2\n', 'two.yaml', identity).errors.map((e) => [e.code, e.line]), [['NotAnObject', 3]]);
  assert.deepEqual((await loadDocumentFile('/nonexistent/mesh.yaml', identity)).errors.map((e) => e.code), ['FileNotFound']);
});
