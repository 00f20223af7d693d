// The YAML mesh source over Bookinfo: inventory, validations at their lines, validated writes that touch only their document.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bookinfoConfigDir, BROKEN_VS_LINE, type ConfigDirFixture } from '../testing/fixtures.js';
import { wizardYaml } from '../wizards/routing.js';
import { subsetsFor } from '../wizards/rules.js';
import { fromSyncz, type SynczEntry } from './syncz.js';
import { documentSpans } from './yaml-documents.js';
import { YamlMeshSource } from './yaml-mesh-source.js';
import { OSSM_MULTITENANT_EXAMPLE } from '../../examples.js';

let fx: ConfigDirFixture;
let mesh: YamlMeshSource;

before(async () => {
  fx = await bookinfoConfigDir();
  mesh = new YamlMeshSource({ configDir: fx.dir, ...(fx.caRoot ? { caRootCertFile: fx.caRoot } : {}) });
});
after(() => fx.cleanup());

const VS = 'networking.istio.io';

/** Index of the document of `file` that contains `needle`. */
async function docOf(file: string, needle: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  return documentSpans(text).findIndex((s) => text.slice(s.start, s.end).includes(needle));
}

/** Every document of a file but one, to check that a write left them alone. */
async function otherDocuments(file: string, except: number): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return documentSpans(text).filter((_s, i) => i !== except).map((s) => text.slice(s.start, s.end));
}

test('inventory: Bookinfo workloads, apps with versions, services and the config with its findings', async () => {
  const inv = await mesh.inventory();
  assert.deepEqual(inv.namespaces.map((n) => n.name), ['default', 'istio-system']);
  const reviews = inv.apps.find((a) => a.name === 'reviews')!;
  assert.deepEqual(reviews.versions, ['v1', 'v2', 'v3']);
  assert.deepEqual(reviews.services, ['reviews']);
  const v2 = inv.workloads.find((w) => w.name === 'reviews-v2')!;
  assert.equal(v2.serviceAccount, 'bookinfo-reviews');
  assert.equal(v2.sidecar, true);
  assert.deepEqual(v2.services, ['reviews']);
  assert.deepEqual(inv.services.find((s) => s.name === 'reviews')!.workloads, ['reviews-v1', 'reviews-v2', 'reviews-v3']);
  const broken = inv.config.find((c) => c.name === 'reviews-canary')!;
  assert.equal(broken.status, 'Error');
  assert.deepEqual(broken.validations.map((v) => [v.code, v.line]), [['IST0101', BROKEN_VS_LINE]]);
  assert.equal(inv.config.find((c) => c.kind === 'VirtualService' && c.name === 'reviews')!.status, 'Valid');
});

test('configText: the document with its file line numbers, so findings land on the right line', async () => {
  const t = (await mesh.configText({ kind: 'VirtualService', group: VS, namespace: 'default', name: 'reviews-canary' }))!;
  assert.equal(t.firstLine, 1);
  assert.match(t.yaml.split('\n')[BROKEN_VS_LINE - t.firstLine]!, /subset: v9/);
  const r = (await mesh.configText({ kind: 'VirtualService', group: VS, namespace: 'default', name: 'reviews' }))!;
  assert.ok(r.firstLine > 1, 'a later document of a multi-document file');
  const file = (await readFile(r.file, 'utf8')).split('\n');
  assert.equal(file[r.firstLine - 1], r.yaml.split('\n')[0]);
});

test('control plane info: mesh settings from the istio ConfigMap, the CA root read from its PEM', async () => {
  const cp = await mesh.controlPlane();
  assert.equal(cp.mesh.minProtocolVersion, 'TLSV1_3');
  assert.equal(cp.mesh.trustDomain, 'cluster.local');
  assert.equal(cp.connectedProxies, 0);
  if (fx.caRoot) {
    assert.match(cp.caRoot!.subject, /CN=Trellis Root CA/);
    assert.ok(Date.parse(cp.caRoot!.notAfter) > Date.now());
  }
});

