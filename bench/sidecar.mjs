// The in-mesh sidecar's footprint, the RSS goal's own figure: Bookinfo on LocalMesh as `trellis up` runs it (control
// plane, CA, a sidecar per pod over delta xDS with mTLS and Istio's metrics, the ingress gateway), one page through
// the ingress, then idle. The data-plane tables measure proxies on a static config, which carry none of that.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMesh } from '../dist/runtime/local-mesh.js';
import { BOOKINFO_EXAMPLE } from '../dist/examples.js';
import { cpuSeconds, rssMiB } from './lib/proc.mjs';
import { table } from './lib/table.mjs';
import { goalStatus, spread } from './lib/verdict.mjs';
import { goalTable } from './lib/dataplane-report.mjs';

/** 60 MB in MiB: the idle in-mesh sidecar's goal (Istio 1.24's sidecar). */
export const SIDECAR_RSS_GOAL_MIB = 60e6 / 2 ** 20;

/**
 * Bookinfo in the mesh, idle; `env` is given to every process of the mesh (comparisons such as TRELLIS_XDS_CLIENT).
 * Returns { text, goals, sidecars: [RSS MiB] }.
 */
export async function runSidecar(o) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-sidecar-'));
  const title = `### An idle proxy in the mesh (Bookinfo, one page, then ${o.idleSeconds} s idle)${o.label ? `: ${o.label}` : ''}`;
  const goal = { part: 'sidecar', goal: `idle in-mesh sidecar RSS ≤ 60 MB (${SIDECAR_RSS_GOAL_MIB.toFixed(1)} MiB), median of the sidecars${o.label ? ` (${o.label})` : ''}` };
  let mesh;
  const saved = { ...process.env };
  try {
    Object.assign(process.env, o.env ?? {});
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
    const sidecarRss = sidecars.map((p) => rssMiB(p.pid));
    const row = (what, list, rss) => {
      const s = spread(rss);
      return [what, list.length, s.median, s.min, s.max, spread(list.map((p) => cpuSeconds(p.pid))).median];
    };
    const s = spread(sidecarRss);
    const goals = [{ ...goal, measured: s.n ? `${s.median.toFixed(1)} MiB (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, ${s.n} sidecars)` : 'FAILED', status: goalStatus({ value: s.median, ok: s.median <= SIDECAR_RSS_GOAL_MIB, failed: s.n ? [] : ['no sidecar running'] }) }];
    const text = [
      title,
      '',
      table(['proxies', 'count', 'RSS MiB (median)', 'min', 'max', 'CPU s from start to idle (median)'], [row('sidecars', sidecars, sidecarRss), row('ingress gateway', gateway, gateway.map((p) => rssMiB(p.pid)))]),
      '',
      goalTable(goals),
    ].join('\n');
    return { text, goals, sidecars: sidecarRss };
  } catch (err) {
    const why = String(err.message).split('\n')[0];
    const goals = [{ ...goal, measured: 'FAILED', status: goalStatus({ failed: [why] }) }];
    return { text: [title, '', `FAILED: ${why}`].join('\n'), goals, sidecars: [] };
  } finally {
    for (const k of Object.keys(o.env ?? {})) {
      if (k in saved) process.env[k] = saved[k];
      else delete process.env[k];
    }
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
