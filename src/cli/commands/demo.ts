// `trellis demo` (what `npm start` runs): Istio's Bookinfo sample, analyzed, then run as a local mesh with its
// ingress gateway — upstream's manifests unchanged, each service behind its own Trellis sidecar.

import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatText } from '../../config/analysis/format.js';
import { analyzeResources } from '../../config/analysis/run.js';
import { loadPaths } from '../../config/loader.js';
import { freePort } from '../../free-port.js';
import { LocalMesh } from '../../runtime/local-mesh.js';
import { istioSamplesDir } from '../../samples.js';
import { UsageError, type Command } from '../command.js';

const USAGE = `Usage: trellis demo [--ingress-port 8080] [--samples DIR]

Analyzes Istio's Bookinfo sample (../shared/istio-samples/bookinfo, or $TRELLIS_ISTIO_SAMPLES/bookinfo), copies
bookinfo.yaml, bookinfo-gateway.yaml and destination-rule-all.yaml into a fresh config directory and runs them
with \`trellis up\`: every service behind its sidecar, the ingress gateway on --ingress-port. Copy more of
Bookinfo's routing samples into the printed directory to change the traffic live. Ctrl-C stops everything.`;

const FILES = ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml'];

export const demoCommand: Command = {
  name: 'demo',
  usage: USAGE,
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { 'ingress-port': { type: 'string', default: '8080' }, samples: { type: 'string' } } }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const port = Number(values['ingress-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--ingress-port must be a port number, not "${values['ingress-port']}"`);
    const samples = values.samples ?? `${istioSamplesDir()}/bookinfo`;
    const files = FILES.map((f) => `${samples}/${f}`);
    if (!files.every((f) => existsSync(f))) throw new Error(`Bookinfo sample not found under ${samples} (pass --samples DIR)`);

    const loaded = await loadPaths(files);
    const { diagnostics } = analyzeResources(loaded.resources, { loadErrors: loaded.errors });
    const problems = diagnostics.filter((d) => d.level !== 'Info');
    process.stdout.write(`analyzed ${loaded.resources.length} Bookinfo resources: ${problems.length ? `${problems.length} issue(s)` : 'no issues'}\n`);
    for (const d of problems) process.stdout.write(`  ${formatText(d)}\n`);

    const dir = mkdtempSync(join(tmpdir(), 'trellis-bookinfo-'));
    for (const f of files) copyFileSync(f, join(dir, basename(f)));
    const mesh = await LocalMesh.start({
      dir,
      stateDir: join(dir, '.trellis'),
      ingressPort: port === 0 ? 0 : await freePort('127.0.0.1', port).then((p) => (p === port ? p : Promise.reject(new Error(`port ${port} is in use; pass --ingress-port`)))),
      xdsPort: await freePort('127.0.0.1', 15010),
      debugPort: await freePort('127.0.0.1', 15014),
      prometheusPort: await freePort('127.0.0.1', 9090),
      consolePort: await freePort('127.0.0.1', 20001),
    });
    const stopping = new Promise<void>((r) => {
      process.once('SIGINT', r);
      process.once('SIGTERM', r);
    });
    try {
      await Promise.race([mesh.waitReady(), stopping]);
      process.stdout.write(`ready: Bookinfo at ${mesh.ingressUrl}/productpage (Ctrl-C to stop)\n${mesh.summary()}\n`);
      process.stdout.write(`try: cp ${samples}/networking/virtual-service-reviews-v3.yaml ${dir}/\n`);
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
