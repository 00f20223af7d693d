// Data-plane benchmark: the same request path direct, through one proxy and through two, for Trellis, nginx and
// haproxy, measured side by side in one run. Prints Markdown tables of absolute figures and ratios.
import { median, table } from './lib/table.mjs';
import { cpuSeconds, rssMiB, start, stop } from './lib/proc.mjs';
import { PEERS } from './lib/peers.mjs';
import { wrk } from './lib/wrk.mjs';
import { fileURLToPath } from 'node:url';

const BACKEND = fileURLToPath(new URL('./lib/backend.mjs', import.meta.url));

async function startBackend(size) {
  const { child, match } = await start(process.execPath, [BACKEND, String(size)], { ready: /listening (\d+)/ });
  return { child, port: Number(match[1]) };
}

/** Start `hops` proxies of one kind chained in front of the backend; returns the entry port and every proxy. */
async function chain(kind, hops, backendPort) {
  const proxies = [];
  let next = backendPort;
  for (let i = 0; i < hops; i++) {
    const p = await PEERS[kind](next);
    proxies.push(p);
    next = p.port;
  }
  return { port: next, proxies, stop: () => Promise.all(proxies.map((p) => p.stop())) };
}

async function measure(port, proxies, o) {
  const url = `http://127.0.0.1:${port}/`;
  // Warm-up: JIT, pools, connections.
  await wrk(url, { connections: 16, seconds: 1 });
  const max = await wrk(url, { connections: o.connections, seconds: o.seconds });
  const rates = {};
  for (const rate of o.rates) {
    const pids = proxies.flatMap((p) => p.pids());
    const cpu0 = cpuSeconds(pids);
    const r = await wrk(url, { connections: Math.min(64, Math.max(8, rate / 100)), seconds: o.seconds, rate });
    const cpu = cpuSeconds(pids) - cpu0;
    rates[rate] = { ...r, cpuPer1k: proxies.length ? (cpu / r.requests) * 1000 / proxies.length : 0 };
  }
  const rss = proxies.length ? proxies.reduce((a, p) => a + rssMiB(p.pids()), 0) / proxies.length : 0;
  return { max, rates, rss };
}

export async function runDataplane(o) {
  const out = [];
  for (const size of o.sizes) {
    const backend = await startBackend(size);
    const results = {};
    try {
      const shapes = [['direct', null, 0]];
      for (const kind of o.kinds) for (const hops of [1, 2]) shapes.push([`${kind} ×${hops}`, kind, hops]);
      for (let round = 0; round < o.rounds; round++) {
        for (const [label, kind, hops] of shapes) {
          const c = kind ? await chain(kind, hops, backend.port) : { port: backend.port, proxies: [], stop: async () => {} };
          try {
            (results[label] ??= []).push(await measure(c.port, c.proxies, o));
          } finally {
            await c.stop();
          }
        }
      }
    } finally {
      await stop(backend.child);
    }
    out.push(report(size, results, o));
  }
  return out.join('\n\n');
}

function report(size, results, o) {
  const med = (label, f) => median(results[label].map(f));
  const direct = (f) => med('direct', f);
  const lines = [`### HTTP/1.1, ${size} B responses (${o.rounds} round(s), medians)`, ''];
  const header = ['path', 'max rps', ...o.rates.flatMap((r) => [`p50 @${r}`, `p90 @${r}`, `p99 @${r}`]), `added p50/p90/p99 @1000 (ms)`, 'vCPU-s per 1k req @1000 (per proxy)', 'RSS MiB (per proxy)'];
  const rows = [];
  for (const label of Object.keys(results)) {
    const r1000 = o.rates.includes(1000) ? 1000 : o.rates[0];
    const added = label === 'direct' ? '—' : ['p50', 'p90', 'p99'].map((q) => (med(label, (m) => m.rates[r1000][q]) - direct((m) => m.rates[r1000][q])).toFixed(2)).join(' / ');
    rows.push([
      label,
      med(label, (m) => m.max.rps),
      ...o.rates.flatMap((r) => ['p50', 'p90', 'p99'].map((q) => med(label, (m) => m.rates[r][q]))),
      added,
      label === 'direct' ? '—' : med(label, (m) => m.rates[r1000].cpuPer1k),
      label === 'direct' ? '—' : med(label, (m) => m.rss),
    ]);
  }
  lines.push(table(header, rows));
  // Ratios of Trellis to nginx, the figure the goals are stated in.
  if (results['trellis ×1'] && results['nginx ×1']) {
    const r1000 = o.rates.includes(1000) ? 1000 : o.rates[0];
    const ratio = (hops, f) => med(`trellis ×${hops}`, f) / med(`nginx ×${hops}`, f);
    const addedRatio = (hops, q) => (med(`trellis ×${hops}`, (m) => m.rates[r1000][q]) - direct((m) => m.rates[r1000][q])) / (med(`nginx ×${hops}`, (m) => m.rates[r1000][q]) - direct((m) => m.rates[r1000][q]));
    lines.push('', table(['Trellis ÷ nginx', 'max rps', `p90 @${r1000}`, `added p90 @${r1000}`, 'CPU per request'], [1, 2].map((h) => [`${h} hop(s)`, ratio(h, (m) => m.max.rps), ratio(h, (m) => m.rates[r1000].p90), addedRatio(h, 'p90'), ratio(h, (m) => m.rates[r1000].cpuPer1k)])));
  }
  return lines.join('\n');
}
