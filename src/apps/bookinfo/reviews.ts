// Bookinfo's reviews service, v1/v2/v3 in one program (stands in for examples-bookinfo-reviews-v*): two reviews, with star ratings from the ratings service in v2 (black) and v3 (red).

import http from 'node:http';
import os from 'node:os';
import { httpRequest } from '../lib/http-client.js';
import { sendJson, splitUrl } from '../lib/http-util.js';
import { bindAddress, isMain, listen, programPort, runUntilSignal, type Env, type RunningApp, type StartOptions } from '../lib/serve.js';
import { pickHeaders, REVIEWS_HEADERS } from './propagation.js';
import { peerUrl } from './upstream.js';

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
] as const;

/** How one reviews deployment behaves, from its environment as upstream's images set it. */
export interface ReviewsConfig {
  version: string;
  ratingsEnabled: boolean;
  starColor: string;
  /** Upstream waits 10 s for ratings with black stars (v2) and 2.5 s otherwise (v3). */
  ratingsTimeoutMs: number;
  ratingsUrl: string;
  podName: string;
  clusterName: string;
  env: Env;
}

/**
 * SERVICE_VERSION picks the image's defaults (v1: no ratings; v2: ratings, black;
 * v3: ratings, red); ENABLE_RATINGS and STAR_COLOR override them, as in upstream's Dockerfiles.
 */
export function reviewsConfig(env: Env): ReviewsConfig {
  const version = env.SERVICE_VERSION || 'v1';
  const ratingsEnabled = env.ENABLE_RATINGS !== undefined ? env.ENABLE_RATINGS.toLowerCase() === 'true' : version !== 'v1';
  const starColor = env.STAR_COLOR || (version === 'v3' ? 'red' : 'black');
  return {
    version,
    ratingsEnabled,
    starColor,
    ratingsTimeoutMs: starColor === 'black' ? 10_000 : 2_500,
    ratingsUrl: `${peerUrl('ratings', env)}/ratings`,
    podName: env.HOSTNAME || os.hostname(),
    clusterName: env.CLUSTER_NAME || 'null',
    env,
  };
}

type Stars = Record<string, number>;

/** Asks ratings for the product's stars; undefined on any failure (the page then says ratings are unavailable). */
async function fetchRatings(cfg: ReviewsConfig, productId: number, incoming: http.IncomingHttpHeaders): Promise<Stars | undefined> {
  try {
    const res = await httpRequest({
      url: `${cfg.ratingsUrl}/${productId}`,
      headers: { accept: 'application/json', ...pickHeaders(incoming, REVIEWS_HEADERS) },
      timeoutMs: cfg.ratingsTimeoutMs,
      env: cfg.env,
    });
    if (res.status !== 200) return undefined;
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    const ratings = (parsed as { ratings?: unknown }).ratings;
    if (!ratings || typeof ratings !== 'object') return {};
    const out: Stars = {};
    for (const [k, v] of Object.entries(ratings as Record<string, unknown>)) if (typeof v === 'number') out[k] = v;
    return out;
  } catch {
    return undefined;
  }
}

/** The reviews JSON in upstream's field order: id, podname, clustername, reviews. */
export function reviewsBody(cfg: ReviewsConfig, productId: number, stars: Stars | undefined): Record<string, unknown> {
  return {
    id: String(productId),
    podname: cfg.podName,
    clustername: cfg.clusterName,
    reviews: REVIEWS.map((r) => {
      if (!cfg.ratingsEnabled) return { ...r };
      const n = stars?.[r.reviewer];
      return n !== undefined
        ? { ...r, rating: { stars: n, color: cfg.starColor } }
        : { ...r, rating: { error: RATINGS_UNAVAILABLE } };
    }),
  };
}

export interface ReviewsOptions extends StartOptions {
  /** Overrides the ratings timeout chosen by star colour (tests shorten it). */
  ratingsTimeoutMs?: number;
}

export function createReviewsServer(env: Env, ratingsTimeoutMs?: number): http.Server {
  const cfg = reviewsConfig(env);
  if (ratingsTimeoutMs !== undefined) cfg.ratingsTimeoutMs = ratingsTimeoutMs;
  return http.createServer((req, res) => {
    const { path } = splitUrl(req.url);
    if (path === '/health') {
      sendJson(res, 200, { status: 'Reviews is healthy' });
      return;
    }
    const m = /^\/reviews\/([+-]?\d+)\/?$/.exec(path);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) {
      sendJson(res, 404, { error: 'Not Found' });
      return;
    }
    const productId = Number(m[1]);
    const stars = cfg.ratingsEnabled ? fetchRatings(cfg, productId, req.headers) : Promise.resolve(undefined);
    stars.then((s) => sendJson(res, 200, reviewsBody(cfg, productId, s)));
  });
}

export function startReviews(opts: ReviewsOptions = {}): Promise<RunningApp> {
  const env = opts.env ?? process.env;
  return listen(createReviewsServer(env, opts.ratingsTimeoutMs), opts.port ?? 9080, opts.host ?? bindAddress(env));
}

if (isMain(import.meta.url)) {
  runUntilSignal('reviews', async () => {
    const app = await startReviews({ port: programPort(process.argv.slice(2), process.env, 9080) });
    const cfg = reviewsConfig(process.env);
    return { close: app.close, describe: `${cfg.version} listening on ${app.host}:${app.port}` };
  });
}
