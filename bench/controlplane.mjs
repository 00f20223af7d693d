// Control-plane benchmark: time from a config change to every connected (simulated) proxy having ACKed it, at
// several mesh sizes; the control plane's CPU and RSS meanwhile; and the time to generate one proxy's config.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AckClient } from './lib/ack-client.mjs';
import { cpuSeconds, rssMiB, start, stop, tempDir } from './lib/proc.mjs';
import { fmt, table } from './lib/table.mjs';
import { goalStatus, median, spread } from './lib/verdict.mjs';
import { goalTable } from './lib/dataplane-report.mjs';
import { loadText } from '../dist/config/loader.js';
import { ServiceRegistry } from '../dist/controlplane/registry/service-registry.js';
import { PushContext } from '../dist/controlplane/translate/push-context.js';
import { MeshConfigGenerator } from '../dist/controlplane/translate/generator.js';
import { TypeUrl } from '../dist/xds/resource.js';

const BIN = fileURLToPath(new URL('../bin/trellis.js', import.meta.url));

function meshYaml(services) {
  const docs = [];
  for (let i = 0; i < services; i++) {
    const ip = `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}}\nspec: {selector: {app: svc-${i}}, ports: [{name: http, port: 8080}]}`);
    docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: svc-${i}-pod, labels: {app: svc-${i}, version: v1}}\nspec: {containers: [{name: app, image: app}]}\nstatus: {podIP: "${ip}"}`);
  }
  return docs.join('\n---\n') + '\n';
}

/** The change measured: a DestinationRule that adds a subset cluster to every proxy's CDS. */
const change = (n) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: svc-0}\nspec:\n  host: svc-0\n  subsets:\n${Array.from({ length: n }, (_, i) => `  - {name: s${i}, labels: {version: v1}}`).join('\n')}\n`;

async function waitAll(clients, cond, ms) {
  const deadline = performance.now() + ms;
  while (!clients.every(cond)) {
    if (performance.now() > deadline) throw new Error('proxies did not converge in time');
    await new Promise((r) => setImmediate(r));
  }
}

async function one(services, proxies, mode, changes) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-cp-'));
  const removeDir = tempDir(dir);
  writeFileSync(join(dir, 'mesh.yaml'), meshYaml(services));
  const cp = await start(process.execPath, [BIN, 'controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0'], { ready: /xDS on [^:]+:(\d+)/ });
  const address = `127.0.0.1:${cp.match[1]}`;
  const clients = [];
  try {
    for (let i = 0; i < proxies; i++) {
      // Replicas of 20 client deployments, as pods are named (`client-7-5d8f9c7b6d-x2k4q`).
      const c = new AckClient(address, `sidecar~10.200.${i >> 8}.${i & 255}~client-${i % 20}-5d8f9c7b6d-${String(i).padStart(5, 'a')}.default~default.svc.cluster.local`, mode);
      c.start();
      clients.push(c);
    }
    const base = services * 1 + 2; // one cluster per service port, plus BlackHole and Passthrough
    // Generous deadlines: a converge that times out is a FAILED row with the reason, not a figure.
    const deadline = 60_000 + proxies * 200;
    await waitAll(clients, (c) => c.counts[TypeUrl.Cluster] >= base && c.counts[TypeUrl.Listener] >= 1, deadline);
    for (const c of clients) {
      c.subscribe(TypeUrl.RouteConfiguration, ['8080']);
    }
    await waitAll(clients, (c) => c.counts[TypeUrl.RouteConfiguration] === 1, deadline);
    const rounds = [];
    for (let round = 1; round <= changes; round++) {
      const cpu0 = cpuSeconds(cp.child.pid);
      const t0 = performance.now();
      writeFileSync(join(dir, 'change.yaml'), change(round));
      await waitAll(clients, (c) => c.counts[TypeUrl.Cluster] === base + round && c.acks[TypeUrl.Cluster] >= t0, deadline);
      const converged = Math.max(...clients.map((c) => c.acks[TypeUrl.Cluster])) - t0;
      rounds.push({ ms: converged, cpu: cpuSeconds(cp.child.pid) - cpu0 });
    }
    return { ms: spread(rounds.map((r) => r.ms)), cpu: spread(rounds.map((r) => r.cpu)).median, rss: rssMiB(cp.child.pid) };
  } finally {
    for (const c of clients) c.close();
    await stop(cp.child);
    removeDir();
  }
}

