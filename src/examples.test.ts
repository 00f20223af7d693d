// examples/bookinfo, what `npm start` runs from any clone: `trellis analyze` finds nothing wrong with it alone or with
// any of its routing files; planned as the demo plans it, it gives the six pods of Istio's bookinfo.yaml under the same
// names; and Istio's routing files of the same names define the same objects, so either replaces the other.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { demoFiles } from './cli/commands/demo.js';
import { loadPaths } from './config/loader.js';
import { BOOKINFO_EXAMPLE } from './examples.js';
import { DEFAULT_IMAGE_MAP } from './runtime/image-map.js';
import { planPods } from './runtime/plan.js';
import { istioSamplesDir } from './samples.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const ours = demoFiles(BOOKINFO_EXAMPLE);

function analyze(files: string[]) {
  // The example is a directory for `trellis up`: analyzed as Trellis runs it (its gateway listens on 8080).
  const r = spawnSync(process.execPath, [join(root, 'bin/trellis.js'), 'analyze', '--local', '--output-threshold', 'Warning', ...files], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

async function planOf(files: string[]) {
  const { resources, errors } = await loadPaths(files);
  assert.deepEqual(errors, []);
  return planPods(resources, { imageMap: DEFAULT_IMAGE_MAP });
}

test('the demo starts from the manifests, the ingress Gateway and the DestinationRules, and suggests four routing files', () => {
  assert.deepEqual(ours.start.map((f) => basename(f)), ['bookinfo-gateway.yaml', 'bookinfo.yaml', 'destination-rule-all.yaml']);
  assert.equal(ours.routing.length, 4);
  assert.ok(ours.routing.every((f) => f.startsWith(join(BOOKINFO_EXAMPLE, 'routing'))));
});

test('trellis analyze --local: no error or warning in examples/bookinfo, alone or with each routing file', () => {
  for (const extra of [[], ...ours.routing.map((f) => [f])]) {
    const r = analyze([...ours.start, ...extra]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /No validation issues found when analyzing \d+ resources/, `${extra.join(' ')}\n${r.out}`);
  }
});

test("the demo's plan has Istio's six Bookinfo pods, with the names upstream's bookinfo.yaml gives them", async () => {
  const pods = await planOf(ours.start);
  assert.deepEqual(pods.map((p) => p.owner).sort(), ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
  assert.ok(pods.every((p) => p.meshed && p.ports.some((x) => x.containerPort === 9080)));
  const upstream = await planOf(demoFiles(join(istioSamplesDir(), 'bookinfo')).start);
  assert.deepEqual(pods.map((p) => p.name).sort(), upstream.map((p) => p.name).sort());
  assert.deepEqual(pods.map((p) => [p.name, p.labels, p.serviceAccount]).sort(), upstream.map((p) => [p.name, p.labels, p.serviceAccount]).sort());
});

test("Istio's routing file of the same name defines the same objects (and more only where ours leaves one out on purpose)", async () => {
  const upstream = demoFiles(join(istioSamplesDir(), 'bookinfo')).routing;
  assert.deepEqual(upstream.map((f) => basename(f)), ours.routing.map((f) => basename(f)));
  const keys = async (f: string) => (await loadPaths([f])).resources.map((r) => `${r.kind}/${r.metadata.name}`).sort();
  for (const [i, f] of ours.routing.entries()) {
    const theirs = await keys(upstream[i]!);
    // all-v1 leaves productpage's VirtualService out (IST0140: a subset route the ingress gateway would ignore)
    assert.deepEqual(theirs.filter((k) => !(basename(f) === 'virtual-service-all-v1.yaml' && k === 'VirtualService/productpage')), await keys(f), basename(f));
  }
});
