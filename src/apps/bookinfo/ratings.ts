// Bookinfo's ratings service (stands in for examples-bookinfo-ratings-v1): star ratings by product id, in memory, with upstream's fault-demo versions.

import http from 'node:http';
import { readBody, sendJson, splitUrl } from '../lib/http-util.js';
import { bindAddress, closeServer, isMain, listen, programPort, runUntilSignal, type Env, type RunningApp, type StartOptions } from '../lib/serve.js';

/** Upstream's demo versions are kept: v-faulty (half the calls 503), v-delayed (half wait 7 s), v-unavailable/v-unhealthy (periodic outages). */
export function createRatingsServer(env: Env, random: () => number = Math.random): { server: http.Server; stop(): void } {
  const version = env.SERVICE_VERSION ?? 'v1';
  const userAdded = new Map<number, { id: number; ratings: unknown }>();
  let unavailable = false;
  let healthy = true;
  const timers: NodeJS.Timeout[] = [];
  if (version === 'v-unavailable') {
    timers.push(setInterval(() => (unavailable = !unavailable), 60_000));
  } else if (version === 'v-unhealthy') {
    timers.push(
      setInterval(() => {
        healthy = !healthy;
        unavailable = !unavailable;
      }, 900_000),
    );
  }
  timers.forEach((t) => t.unref());

  const local = (id: number): { id: number; ratings: unknown } =>
    userAdded.get(id) ?? { id, ratings: { Reviewer1: 5, Reviewer2: 4 } };

  const server = http.createServer((req, res) => {
    const { path } = splitUrl(req.url);
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      if (healthy) sendJson(res, 200, { status: 'Ratings is healthy' });
      else sendJson(res, 500, { status: 'Ratings is not healthy' });
      return;
    }
    const m = /^\/ratings\/(.*)$/.exec(path);
    if (!m) {
      sendJson(res, 404, { error: 'Not Found' });
      return;
    }
    const id = Number.parseInt(m[1]!.split('/').pop() ?? '', 10);
    if (Number.isNaN(id)) {
      sendJson(res, 400, { error: 'please provide numeric product ID' });
      return;
    }
    if (req.method === 'POST') {
      readBody(req, 1024 * 1024).then(
        (body) => {
          let ratings: unknown;
          try {
            ratings = JSON.parse(body.toString('utf8'));
          } catch {
            sendJson(res, 400, { error: 'please provide valid ratings JSON' });
            return;
          }
          if (version === 'v2') {
            sendJson(res, 501, { error: 'Post not implemented for database backed ratings' });
            return;
          }
          userAdded.set(id, { id, ratings });
          sendJson(res, 200, local(id));
        },
        () => sendJson(res, 400, { error: 'please provide valid ratings JSON' }),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'Method Not Allowed' });
      return;
    }
    const unavailableAnswer = (): void => sendJson(res, 503, { error: 'Service unavailable' });
    switch (version) {
      case 'v2':
        // The database-backed version has no database here.
        sendJson(res, 500, { error: 'could not connect to ratings database' });
        return;
      case 'v-faulty':
        if (random() <= 0.5) unavailableAnswer();
        else sendJson(res, 200, local(id));
        return;
      case 'v-delayed':
        if (random() <= 0.5) {
          const t = setTimeout(() => sendJson(res, 200, local(id)), 7000);
          res.on('close', () => clearTimeout(t));
        } else {
          sendJson(res, 200, local(id));
        }
        return;
      case 'v-unavailable':
      case 'v-unhealthy':
        if (unavailable) unavailableAnswer();
        else sendJson(res, 200, local(id));
        return;
      default:
        sendJson(res, 200, local(id));
    }
  });
  return { server, stop: () => timers.forEach(clearInterval) };
}

export async function startRatings(opts: StartOptions = {}): Promise<RunningApp> {
  const env = opts.env ?? process.env;
  const { server, stop } = createRatingsServer(env);
  const app = await listen(server, opts.port ?? 9080, opts.host ?? bindAddress(env));
  return {
    ...app,
    close: async () => {
      stop();
      await closeServer(server);
    },
  };
}

if (isMain(import.meta.url)) {
  runUntilSignal('ratings', async () => {
    const app = await startRatings({ port: programPort(process.argv.slice(2), process.env, 9080) });
    return { close: app.close, describe: `listening on ${app.host}:${app.port}` };
  });
}
