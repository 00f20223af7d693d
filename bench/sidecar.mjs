// The in-mesh sidecar's footprint, the RSS goal's own figure: Bookinfo on LocalMesh as `trellis up` runs it (control
// plane, CA, a sidecar per pod over delta xDS with mTLS and Istio's metrics, the ingress gateway), one page through
// the ingress, then idle. The data-plane tables measure proxies on a static config, which carry none of that.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMesh } from '../dist/runtime/local-mesh.js';
import { BOOKINFO_EXAMPLE } from '../dist/examples.js';
import { cpuSeconds, rssMiB } from './lib/proc.mjs';
import { median, table } from './lib/table.mjs';

export async function runSidecar(o) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-sidecar-'));
  let mesh;
  try {
    // examples/bookinfo: the same pods as Istio's bookinfo.yaml (same templates, same names), shipped in the repository.
    for (const f of ['bookinfo.yaml', 'bookinfo-gateway.yaml', 'destination-rule-all.yaml']) copyFileSync(join(BOOKINFO_EXAMPLE, f), join(dir, f));
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, addressBase: 62, log: () => {} });
    await mesh.waitReady(60_000);
    const page = await (await fetch(`${mesh.ingressUrl}/productpage`)).text();
    if (!/The Comedy of Errors/.test(page)) throw new Error('Bookinfo did not serve /productpage through the mesh');
    // Idle is what the goal is about: let start-up garbage be collected and timers settle before reading.
    await new Promise((r) => setTimeout(r, o.idleSeconds * 1000));
    const proxies = mesh.supervisor.status().filter((p) => p.name.endsWith('/istio-proxy') && p.pid);
    const sidecars = proxies.filter((p) => !p.name.startsWith('istio-ingressgateway'));
    const gateway = proxies.filter((p) => p.name.startsWith('istio-ingressgateway'));
    const row = (what, list) => {
      const rss = list.map((p) => rssMiB(p.pid));
      return [what, list.length, median(rss), Math.min(...rss), Math.max(...rss), median(list.map((p) => cpuSeconds(p.pid)))];
    };
    return [
      `### An idle proxy in the mesh (Bookinfo, one page, then ${o.idleSeconds} s idle)`,
      '',
      table(['proxies', 'count', 'RSS MiB (median)', 'min', 'max', 'CPU s from start to idle (median)'], [row('sidecars', sidecars), row('ingress gateway', gateway)]),
      '',
      `goal: RSS ≤ 60 MB (57.2 MiB) per idle sidecar: ${median(sidecars.map((p) => rssMiB(p.pid))) <= 57.2 ? 'met' : 'missed'}`,
    ].join('\n');
  } finally {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
