// `trellis up` (LocalMesh) honours ProxyConfig: httpbin from Istio's samples, with the pod annotation
// `proxy.istio.io/config: {concurrency: 2}` added, gets a sidecar with two worker processes that serve its inbound
// traffic, while the sleep pod's sidecar stays one process (the default). The sleep pod's annotation turns delta xDS
// off (`proxyMetadata.ISTIO_DELTA_XDS: "false"`), so its sidecar speaks state of the world and httpbin's delta.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { istioSamplesDir } from '../samples.js';
import { LocalMesh } from './local-mesh.js';

let dir: string;
let mesh: LocalMesh | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-up-concurrency-'));
  const httpbin = readFileSync(`${istioSamplesDir()}/httpbin/httpbin.yaml`, 'utf8');
  // The only edit to the sample: the annotation on the pod template, as a user would add it.
  const annotated = httpbin.replace(/(  template:\n    metadata:\n)/, `$1      annotations:\n        proxy.istio.io/config: |\n          concurrency: 2\n`);
  assert.notEqual(annotated, httpbin, 'the sample still has the expected template layout');
  writeFileSync(join(dir, 'httpbin.yaml'), annotated);
  const sleep = readFileSync(`${istioSamplesDir()}/sleep/sleep.yaml`, 'utf8');
  const sotw = sleep.replace(/(  template:\n    metadata:\n)/, `$1      annotations:\n        proxy.istio.io/config: |\n          proxyMetadata:\n            ISTIO_DELTA_XDS: "false"\n`);
  assert.notEqual(sotw, sleep, 'the sleep sample still has the expected template layout');
  writeFileSync(join(dir, 'sleep.yaml'), sotw);
  mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 43, log: () => undefined });
  await mesh.waitReady(60_000);
});

after(async () => {
  await mesh?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function get(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout on ${host}:${port}${path}`)));
  });
}

interface Workers {
  concurrency: number;
  workers: Array<{ pid: number; downstreamRequests?: number }>;
}

test('a proxy.istio.io/config concurrency annotation gives the sidecar that many workers, all serving', async () => {
  const pods = mesh!.podPlans();
  const httpbin = pods.find((p) => p.name.startsWith('httpbin-'))!;
  const sleep = pods.find((p) => p.name.startsWith('sleep-'))!;
  assert.equal(httpbin.concurrency, 2);
  assert.equal(sleep.concurrency, undefined);
  const w = JSON.parse((await get(httpbin.podIP, 15000, '/workers')).body) as Workers;
  assert.equal(w.concurrency, 2);
  assert.equal(new Set(w.workers.map((x) => x.pid)).size, 2);
  // Each request on its own connection (PERMISSIVE inbound accepts plaintext): the kernel spreads them over both.
  const deadline = Date.now() + 20_000;
  let served: number[] = [];
  while (Date.now() < deadline) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => get(httpbin.podIP, httpbin.ports[0]!.containerPort, '/get')));
    for (const r of batch) assert.equal(r.status, 200, r.body.slice(0, 200));
    served = (JSON.parse((await get(httpbin.podIP, 15000, '/workers')).body) as Workers).workers.map((x) => x.downstreamRequests ?? 0);
    if (served.every((n) => n > 0)) break;
  }
  assert.ok(served.length === 2 && served.every((n) => n > 0), `both workers served requests: ${served.join(', ')}`);
  const one = await get(sleep.podIP, 15000, '/workers');
  assert.equal(one.status, 404, 'a single-process sidecar has no /workers page');
});

test('proxyMetadata.ISTIO_DELTA_XDS picks the xDS flavour: delta by default, state of the world when "false"', async () => {
  const pods = mesh!.podPlans();
  const httpbin = pods.find((p) => p.name.startsWith('httpbin-'))!;
  const sleep = pods.find((p) => p.name.startsWith('sleep-'))!;
  const syncz = JSON.parse((await get('127.0.0.1', mesh!.debugPort, '/debug/syncz')).body) as Array<{ id: string; mode: string; types: Array<{ state: string }> }>;
  const of = (pod: string) => syncz.find((p) => p.id.includes(`~${pod}.`));
  assert.equal(of(httpbin.name)?.mode, 'delta');
  assert.equal(of(sleep.name)?.mode, 'sotw');
  for (const p of [of(httpbin.name)!, of(sleep.name)!]) assert.ok(p.types.every((t) => t.state === 'SYNCED'), JSON.stringify(p.types));
});
