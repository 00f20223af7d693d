// Bookinfo's productpage (stands in for examples-bookinfo-productpage-v1): the web page and JSON API that call details and reviews, with login and header propagation as upstream.

import http from 'node:http';
import { httpRequest } from '../lib/http-client.js';
import { readBody, send, sendJson, splitUrl } from '../lib/http-util.js';
import { bindAddress, isMain, listen, programPort, runUntilSignal, type Env, type RunningApp, type StartOptions } from '../lib/serve.js';
import { PRODUCTPAGE_HEADERS, pickHeaders } from './propagation.js';
import { renderIndex, renderProductPage, type Product, type ProductPageModel } from './productpage-html.js';
import { DEFAULT_SESSION_SECRET, SESSION_COOKIE, encodeSession, sessionUser } from './session.js';
import { peerUrl } from './upstream.js';

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_UNAVAILABLE = 'Sorry, product ratings are currently unavailable for this book.';

/** Upstream's per-call timeout (Python requests, timeout=3.0). */
export const CALL_TIMEOUT_MS = 3000;

export interface ProductPageOptions extends StartOptions {
  /** Per-call timeout for details/reviews/ratings; upstream's 3 s unless a test shortens it. */
  callTimeoutMs?: number;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

interface Peers {
  details: string;
  reviews: string;
  ratings: string;
  timeoutMs: number;
}

type Outcome = [status: number, body: Record<string, unknown>];

/** One GET to a peer: [200, json] on success, else [peer's status or 500, error body]. */
async function getJson(url: string, headers: Record<string, string>, env: Env, errorText: string, timeoutMs: number): Promise<Outcome> {
  let status = 500;
  try {
    const res = await httpRequest({ url, headers, timeoutMs, env });
    status = res.status || 500;
    if (res.status === 200) return [200, JSON.parse(res.body.toString('utf8')) as Record<string, unknown>];
  } catch {
    // Unreachable, timed out or not JSON: fall through to the error answer.
  }
  return [status, { error: errorText }];
}

async function productDetails(peers: Peers, id: string, headers: Record<string, string>, env: Env): Promise<Outcome> {
  return getJson(`${peers.details}/details/${id}`, headers, env, DETAILS_UNAVAILABLE, peers.timeoutMs);
}

/** Upstream tries reviews twice (a bug kept on purpose for the fault-injection task), 3 s each. */
async function productReviews(peers: Peers, id: string, headers: Record<string, string>, env: Env): Promise<Outcome> {
  let last: Outcome = [500, { error: REVIEWS_UNAVAILABLE }];
  for (let attempt = 0; attempt < 2; attempt++) {
    last = await getJson(`${peers.reviews}/reviews/${id}`, headers, env, REVIEWS_UNAVAILABLE, peers.timeoutMs);
    if (last[0] === 200) return last;
  }
  return last;
}

async function productRatings(peers: Peers, id: string, headers: Record<string, string>, env: Env): Promise<Outcome> {
  return getJson(`${peers.ratings}/ratings/${id}`, headers, env, RATINGS_UNAVAILABLE, peers.timeoutMs);
}

/** Where to send the browser after login/logout: back where it came from, as upstream does. */
function backTo(req: http.IncomingMessage): string {
  const ref = req.headers.referer;
  return ref && !/[\r\n]/.test(ref) ? ref : '/productpage';
}

function redirect(res: http.ServerResponse, location: string, cookie: string): void {
  res.writeHead(302, { location, 'set-cookie': cookie, 'content-type': 'text/html; charset=utf-8', 'content-length': '0' });
  res.end();
}

export function createProductPageServer(env: Env, callTimeoutMs = CALL_TIMEOUT_MS): http.Server {
  const peers: Peers = {
    details: peerUrl('details', env),
    reviews: peerUrl('reviews', env),
    ratings: peerUrl('ratings', env),
    timeoutMs: callTimeoutMs,
  };
  const secret = env.SESSION_SECRET || DEFAULT_SESSION_SECRET;
  const floodFactor = Math.max(0, Number.parseInt(env.FLOOD_FACTOR ?? '0', 10) || 0);

  /** Headers for upstream calls: the propagated ones, and `end-user` = the logged-in user (else the caller's own end-user header). */
  const forwardHeaders = (req: http.IncomingMessage): Record<string, string> => {
    const headers = pickHeaders(req.headers, PRODUCTPAGE_HEADERS);
    const user = sessionUser(req.headers, secret);
    const incoming = req.headers['end-user'];
    if (user) headers['end-user'] = user;
    else if (typeof incoming === 'string') headers['end-user'] = incoming;
    return headers;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const { path } = splitUrl(req.url);
    const method = req.method ?? 'GET';
    const isGet = method === 'GET' || method === 'HEAD';

    if (isGet && (path === '/' || path === '/index.html')) {
      send(res, 200, renderIndex(peers), 'text/html; charset=utf-8');
      return;
    }
    if (isGet && path === '/health') {
      send(res, 200, 'Product page is healthy', 'text/html; charset=utf-8');
      return;
    }
    if (method === 'POST' && path === '/login') {
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      const user = form.get('username') ?? splitUrl(req.url).query.get('username') ?? '';
      redirect(res, backTo(req), `${SESSION_COOKIE}=${encodeSession(user, secret)}; Path=/; HttpOnly`);
      return;
    }
    if (isGet && path === '/logout') {
      redirect(res, backTo(req), `${SESSION_COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; HttpOnly`);
      return;
    }
    if (isGet && path === '/productpage') {
      const headers = forwardHeaders(req);
      const [detailsStatus, details] = await productDetails(peers, '0', headers, env);
      if (floodFactor > 0) {
        // Upstream's rate-limiting demo: extra reviews calls whose answers are thrown away.
        await Promise.all(Array.from({ length: floodFactor }, () => productReviews(peers, '0', headers, env)));
      }
      const [reviewsStatus, reviews] = await productReviews(peers, '0', headers, env);
      const html = renderProductPage({
        product: PRODUCTS[0],
        detailsStatus,
        details,
        reviewsStatus,
        reviews: reviews as ProductPageModel['reviews'],
        user: sessionUser(req.headers, secret) ?? '',
      });
      send(res, 200, html, 'text/html; charset=utf-8');
      return;
    }
    if (isGet && path === '/api/v1/products') {
      sendJson(res, 200, PRODUCTS);
      return;
    }
    const api = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
    if (isGet && api) {
      const id = encodeURIComponent(decodeURIComponent(api[1]!));
      const headers = forwardHeaders(req);
      const call = api[2] === 'reviews' ? productReviews : api[2] === 'ratings' ? productRatings : productDetails;
      const [status, body] = await call(peers, id, headers, env);
      sendJson(res, status, body);
      return;
    }
    send(
      res,
      404,
      '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n',
      'text/html; charset=utf-8',
    );
  };

  return http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `Internal Server Error: ${err instanceof Error ? err.message : String(err)}`, 'text/plain');
      else res.destroy();
    });
  });
}

export function startProductPage(opts: ProductPageOptions = {}): Promise<RunningApp> {
  const env = opts.env ?? process.env;
  return listen(createProductPageServer(env, opts.callTimeoutMs), opts.port ?? 9080, opts.host ?? bindAddress(env));
}

if (isMain(import.meta.url)) {
  runUntilSignal('productpage', async () => {
    const app = await startProductPage({ port: programPort(process.argv.slice(2), process.env, 9080) });
    return { close: app.close, describe: `listening on ${app.host}:${app.port}` };
  });
}
