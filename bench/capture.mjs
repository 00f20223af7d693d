// Transparent capture's cost: two pods of a `trellis up --network netns` mesh (a client and go-httpbin's stand-in, each
// behind its sidecar, mutual TLS between them), and wrk inside the client's network namespace taking two paths
// through the same two sidecars: captured (wrk dials the server's ClusterIP; iptables redirects it to 15001 and the
// sidecar restores the original destination) and the proxy-variable path (wrk dials the sidecar's 15001 itself with
// the service in Host, as an HTTP_PROXY client does). Needs root and network namespaces; says why when it cannot run.
import { httpbinAndClient, withNetnsMesh } from './lib/netns-mesh.mjs';
import { cpuSeconds } from './lib/proc.mjs';
import { fmt, median, table } from './lib/table.mjs';
import { wrk } from './lib/wrk.mjs';

const PODS = httpbinAndClient('default');

export async function runCapture(o) {
  return withNetnsMesh({ name: 'capture', manifests: PODS, addressBase: 63, readyMs: 60_000 }, async (mesh) => {
    const client = mesh.podPlans().find((p) => p.name.startsWith('client-'));
    const wrap = ['ip', 'netns', 'exec', mesh.net.namespaceOf(`${client.namespace}/${client.name}`)];
    const vip = mesh.controlPlane.registry.snapshot().service('httpbin.default.svc.cluster.local').addresses[0];
    const sidecars = () => mesh.supervisor.status().filter((p) => p.name.endsWith('/istio-proxy') && !p.name.startsWith('istio-ingressgateway') && p.pid).map((p) => p.pid);
    const paths = [
      ['captured (ClusterIP, iptables → 15001)', `http://${vip}:8000/get`, {}],
      ['proxy variable (15001 with Host)', 'http://127.0.0.1:15001/get', { Host: 'httpbin:8000' }],
    ];
    const results = Object.fromEntries(paths.map(([label]) => [label, []]));
    for (let round = 0; round < o.rounds; round++) {
      for (const [label, url, headers] of paths) {
        await wrk(url, { connections: o.connections, seconds: 1, headers, wrap });
        const max = await wrk(url, { connections: o.connections, seconds: o.seconds, headers, wrap });
        const pids = sidecars();
        const cpu0 = cpuSeconds(pids);
        // One connection per 50 rps of the target rate, so the pacing, not each connection's latency, sets the rate.
        const pacedRun = () => wrk(url, { connections: Math.max(4, Math.round(o.rate / 50)), seconds: o.seconds, rate: o.rate, headers, wrap });
        let paced = await pacedRun();
        // A run that got no response at all (seen once on a loaded machine) is run again rather than reported.
        if (!paced.requests) paced = await pacedRun();
        const cpuPer1k = ((cpuSeconds(pids) - cpu0) / paced.requests) * 1000;
        if (max.errors || paced.errors || !max.requests || !paced.requests) throw new Error(`${label}: ${max.errors + paced.errors} errors, ${max.requests} + ${paced.requests} requests`);
        if (process.env.TRELLIS_BENCH_DEBUG) process.stderr.write(JSON.stringify({ label, max, paced }) + '\n');
        results[label].push({ max: max.rps, p50: paced.p50, p90: paced.p90, cpuPer1k });
        process.stderr.write(`  capture · ${label} · round ${round + 1}/${o.rounds} done\n`);
      }
    }
    const rows = paths.map(([label]) => {
      const r = results[label];
      const m = (f) => median(r.map(f));
      return [label, fmt(m((x) => x.max)), fmt(m((x) => x.p50)), fmt(m((x) => x.p90)), fmt(m((x) => x.cpuPer1k))];
    });
    const text = [
      `### Two sidecars with mutual TLS, client → httpbin stand-in, from inside the client pod (${o.rounds} round(s), medians)`,
      '',
      table(['path', 'max rps', `p50 @${o.rate} rps (ms)`, `p90 @${o.rate} rps (ms)`, 'both sidecars: CPU s per 1k requests'], rows),
    ].join('\n');
    return { text, goals: [] };
  });
}