test('apply: the traffic-shifting wizard replaces the reviews VS and DR in place, other documents untouched', async () => {
  const inv = await mesh.inventory();
  const workloads = inv.workloads.filter((w) => w.app === 'reviews');
  const yaml = wizardYaml({ kind: 'traffic_shifting', namespace: 'default', service: 'reviews', subsets: subsetsFor(workloads), rules: [{ weights: [{ subset: 'v1', weight: 50 }, { subset: 'v2', weight: 0 }, { subset: 'v3', weight: 50 }] }] });
  const drFile = join(fx.dir, 'destination-rule-all.yaml');
  const drIndex = await docOf(drFile, 'name: reviews');
  const othersBefore = await otherDocuments(drFile, drIndex);
  const r = await mesh.apply(yaml);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.ok(r.ok);
  assert.deepEqual(r.applied.map((a) => [a.kind, a.name, a.created]), [['DestinationRule', 'reviews', false], ['VirtualService', 'reviews', false]]);
  assert.deepEqual(await otherDocuments(drFile, drIndex), othersBefore);
  const after = await mesh.inventory();
  const vs = after.config.find((c) => c.kind === 'VirtualService' && c.name === 'reviews')!;
  assert.equal(vs.status, 'Valid');
  const route = ((vs.object.spec as { http: Array<{ route: Array<{ destination: { subset: string }; weight: number }> }> }).http[0]!.route);
  assert.deepEqual(route.map((x) => [x.destination.subset, x.weight]), [['v1', 50], ['v3', 50]]);
  assert.equal((vs.object.metadata as { labels: Record<string, string> }).labels['kiali_wizard'], 'traffic_shifting');
});

test('apply: a new object gets a file of its own in the config directory', async () => {
  const r = await mesh.apply('apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n  name: details-pool\nspec:\n  host: details\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n', { namespace: 'default' });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.applied[0]!.created, true);
  assert.equal(r.applied[0]!.file, join(fx.dir, 'default-destinationrule-details-pool.yaml'));
  assert.match(await readFile(r.applied[0]!.file, 'utf8'), /LEAST_REQUEST/);
});

