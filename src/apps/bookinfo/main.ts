// Runs one Bookinfo service by name: `node dist/apps/bookinfo/main.js <productpage|details|reviews|ratings> [port]`.

import { isMain, programPort, runUntilSignal, type RunningApp, type StartOptions } from '../lib/serve.js';
import { startDetails } from './details.js';
import { startProductPage } from './productpage.js';
import { startRatings } from './ratings.js';
import { startReviews } from './reviews.js';

export const BOOKINFO_SERVICES: Readonly<Record<string, (opts: StartOptions) => Promise<RunningApp>>> = {
  productpage: startProductPage,
  details: startDetails,
  reviews: startReviews,
  ratings: startRatings,
};

if (isMain(import.meta.url)) {
  const [name, ...rest] = process.argv.slice(2);
  const start = name ? BOOKINFO_SERVICES[name] : undefined;
  if (!start) {
    process.stderr.write(`usage: main.js <${Object.keys(BOOKINFO_SERVICES).join('|')}> [port]\n`);
    process.exit(2);
  }
  runUntilSignal(name!, async () => {
    const app = await start({ port: programPort(rest, process.env, 9080) });
    return { close: app.close, describe: `listening on ${app.host}:${app.port}` };
  });
}
