// `trellis demo`: analyze the upstream Bookinfo sample, then run its TypeScript services on loopback until Ctrl-C.
// Until `trellis up` lands (sidecars, gateway, routing), the services call each other directly.

import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { analyzeResources } from '../../config/analysis/run.js';
import { formatText } from '../../config/analysis/format.js';
import { loadPaths } from '../../config/loader.js';
import { startDetails } from '../../apps/bookinfo/details.js';
import { startProductPage } from '../../apps/bookinfo/productpage.js';
import { startRatings } from '../../apps/bookinfo/ratings.js';
import { startReviews } from '../../apps/bookinfo/reviews.js';
import type { RunningApp } from '../../apps/lib/serve.js';
import { UsageError, type Command } from '../command.js';
import { istioSamplesDir } from '../../samples.js';

const USAGE = `Usage: trellis demo [--port 9080] [--samples DIR] [--reviews v1|v2|v3]

Analyzes Istio's Bookinfo sample (../shared/istio-samples/bookinfo, or $TRELLIS_ISTIO_SAMPLES/bookinfo), then runs
productpage, details, reviews and ratings on 127.0.0.1 and prints the URL of /productpage.
Stops every service on Ctrl-C or SIGTERM.`;

/** The Bookinfo sample as shipped beside this repository (see the README). */
function defaultSamplesDir(): string {
  return `${istioSamplesDir()}/bookinfo`;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Analyze the Bookinfo sample and run its services locally',
  usage: USAGE,
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: { port: { type: 'string', default: '9080' }, samples: { type: 'string' }, reviews: { type: 'string', default: 'v2' } },
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port}"`);
    if (!['v1', 'v2', 'v3'].includes(values.reviews!)) throw new UsageError('--reviews must be v1, v2 or v3');
    const samples = values.samples ?? defaultSamplesDir();
    const files = ['platform/kube/bookinfo.yaml', 'networking/bookinfo-gateway.yaml', 'networking/destination-rule-all.yaml'].map((f) => `${samples}/${f}`);
    if (!files.every((f) => existsSync(f))) throw new Error(`Bookinfo sample not found under ${samples} (pass --samples DIR)`);

    const loaded = await loadPaths(files);
    const { diagnostics } = analyzeResources(loaded.resources, { loadErrors: loaded.errors });
    const problems = diagnostics.filter((d) => d.level !== 'Info');
    process.stdout.write(`analyzed ${loaded.resources.length} Bookinfo resources: ${problems.length ? `${problems.length} issue(s)` : 'no issues'}\n`);
    for (const d of problems) process.stdout.write(`  ${formatText(d)}\n`);

    const apps: RunningApp[] = [];
    const stop = async () => {
      await Promise.all(apps.splice(0).map((a) => a.close()));
    };
    try {
      const host = '127.0.0.1';
      const ratings = await startRatings({ host, port: 0, env: { HOSTNAME: 'ratings-v1-demo' } });
      apps.push(ratings);
      const peers = (name: string, app: RunningApp) => ({ [`${name}_SERVICE_HOST`]: host, [`${name}_SERVICE_PORT`]: String(app.port) });
      const reviews = await startReviews({ host, port: 0, env: { SERVICE_VERSION: values.reviews, HOSTNAME: `reviews-${values.reviews}-demo`, ...peers('RATINGS', ratings) } });
      apps.push(reviews);
      const details = await startDetails({ host, port: 0, env: { HOSTNAME: 'details-v1-demo' } });
      apps.push(details);
      const productpage = await startProductPage({ host, port, env: { HOSTNAME: 'productpage-v1-demo', ...peers('DETAILS', details), ...peers('REVIEWS', reviews), ...peers('RATINGS', ratings) } });
      apps.push(productpage);
      process.stdout.write(`ready: Bookinfo at ${productpage.url}/productpage (reviews ${values.reviews}; Ctrl-C to stop)\n`);
    } catch (err) {
      await stop();
      throw err;
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stop();
    process.stdout.write('stopped\n');
    return 0;
  },
};