test('apply refuses errors with their codes and lines in the submitted text, and writes nothing', async () => {
  const before = await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8');
  const bad = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings\nspec:\n  hosts:\n  - ratings\n  http:\n  - route:\n    - destination:\n        host: ratings\n        subset: v1\n      weight: fifty\n';
  const r = await mesh.apply(bad);
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.equal(r.code, 'VALIDATION_FAILED');
  assert.ok(r.validations.some((v) => v.code === 'IST0106' && v.line === 13), JSON.stringify(r.validations));
  assert.equal(await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8'), before);

  const syntax = await mesh.apply('kind: VirtualService\nmetadata: [unclosed\n');
  assert.ok(!syntax.ok);
  assert.equal(syntax.code, 'INVALID_YAML');
  assert.equal(syntax.validations[0]!.code, 'TRL0002');

  const deployment = await mesh.apply('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec: {}\n');
  assert.ok(!deployment.ok);
  assert.equal(deployment.code, 'UNSUPPORTED');

  const renamed = await mesh.apply('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: other\nspec:\n  hosts: [other]\n', { namespace: 'default', replace: { kind: 'VirtualService', group: VS, namespace: 'default', name: 'ratings' } });
  assert.ok(!renamed.ok);
  assert.equal(renamed.code, 'NAME_MISMATCH');
});

test('replace: fixing the broken VirtualService clears its finding', async () => {
  const ref = { kind: 'VirtualService', group: VS, namespace: 'default', name: 'reviews-canary' };
  const t = (await mesh.configText(ref))!;
  const r = await mesh.apply(t.yaml.replace('subset: v9', 'subset: v3'), { namespace: 'default', replace: ref });
  assert.ok(r.ok, JSON.stringify(r));
  const c = (await mesh.inventory()).config.find((x) => x.name === 'reviews-canary')!;
  assert.equal(c.status, 'Valid');
  assert.match(await readFile(join(fx.dir, 'reviews-canary.yaml'), 'utf8'), /^# A canary route/);
});

test('annotate: sets and removes a pod-template annotation, leaving the other documents of bookinfo.yaml as they were', async () => {
  const file = join(fx.dir, 'bookinfo.yaml');
  const index = (await mesh.inventory()).workloads.find((w) => w.name === 'ratings-v1')!;
  assert.equal(index.sidecar, true);
  const docIndex = await docOf(file, 'name: ratings-v1');
  const others = await otherDocuments(file, docIndex);
  const r = await mesh.annotateWorkload('default', 'ratings-v1', { 'sidecar.istio.io/inject': 'false' });
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(await otherDocuments(file, docIndex), others);
  const w = (await mesh.inventory()).workloads.find((x) => x.name === 'ratings-v1')!;
  assert.equal(w.annotations['sidecar.istio.io/inject'], 'false');
  assert.equal(w.sidecar, false);
  assert.match(w.sidecarReason, /annotation/);
  const removed = await mesh.annotateWorkload('default', 'ratings-v1', { 'sidecar.istio.io/inject': null });
  assert.ok(removed.ok);
  assert.equal((await mesh.inventory()).workloads.find((x) => x.name === 'ratings-v1')!.annotations['sidecar.istio.io/inject'], undefined);
  assert.deepEqual(await otherDocuments(file, docIndex), others);

  const bad = await mesh.annotateWorkload('default', 'ratings-v1', { 'sidecar.istio.io/inject': 'maybe' });
  assert.ok(!bad.ok);
  assert.equal(bad.code, 'INVALID_ANNOTATION');
  const missing = await mesh.annotateWorkload('default', 'nope', { a: 'b' });
  assert.ok(!missing.ok);
  assert.equal(missing.code, 'NOT_FOUND');
});

/** A routing file as people write them: a header, a comment per document and per field, two documents. */
const COMMENTED = `# Ratings routing, owned by the ratings team.
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings # short name, resolved in default
  # one subset per deployed version
  subsets:
  - name: v1
    labels:
      version: v1
---
# Everything to v1 until v2 is tested.
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v1 # the only version
`;

test('apply (a wizard\'s update): only what differs changes; the document\'s comments and the other document stay', async () => {
  // The fixture's own ratings routing goes first (from multi-document files), so these are the only ones.
  const gone = await mesh.delete([{ kind: 'DestinationRule', group: VS, namespace: 'default', name: 'ratings' }, { kind: 'VirtualService', group: VS, namespace: 'default', name: 'ratings' }]);
  assert.ok(gone.ok, JSON.stringify(gone));
  assert.deepEqual(gone.applied.map((a) => [a.kind, a.file.split('/').pop()]), [['DestinationRule', 'destination-rule-all.yaml'], ['VirtualService', 'virtual-service-all-v1.yaml']]);
  const file = join(fx.dir, 'ratings-routing.yaml');
  await writeFile(file, COMMENTED);
  const yaml = wizardYaml({ kind: 'fault_injection', namespace: 'default', service: 'ratings', subsets: [{ name: 'v1', labels: { version: 'v1' } }], rules: [{ weights: [{ subset: 'v1', weight: 100 }], fault: { abort: { percent: 50, httpStatus: 503 } } }] });
  const r = await mesh.apply(yaml);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.applied.map((a) => [a.kind, a.file, a.created]), [['DestinationRule', file, false], ['VirtualService', file, false]]);
  const text = await readFile(file, 'utf8');
  for (const comment of ['# Ratings routing, owned by the ratings team.', '# one subset per deployed version', '# Everything to v1 until v2 is tested.']) assert.ok(text.includes(comment), `${comment} kept:\n${text}`);
  assert.match(text, /httpStatus: 503/);
  assert.match(text, /kiali_wizard: fault_injection/);
  const vs = (await mesh.inventory()).config.find((c) => c.kind === 'VirtualService' && c.name === 'ratings')!;
  assert.equal(vs.status, 'Valid');
  assert.deepEqual((vs.object.spec as { http: Array<{ fault: unknown }> }).http[0]!.fault, { abort: { percentage: { value: 50 }, httpStatus: 503 } });
});

test('edit: a change that breaks the VirtualService is refused with the analyzer\'s message, the file unchanged byte for byte; a valid one keeps the comments', async () => {
  const file = join(fx.dir, 'ratings-edit.yaml');
  // Its own host: two VirtualServices for ratings on the mesh would conflict (IST0109).
  await writeFile(file, COMMENTED.replace(/name: ratings/g, 'name: ratings-edit').replace('hosts:\n  - ratings', 'hosts:\n  - ratings-edit.example.com'));
  const ref = { kind: 'VirtualService', group: VS, namespace: 'default', name: 'ratings-edit' };
  const before = await readFile(file, 'utf8');
  const t = (await mesh.configText(ref))!;
  assert.match(t.yaml, /^# Everything to v1/);
  const broken = await mesh.apply(t.yaml.replace('subset: v1 # the only version', 'subset: v7 # the only version'), { namespace: 'default', replace: ref });
  assert.ok(!broken.ok);
  assert.equal(broken.code, 'VALIDATION_FAILED');
  const ist0101 = broken.validations.find((v) => v.code === 'IST0101');
  assert.ok(ist0101, JSON.stringify(broken.validations));
  assert.match(ist0101.message, /v7/);
  assert.equal(t.yaml.split('\n')[ist0101.line! - 1], '        subset: v1 # the only version', 'the line is the submitted text\'s');
  assert.equal(await readFile(file, 'utf8'), before);

  const edited = t.yaml.replace('hosts:\n  - ratings-edit.example.com', 'hosts:\n  - ratings-edit.example.com\n  - ratings.example.com');
  const dry = await mesh.apply(edited, { namespace: 'default', replace: ref, dryRun: true });
  assert.ok(dry.ok, JSON.stringify(dry));
  assert.deepEqual(dry.applied, []);
  assert.equal(await readFile(file, 'utf8'), before, 'a dry run writes nothing');

  const ok = await mesh.apply(edited, { namespace: 'default', replace: ref });
  assert.ok(ok.ok, JSON.stringify(ok));
  const after = await readFile(file, 'utf8');
  for (const comment of ['# Ratings routing, owned by the ratings team.', '# short name, resolved in default', '# Everything to v1 until v2 is tested.', '# the only version']) assert.ok(after.includes(comment), `${comment} kept`);
  assert.equal(after, before.replace('  - ratings-edit.example.com\n', '  - ratings-edit.example.com\n  - ratings.example.com\n'));
});

test('delete: one document goes, the others stay byte for byte; a file left empty is removed', async () => {
  const file = join(fx.dir, 'ratings-delete.yaml');
  await writeFile(file, COMMENTED.replace(/name: ratings/g, 'name: ratings-delete'));
  const dr = { kind: 'DestinationRule', group: VS, namespace: 'default', name: 'ratings-delete' };
  const vs = { kind: 'VirtualService', group: VS, namespace: 'default', name: 'ratings-delete' };
  const r = await mesh.delete([vs]);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.applied.map((a) => [a.kind, a.deleted]), [['VirtualService', true]]);
  const text = await readFile(file, 'utf8');
  assert.equal(text, COMMENTED.replace(/name: ratings/g, 'name: ratings-delete').split('---\n')[0]);
  assert.equal((await mesh.inventory()).config.some((c) => c.name === 'ratings-delete' && c.kind === 'VirtualService'), false);
  assert.ok(!(await mesh.delete([vs])).ok, 'gone');
  const last = await mesh.delete([dr]);
  assert.ok(last.ok);
  assert.equal(existsSync(file), false);
  const deployment = await mesh.delete([{ kind: 'Deployment', group: 'apps', namespace: 'default', name: 'ratings-v1' }]);
  assert.ok(!deployment.ok);
  assert.equal(deployment.code, 'UNSUPPORTED');
});

test('syncz: the ADS server view becomes proxy-status rows', () => {
  const entry = {
    id: 'sidecar~127.0.1.4~reviews-v1-5b9c7d4f8a-x2x9z.default~default.svc.cluster.local',
    connectionId: '1',
    mode: 'sotw',
    peer: '127.0.0.1:5000',
    connectedAt: '2024-01-01T00:00:00.000Z',
    identity: { role: 'sidecar', ip: '127.0.1.4', podName: 'reviews-v1-5b9c7d4f8a-x2x9z', namespace: 'default', domain: 'default.svc.cluster.local', labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews', generator: 'envoy', istioVersion: '1.16.0', clusterId: 'Kubernetes' },
    node: { id: 'x' },
    types: [
      { typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', subscribed: '*', versionSent: 'a', nonceSent: '1', versionAcked: 'a', resources: 3, state: 'SYNCED' },
      { typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener', subscribed: '*', versionSent: 'b', nonceSent: '2', versionAcked: '', resources: 3, state: 'NACK', nack: { version: 'b', message: 'bad listener', at: '' } },
    ],
  } as unknown as SynczEntry;
  const [p] = fromSyncz([entry]);
  assert.equal(p!.workload, 'reviews-v1');
  assert.deepEqual(p!.sync, { CDS: 'SYNCED', LDS: 'NACK', EDS: 'NOT SENT', RDS: 'NOT SENT' });
  assert.equal(p!.nackMessage, 'bad listener');
  assert.equal(p!.certificate!.identity, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
});

test('control planes: a multi-tenant ServiceMeshControlPlane, its members, and which namespaces get sidecars', async () => {
  const ossm = new YamlMeshSource({ configDir: OSSM_MULTITENANT_EXAMPLE });
  const inv = await ossm.inventory();
  const nsPlane = Object.fromEntries(inv.namespaces.map((n) => [n.name, n.controlPlane ?? null]));
  assert.deepEqual(nsPlane, { backend: 'istio-system/basic', frontend: 'istio-system/basic', 'istio-system': 'istio-system/basic', outside: null });
  const sidecar = (ns: string) => inv.workloads.find((w) => w.namespace === ns)!;
  assert.equal(sidecar('frontend').sidecar, true);
  assert.match(sidecar('frontend').sidecarReason, /member of istio-system\/basic, pod annotation sidecar.istio.io\/inject=true/);
  assert.equal(sidecar('outside').sidecar, false);
  assert.match(sidecar('outside').sidecarReason, /not a member/);

  const cp = await ossm.controlPlane();
  assert.equal(cp.planes.length, 1);
  const [plane] = cp.planes;
  assert.equal(plane!.mode, 'MultiTenant');
  assert.equal(plane!.declared, true);
  assert.equal(plane!.version, 'v2.4');
  assert.deepEqual(plane!.members.map((m) => [m.namespace, m.state]), [['frontend', 'Configured'], ['backend', 'Configured']]);
  assert.equal(plane!.mesh.meshWideMtlsMode, 'STRICT', 'dataPlane.mtls: true is mesh-wide STRICT');
  assert.deepEqual(plane!.gateways, ['istio-ingressgateway'], 'the egress gateway is disabled');
  // No proxy is connected to a config directory, so the ingress gateway is not ready and the SMCP says so.
  const ready = plane!.conditions.find((c) => c.type === 'Ready')!;
  assert.equal(ready.status, 'False');
});
