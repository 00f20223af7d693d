// Ambient mode's cost beside the sidecar's: one `trellis up --network netns` mesh with a client and go-httpbin's
// stand-in in four namespaces — outside the mesh (the baseline), with sidecars (two sidecars, mutual TLS), in ambient
// mode (the node proxy's two hops: the client pod's outbound and the server pod's inbound, HBONE with mutual TLS
// between them), and in ambient mode through a waypoint (client's ztunnel → waypoint → server's ztunnel). wrk runs
// inside each client pod against the server's ClusterIP. Reported per path: throughput, latency at a fixed rate and
// what the data plane adds to it, the data plane's CPU seconds per 1,000 requests (Istio's "vCPU per 1,000 rps"), and
// resident memory. Needs root and network namespaces; says why when it cannot run.
import { goalTable } from './lib/dataplane-report.mjs';
import { httpbinAndClient, withNetnsMesh } from './lib/netns-mesh.mjs';
import { goalStatus } from './lib/verdict.mjs';
import { cpuSeconds, processTree, rssMiB } from './lib/proc.mjs';
import { fmt, median, table } from './lib/table.mjs';
import { wrk } from './lib/wrk.mjs';

/** A namespace with the two pods; `labels` are the namespace's (a flow mapping's inside). */
const namespace = (name, labels) => `apiVersion: v1
kind: Namespace
metadata: {name: ${name}, labels: {${labels}}}
---
${httpbinAndClient(name)}`;

const MESH = [
  namespace('plain', 'purpose: baseline'),
  namespace('sidecar', 'istio-injection: enabled'),
  namespace('ambient', 'istio.io/dataplane-mode: ambient'),
  namespace('waypoint', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint'),
  `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: waypoint}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`,
].join('---\n');

export async function runAmbient(o) {
  return withNetnsMesh({ name: 'ambient', manifests: MESH, addressBase: 62, readyMs: 90_000 }, async (mesh) => {
    const running = () => mesh.supervisor.status().filter((p) => p.pid);
    // The data plane each path crosses, by supervisor process name (`<pod>.<namespace>/<container>`).
    const ztunnel = () => running().filter((p) => p.name === `${mesh.ambient.pod}.${mesh.ambient.namespace}/istio-proxy`);
    const waypoint = () => running().filter((p) => p.name.endsWith('.waypoint/istio-proxy') && p.name.startsWith('waypoint-'));
    const sidecars = () => running().filter((p) => p.name.endsWith('.sidecar/istio-proxy'));
    const paths = [
      { label: 'no mesh (baseline)', ns: 'plain', dataplane: () => [] },
      { label: 'sidecars ×2, mTLS', ns: 'sidecar', dataplane: sidecars },
      { label: 'ztunnel two hops, HBONE mTLS', ns: 'ambient', dataplane: ztunnel },
      { label: 'ztunnel + waypoint, HBONE mTLS', ns: 'waypoint', dataplane: () => [...ztunnel(), ...waypoint()] },
    ];
    const results = new Map(paths.map((p) => [p.label, []]));
    for (let round = 0; round < o.rounds; round++) {
      for (const path of paths) {
        const client = mesh.podPlans().find((p) => p.namespace === path.ns && p.name.startsWith('client-'));
        const wrap = ['ip', 'netns', 'exec', mesh.net.namespaceOf(`${client.namespace}/${client.name}`)];
        const vip = mesh.controlPlane.registry.snapshot().service(`httpbin.${path.ns}.svc.cluster.local`).addresses[0];
        const url = `http://${vip}:8000/get`;
        await wrk(url, { connections: o.connections, seconds: 1, wrap });
        const max = await wrk(url, { connections: o.connections, seconds: o.seconds, wrap });
        const pids = path.dataplane().flatMap((p) => processTree(p.pid));
        const cpu0 = cpuSeconds(pids);
        const pacedRun = () => wrk(url, { connections: Math.max(4, Math.round(o.rate / 50)), seconds: o.seconds, rate: o.rate, wrap });
        let paced = await pacedRun();
        // wrk's paced mode now and then reports no response at all on a loaded machine: run it again, never report it.
        if (!paced.requests) paced = await pacedRun();
        const cpuPer1k = pids.length ? ((cpuSeconds(pids) - cpu0) / paced.requests) * 1000 : 0;
        if (max.errors || paced.errors || !max.requests || !paced.requests) throw new Error(`${path.label}: ${max.errors + paced.errors} errors, ${max.requests} + ${paced.requests} requests`);
        results.get(path.label).push({ max: max.rps, p50: paced.p50, p90: paced.p90, cpuPer1k, rss: pids.length ? rssMiB(pids) : 0 });
        process.stderr.write(`  ambient · ${path.label} · round ${round + 1}/${o.rounds} done\n`);
      }
    }
    const m = (label, f) => median(results.get(label).map(f));
    const baseP50 = m(paths[0].label, (x) => x.p50);
    const rows = paths.map(({ label }, i) => [
      label,
      fmt(m(label, (x) => x.max)),
      fmt(m(label, (x) => x.p50)),
      fmt(m(label, (x) => x.p90)),
      // A path measured faster than no mesh at all is the machine's noise, never a negative cost.
      i === 0 ? '–' : m(label, (x) => x.p50) < baseP50 ? 'noise' : fmt(m(label, (x) => x.p50) - baseP50),
      i === 0 ? '–' : fmt(m(label, (x) => x.cpuPer1k)),
      i === 0 ? '–' : fmt(m(label, (x) => x.rss)),
    ]);
    const oneSidecar = rssMiB(sidecars()[0]?.pid ?? []);
    const oneZtunnel = rssMiB(ztunnel()[0]?.pid ?? []);
    // The goal: the node proxy doing both hops costs less CPU per request than ONE sidecar (half the pair's).
    const ztunnelCpu = m(paths[2].label, (x) => x.cpuPer1k);
    const sidecarCpu = m(paths[1].label, (x) => x.cpuPer1k) / 2;
    const goals = [{
      part: 'ambient',
      goal: "one ztunnel's CPU-s per 1,000 requests (both hops) below one sidecar's",
      // Three decimals: the two are close, and 'met' beside two equal-looking figures would read as a contradiction.
      measured: `${ztunnelCpu.toFixed(3)} vs ${sidecarCpu.toFixed(3)} (half of the sidecar pair's ${fmt(sidecarCpu * 2)}), ${o.rate} rps`,
      status: goalStatus({ value: ztunnelCpu, ok: ztunnelCpu < sidecarCpu }),
    }];
    const text = [
      `### Client → httpbin stand-in from inside the client pod, one mesh, four namespaces (${o.rounds} round(s), medians)`,
      '',
      table(['path', 'max rps', `p50 @${o.rate} rps (ms)`, `p90 @${o.rate} rps (ms)`, 'added p50 (ms)', 'data plane: CPU s per 1k requests', 'data plane RSS (MiB)'], rows),
      '',
      `One ztunnel (serving all ${mesh.podPlans().filter((p) => p.ambient).length} ambient pods): ${fmt(oneZtunnel)} MiB resident; one sidecar: ${fmt(oneSidecar)} MiB. The sidecar row's CPU is both sidecars'; the ztunnel row's is the one node proxy doing both hops.`,
      '',
      goalTable(goals),
    ].join('\n');
    return { text, goals };
  });
}