function generationMs(services) {
  const { resources } = loadText(meshYaml(services), 'bench.yaml');
  const registry = new ServiceRegistry();
  registry.setResources(resources);
  const push = new PushContext(resources, registry.snapshot());
  const node = { id: 'sidecar~10.9.9.9~client-0.default~default.svc.cluster.local', cluster: 'x', metadata: { NAMESPACE: 'default' } };
  new MeshConfigGenerator(push).generate(node); // warm the JIT
  const times = [];
  for (let i = 0; i < 5; i++) {
    // A fresh generator each time: the cost of the first proxy of its shape, before the per-shape cache helps.
    const gen = new MeshConfigGenerator(push);
    const t0 = performance.now();
    gen.generate(node);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** The delta goal: a change reaches 500 proxies at 1,000 services in ≤ 0.5 s (issue 19; 1 s before). */
const CONVERGE_GOAL_MS = 500;

/**
 * Every size of `o.services` × `o.proxies` over delta (and SotW beside it at the largest proxy count), plus `o.extra`
 * sizes (delta only: SotW would resend every cluster to every proxy); `o.changes` changes each. { text, goals }.
 */
export async function runControlplane(o) {
  const changes = o.changes ?? 3;
  const rows = [];
  const measured = [];
  const sizes = [];
  for (const services of o.services) for (const proxies of o.proxies) for (const mode of proxies === Math.max(...o.proxies) ? ['delta', 'sotw'] : ['delta']) sizes.push([services, proxies, mode]);
  for (const [services, proxies] of o.extra ?? []) sizes.push([services, proxies, 'delta']);
  const gens = new Map();
  for (const [services, proxies, mode] of sizes) {
    if (!gens.has(services)) gens.set(services, generationMs(services));
    let r;
    try {
      r = await one(services, proxies, mode, changes);
    } catch (err) {
      r = { failed: String(err.message).split('\n')[0] };
    }
    measured.push({ services, proxies, mode, ...r });
    process.stderr.write(`  control plane ${services} × ${proxies} ${mode} done\n`);
    const ms = r.failed ? `FAILED: ${r.failed}` : r.ms.n > 1 ? `${fmt(r.ms.median)} (${fmt(r.ms.min)}–${fmt(r.ms.max)})` : r.ms.median;
    rows.push([services, proxies, mode, ms, r.failed ? '—' : r.cpu, r.failed ? '—' : r.rss, gens.get(services)]);
  }
  const goals = [];
  const find = (s, p) => measured.find((m) => m.services === s && m.proxies === p && m.mode === 'delta');
  const g = find(1000, 500);
  if (g) {
    goals.push({
      part: 'control plane',
      goal: `a change → 500 proxies ACKed at 1,000 services over delta ≤ ${CONVERGE_GOAL_MS / 1000} s`,
      measured: g.failed ? 'FAILED' : `${fmt(g.ms.median)} ms (${fmt(g.ms.min)}–${fmt(g.ms.max)} over ${g.ms.n} changes)`,
      status: goalStatus({ value: g.ms?.median, ok: g.ms?.median <= CONVERGE_GOAL_MS, failed: g.failed ? [g.failed] : [] }),
    });
  }
  const big = find(5000, 1000);
  if (big) {
    goals.push({
      part: 'control plane',
      goal: '5,000 services × 1,000 proxies measured (memory, change → all ACKed over delta)',
      measured: big.failed ? 'FAILED' : `${fmt(big.ms.median)} ms, control-plane RSS ${fmt(big.rss)} MiB`,
      status: big.failed ? goalStatus({ failed: [big.failed] }) : 'measured',
    });
  }
  const text = [
    `### Config change → every proxy ACKed (median of ${changes} changes, range in brackets)`,
    '',
    'The change is a DestinationRule edit in the watched directory that adds a cluster to every proxy; the time includes the file watcher (50 ms) and push debounce (100 ms), as a user sees it.',
    '',
    table(['services', 'proxies', 'xDS', 'change → all ACKed (ms)', 'control-plane CPU s per change', 'control-plane RSS (MiB)', 'one proxy config generated, cold (ms)'], rows),
    ...(goals.length ? ['', goalTable(goals)] : []),
  ].join('\n');
  return { text, goals };
}
