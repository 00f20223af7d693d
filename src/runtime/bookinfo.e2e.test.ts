// Istio's Bookinfo tasks on `trellis up`, through real processes and sockets: upstream manifests unchanged, each
// routing sample copied into the running directory has the documented effect on real requests through the ingress.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { istioSamplesDir } from '../samples.js';
import { LocalMesh } from './local-mesh.js';

const SAMPLES = `${istioSamplesDir()}/bookinfo`;
let dir: string;
let mesh: LocalMesh;
const logs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-up-'));
  for (const f of ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml']) copyFileSync(`${SAMPLES}/${f}`, join(dir, f.split('/').pop()!));
  mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 30, prometheusPort: 0, scrapeInterval: '1s', log: (l) => logs.push(l) });
  await mesh.waitReady(60_000);
});

after(async () => {
  await mesh?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The reviews version that served one request of the productpage API, or `error <status>`. */
async function reviewsVersion(headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${mesh.ingressUrl}/api/v1/products/0/reviews`, { headers });
  const text = await res.text();
  if (res.status !== 200) return `error ${res.status}`;
  const body = JSON.parse(text) as { podname?: string };
  return /^reviews-(v\d)/.exec(body.podname ?? '')?.[1] ?? `unknown ${text.slice(0, 80)}`;
}

async function shares(n: number, headers?: Record<string, string>): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = await reviewsVersion(headers);
    seen[v] = (seen[v] ?? 0) + 1;
  }
  return seen;
}

/** Apply a routing sample the way the task does (kubectl apply): it replaces the previous task's file. */
function apply(sample: string, file = '10-task.yaml'): void {
  writeFileSync(join(dir, file), readFileSync(`${SAMPLES}/networking/${sample}`));
}

async function until(what: string, cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const onlyVersion = (v: string, headers?: Record<string, string>) => async () => {
  const s = await shares(12, headers);
  return s[v] === 12;
};

test('/productpage is served through the ingress gateway, with reviews from v1, v2 and v3 in turn', async () => {
  const page = await (await fetch(`${mesh.ingressUrl}/productpage`)).text();
  assert.match(page, /The Comedy of Errors/);
  assert.match(page, /Reviewer1/);
  const s = await shares(45);
  for (const v of ['v1', 'v2', 'v3']) assert.ok((s[v] ?? 0) >= 5, `${v} serves a share: ${JSON.stringify(s)}`);
});

test('virtual-service-all-v1 sends everything to v1; virtual-service-reviews-v3 to v3', async () => {
  apply('virtual-service-all-v1.yaml', '00-all-v1.yaml');
  await until('all v1', onlyVersion('v1'));
  apply('virtual-service-reviews-v3.yaml');
  await until('all v3', onlyVersion('v3'));
  const page = await (await fetch(`${mesh.ingressUrl}/productpage`)).text();
  assert.match(page, /color="red"|color:\s*red/, 'v3 shows red stars');
});

test('virtual-service-reviews-jason-v2-v3: jason gets v2 (header or login), everyone else v3', async () => {
  apply('virtual-service-reviews-jason-v2-v3.yaml');
  await until('jason on v2', onlyVersion('v2', { 'end-user': 'jason' }));
  assert.ok(await onlyVersion('v3')());
  // The login flow: productpage's session cookie makes it send end-user: jason itself.
  const login = await fetch(`${mesh.ingressUrl}/login`, { method: 'POST', body: new URLSearchParams({ username: 'jason', passwd: 'x' }), redirect: 'manual' });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await fetch(`${mesh.ingressUrl}/productpage`, { headers: { cookie } })).text();
  assert.match(page, /jason/);
  assert.match(page, /color="black"|color:\s*black/, 'jason sees v2: black stars');
});

test('weighted samples: 90-10, 80-20 and 50-v3 split traffic within statistical tolerance', async () => {
  const n = 200;
  for (const [sample, v1, v3key, expected] of [
    ['virtual-service-reviews-90-10.yaml', 'v1', 'v2', 0.1],
    ['virtual-service-reviews-80-20.yaml', 'v1', 'v2', 0.2],
    ['virtual-service-reviews-50-v3.yaml', 'v1', 'v3', 0.5],
  ] as const) {
    apply(sample);
    // Wait until the new split is in force (the minority version shows up, no stale third version remains).
    await until(`${sample} in force`, async () => {
      const s = await shares(30);
      return Object.keys(s).every((k) => k === v1 || k === v3key);
    });
    const s = await shares(n);
    const share = (s[v3key] ?? 0) / n;
    const sd = Math.sqrt((expected * (1 - expected)) / n);
    assert.ok(Math.abs(share - expected) <= 4 * sd, `${sample}: ${v3key} share ${share} not within 4σ (${(4 * sd).toFixed(3)}) of ${expected}: ${JSON.stringify(s)}`);
    assert.equal((s[v1] ?? 0) + (s[v3key] ?? 0), n, JSON.stringify(s));
  }
});

test('fault injection: ratings delay and abort for jason, details abort, as the Istio tasks describe', async () => {
  apply('virtual-service-reviews-test-v2.yaml', '10-task.yaml');
  apply('virtual-service-ratings-test-abort.yaml', '20-ratings.yaml');
  await until('ratings abort for jason', async () => /Ratings service is currently unavailable/.test(await (await fetch(`${mesh.ingressUrl}/productpage`, { headers: { 'end-user': 'jason' } })).text()));
  assert.doesNotMatch(await (await fetch(`${mesh.ingressUrl}/productpage`)).text(), /Ratings service is currently unavailable/);

  apply('virtual-service-ratings-test-delay.yaml', '20-ratings.yaml');
  // reviews v2 waits up to 10 s for ratings, productpage 3 s (twice) for reviews: the reviews section fails.
  await until('the delay shows', async () => /Sorry, product reviews are currently unavailable for this book\./.test(await (await fetch(`${mesh.ingressUrl}/productpage`, { headers: { 'end-user': 'jason' } })).text()), 30_000);
  unlinkSync(join(dir, '20-ratings.yaml'));

  apply('fault-injection-details-v1.yaml', '30-details.yaml');
  await until('details abort', async () => /Sorry, product details are currently unavailable for this book\./.test(await (await fetch(`${mesh.ingressUrl}/productpage`)).text()));
  unlinkSync(join(dir, '30-details.yaml'));
  await until('details back', async () => !/product details are currently unavailable/.test(await (await fetch(`${mesh.ingressUrl}/productpage`)).text()));
});

test('a request loop sees no failure while routing changes and while a reviews replica restarts', async () => {
  unlinkSync(join(dir, '10-task.yaml'));
  unlinkSync(join(dir, '00-all-v1.yaml'));
  await until('no routing rules', async () => {
    const s = await shares(30);
    return !!s.v1 && !!s.v2 && !!s.v3;
  });
  let running = true;
  const results: Record<string, number> = {};
  const loop = (async () => {
    while (running) {
      const v = await reviewsVersion();
      results[v] = (results[v] ?? 0) + 1;
    }
  })();
  const count = () => Object.values(results).reduce((a, b) => a + b, 0);
  const waitMore = async (n: number) => {
    const target = count() + n;
    await until(`${n} more requests`, async () => count() >= target);
  };
  await waitMore(20);
  apply('virtual-service-reviews-50-v3.yaml');
  await waitMore(40);
  apply('virtual-service-reviews-v3.yaml');
  await waitMore(40);
  unlinkSync(join(dir, '10-task.yaml'));
  await waitMore(20);
  // Kill reviews v1's app as a crash would: requests that meet it are retried on another host; the supervisor restarts it.
  const v1 = mesh.podPlans().find((p) => p.labels.app === 'reviews' && p.labels.version === 'v1')!;
  mesh.supervisor.kill(`${v1.name}/reviews`);
  await waitMore(60);
  await until('reviews v1 restarted', async () => mesh.supervisor.status().some((s) => s.name === `${v1.name}/reviews` && s.running && s.restarts >= 1));
  await waitMore(40);
  running = false;
  await loop;
  const failures = Object.entries(results).filter(([k]) => !/^v\d$/.test(k));
  assert.deepEqual(failures, [], `no failed requests: ${JSON.stringify(results)}`);
});

test("a real Prometheus scrapes Istio's standard metrics from every sidecar, the gateway and the control plane", async () => {
  const prom = mesh.prometheus!;
  type Row = { [label: string]: string | number; value: number };
  const rows = async (q: string): Promise<Row[]> => (await prom.query(q)).map((r) => ({ ...r.metric, value: Number(r.value[1]) }));
  // Server side (reporter=destination): reviews versions called by productpage, named through peer metadata.
  await until('destination-reported reviews traffic by version', async () => {
    const r = await rows('sum(istio_requests_total{reporter="destination",destination_service_name="reviews"}) by (destination_version, source_workload, source_app)');
    return ['v1', 'v2', 'v3'].every((v) => r.some((x) => x.destination_version === v && x.source_workload === 'productpage-v1' && x.source_app === 'productpage' && x.value > 0));
  }, 30_000);
  // Client side (reporter=source): the gateway calling productpage, and productpage calling reviews v3 with its labels.
  await until('source-reported traffic', async () => {
    const gw = await rows('sum(istio_requests_total{reporter="source",source_workload="istio-ingressgateway",destination_service_name="productpage"}) by (destination_workload, response_code)');
    const pp = await rows('sum(istio_requests_total{reporter="source",source_app="productpage",destination_app="reviews"}) by (destination_version, destination_service)');
    return gw.some((x) => x.destination_workload === 'productpage-v1' && x.response_code === '200') && pp.some((x) => x.destination_version === 'v3' && x.destination_service === 'reviews.default.svc.cluster.local');
  }, 30_000);
  // Histograms with Istio's buckets, and the fault injected earlier shows with its response flag.
  const buckets = await rows('count(istio_request_duration_milliseconds_bucket{reporter="destination",destination_app="ratings"}) by (le)');
  assert.ok(buckets.some((b) => b.le === '0.5') && buckets.some((b) => b.le === '3600000'), JSON.stringify(buckets.map((b) => b.le)));
  const faults = await rows('sum(istio_requests_total{reporter="source",destination_service_name="details",response_code="555"}) by (response_flags)');
  assert.ok(faults.some((f) => f.response_flags === 'FI'), JSON.stringify(faults));
  const pilot = await rows('pilot_xds');
  assert.ok(pilot.some((p) => p.value >= 7), JSON.stringify(pilot));
});
