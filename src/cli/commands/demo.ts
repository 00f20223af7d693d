// `trellis demo` (what `npm start` runs): the Bookinfo application, analyzed, then run as a local mesh with its
// ingress gateway, each service behind its own Trellis sidecar. It runs this package's examples/bookinfo, or Istio's
// own samples/bookinfo folder, unchanged, with --samples DIR.

import { NETWORK_USAGE, networkOptions, networkOptionSpecs } from '../network-options.js';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatText } from '../../config/analysis/format.js';
import { analyzeResources } from '../../config/analysis/run.js';
import { loadPaths } from '../../config/loader.js';
import { BOOKINFO_EXAMPLE } from '../../examples.js';
import { freePort } from '../../free-port.js';
import { DEFAULT_INGRESS_PORT, PORTS } from '../../ports.js';
import { LocalMesh } from '../../runtime/local-mesh.js';
import { UsageError, type Command } from '../command.js';

const USAGE = `Usage: trellis demo [--ingress-port ${DEFAULT_INGRESS_PORT}] [--samples DIR] [--network netns|loopback] [--ip-family F]

Analyzes Bookinfo (examples/bookinfo in this package; or, with --samples DIR, Istio's samples/bookinfo folder),
copies its manifests, ingress Gateway and DestinationRules into a fresh config directory and runs them with
\`trellis up\`: every service behind its sidecar, the ingress gateway on --ingress-port (0 picks a free port).
Copy one of the routing files it prints into that directory to change the traffic live. Ctrl-C stops everything.

Options:
${NETWORK_USAGE}`;

/** What the demo runs from a Bookinfo folder: the files it starts with, and the routing files it suggests. */
export interface DemoFiles {
  start: string[];
  routing: string[];
}

// Routing files of Istio's request-routing and traffic-shifting tasks, which examples/bookinfo/routing has too: the
// first is the one the "try:" line names.
const ROUTING = ['virtual-service-reviews-v3.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-50-v3.yaml', 'virtual-service-reviews-test-v2.yaml'];

/** Istio's samples/bookinfo layout (platform/kube, networking), or examples/bookinfo's (its YAML, and routing/). */
export function demoFiles(dir: string): DemoFiles {
  const upstream = ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml'].map((f) => join(dir, f));
  const istio = existsSync(upstream[0]!);
  const start = istio ? upstream : !existsSync(dir) ? [] : readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
  return { start, routing: ROUTING.map((f) => join(dir, istio ? 'networking' : 'routing', f)).filter((f) => existsSync(f)) };
}

export const demoCommand: Command = {
  name: 'demo',
  usage: USAGE,
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { 'ingress-port': { type: 'string', default: String(DEFAULT_INGRESS_PORT) }, samples: { type: 'string' }, ...networkOptionSpecs } }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const port = Number(values['ingress-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--ingress-port must be a port number, not "${values['ingress-port']}"`);
    const samples = values.samples ? resolve(values.samples) : BOOKINFO_EXAMPLE;
    const files = demoFiles(samples);
    if (!files.start.length || !files.start.every((f) => existsSync(f))) throw new Error(`no Bookinfo under ${samples} (--samples takes Istio's samples/bookinfo folder, or one laid out like examples/bookinfo)`);

    const loaded = await loadPaths(files.start);
    const { diagnostics } = analyzeResources(loaded.resources, { loadErrors: loaded.errors, mode: 'local' });
    const problems = diagnostics.filter((d) => d.level !== 'Info');
    process.stdout.write(`analyzed ${loaded.resources.length} Bookinfo resources: ${problems.length ? `${problems.length} issue(s)` : 'no issues'}\n`);
    for (const d of problems) process.stdout.write(`  ${formatText(d)}\n`);

    const network = networkOptions(values);
    process.stdout.write(`network: ${network.network === 'netns' ? `network namespaces, ${network.ipFamily}` : 'loopback addresses'} (${network.why})\n`);
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bookinfo-'));
    for (const f of files.start) copyFileSync(f, join(dir, basename(f)));
    // Istio's ports when free (a second demo, or a `trellis up`, may hold them): the demo must start anyway.
    const mesh = await LocalMesh.start({
      network: network.network,
      ipFamily: network.ipFamily,
      egressGateway: network.egressGateway,
      dir,
      stateDir: join(dir, '.trellis'),
      ingressPort: port === 0 ? 0 : await freePort('127.0.0.1', port).then((p) => (p === port ? p : Promise.reject(new Error(`port ${port} is in use; pass --ingress-port`)))),
      xdsPort: await freePort('127.0.0.1', PORTS.xds),
      caPort: await freePort('127.0.0.1', PORTS.xdsTls),
      debugPort: await freePort('127.0.0.1', PORTS.controlPlaneMonitoring),
      prometheusPort: await freePort('127.0.0.1', PORTS.prometheus),
      consolePort: await freePort('127.0.0.1', PORTS.console),
    });
    const stopping = new Promise<void>((r) => {
      process.once('SIGINT', r);
      process.once('SIGTERM', r);
    });
    try {
      await Promise.race([mesh.waitReady(), stopping]);
      const lines = [`ready: Bookinfo at ${mesh.ingressUrl}/productpage (Ctrl-C to stop)`, mesh.summary()];
      const [first, ...more] = files.routing;
      if (first) lines.push(`try: cp ${first} ${dir}/`);
      if (more.length) lines.push(`     or another of ${dirname(first!)}/: ${more.map((f) => basename(f)).join(' ')}`);
      process.stdout.write(lines.join('\n') + '\n'); // one write: whoever reads the ready line has the rest
    } catch (err) {
      process.stderr.write(`trellis demo: ${(err as Error).message}\n`);
    }
    await stopping;
    await mesh.stop();
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write('stopped\n');
    return 0;
  },
};
