// Tests of productpage wired to real details/reviews/ratings: API and HTML, login → end-user, trace propagation, error texts, HTTP_PROXY mode.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startDetails } from './details.js';
import { startRatings } from './ratings.js';
import { startReviews } from './reviews.js';
import { DETAILS_UNAVAILABLE, REVIEWS_UNAVAILABLE, startProductPage } from './productpage.js';
import { bookDetails } from './details.js';
import { call, callJson, recordingServer, type Recorded } from '../lib/testing.js';
import type { Env, RunningApp } from '../lib/serve.js';

const HOST = '127.0.0.1';
const toClose: RunningApp[] = [];
let details: RunningApp;
let ratings: RunningApp;
const reviews: Record<string, RunningApp> = {};
const pages: Record<string, RunningApp> = {};

function k8sEnv(name: string, app: { port: number }): Env {
  const key = name.toUpperCase();
  return { [`${key}_SERVICE_HOST`]: HOST, [`${key}_SERVICE_PORT`]: String(app.port) };
}

async function keep<T extends RunningApp>(app: Promise<T>): Promise<T> {
  const a = await app;
  toClose.push(a);
  return a;
}

/** A port nothing listens on. */
async function deadPort(): Promise<{ port: number }> {
  const s = await recordingServer();
  await s.close();
  return { port: s.port };
}

before(async () => {
  details = await keep(startDetails({ port: 0, host: HOST, env: {} }));
  ratings = await keep(startRatings({ port: 0, host: HOST, env: {} }));
  for (const v of ['v1', 'v2', 'v3']) {
    reviews[v] = await keep(
      startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: v, HOSTNAME: `reviews-${v}-pod`, ...k8sEnv('ratings', ratings) } }),
    );
    pages[v] = await keep(
      startProductPage({
        port: 0,
        host: HOST,
        env: { ...k8sEnv('details', details), ...k8sEnv('reviews', reviews[v]!), ...k8sEnv('ratings', ratings) },
      }),
    );
  }
});

after(async () => {
  await Promise.all(toClose.map((a) => a.close()));
});

test('/api/v1/products/0/reviews returns the reviews JSON as the serving pod produced it', async () => {
  for (const [v, color] of [
    ['v2', 'black'],
    ['v3', 'red'],
  ] as const) {
    const viaPage = await callJson(`${pages[v]!.url}/api/v1/products/0/reviews`);
    const direct = await callJson(`${reviews[v]!.url}/reviews/0`);
    assert.equal(viaPage.status, 200);
    assert.deepEqual(viaPage.json, direct.json);
    const body = viaPage.json as { podname: string; reviews: Array<{ rating: { color: string } }> };
    assert.equal(body.podname, `reviews-${v}-pod`);
    assert.equal(body.reviews[0]!.rating.color, color);
  }
  const v1 = (await callJson(`${pages.v1!.url}/api/v1/products/0/reviews`)).json as { reviews: Array<Record<string, unknown>> };
  assert.ok(v1.reviews.every((r) => !('rating' in r)));
});

test('the other API routes: products, product details, ratings', async () => {
  const page = pages.v2!.url;
  const products = await callJson(`${page}/api/v1/products`);
  assert.equal((products.json as Array<{ title: string }>)[0]!.title, 'The Comedy of Errors');
  assert.deepEqual((await callJson(`${page}/api/v1/products/0`)).json, bookDetails(0));
  assert.deepEqual((await callJson(`${page}/api/v1/products/0/ratings`)).json, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  const health = await call(`${page}/health`);
  assert.equal(health.body.toString(), 'Product page is healthy');
  const index = (await call(`${page}/`)).body.toString();
  assert.match(index, /<title>Simple Bookstore App<\/title>/);
  assert.match(index, /productpage\?u=normal/);
});

test('the product page shows details, reviews and stars in each version\'s colour', async () => {
  const html = async (v: string): Promise<string> => {
    const res = await call(`${pages[v]!.url}/productpage`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    return res.body.toString('utf8');
  };
  const v1 = await html('v1');
  assert.match(v1, /<title>Simple Bookstore App<\/title>/);
  assert.match(v1, /The Comedy of Errors/);
  assert.match(v1, /Book Details/);
  assert.match(v1, /PublisherA/);
  assert.match(v1, /123-1234567890/);
  assert.match(v1, /Book Reviews/);
  assert.match(v1, /An extremely entertaining play by Shakespeare/);
  assert.doesNotMatch(v1, /class="glyphicon/);
  assert.ok(!v1.includes('★'));
  for (const [v, color] of [
    ['v2', 'black'],
    ['v3', 'red'],
  ] as const) {
    const page = await html(v);
    assert.equal(page.match(/glyphicon-star">★/g)?.length, 9, 'five and four full stars');
    assert.equal(page.match(/class="glyphicon glyphicon-star-empty"/g)?.length, 1);
    assert.equal(page.match(new RegExp(`<font color="${color}"`, 'g'))?.length, 2);
  }
});

test('login sets a session cookie; the user is shown and sent upstream as end-user', async () => {
  const recorder = await recordingServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}');
  });
  const rev = await keep(startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v2', HOSTNAME: 'r', ...k8sEnv('ratings', recorder) } }));
  const page = await keep(
    startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', details), ...k8sEnv('reviews', rev) } }),
  );
  try {
    const login = await call(`${page.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=jason&passwd=secret',
    });
    assert.equal(login.status, 302);
    assert.equal(login.headers.location, '/productpage');
    const setCookie = login.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /^session=/);
    const cookie = setCookie.split(';')[0]!;

    const html = (await call(`${page.url}/productpage`, { headers: { cookie } })).body.toString();
    assert.match(html, /jason \( <a href="logout">sign out<\/a> \)/);
    assert.equal(recorder.requests.at(-1)!.headers['end-user'], 'jason');

    // Without a login, an incoming end-user header is passed on.
    await call(`${page.url}/api/v1/products/0/reviews`, { headers: { 'end-user': 'alice' } });
    assert.equal(recorder.requests.at(-1)!.headers['end-user'], 'alice');

    // A forged cookie is not a login.
    const forged = (await call(`${page.url}/productpage`, { headers: { cookie: 'session=eyJ1c2VyIjoiZXZlIn0.bad' } })).body.toString();
    assert.doesNotMatch(forged, /sign out/);
    assert.equal(recorder.requests.at(-1)!.headers['end-user'], undefined);

    const logout = await call(`${page.url}/logout`, { headers: { cookie, referer: 'http://example/productpage' } });
    assert.equal(logout.status, 302);
    assert.equal(logout.headers.location, 'http://example/productpage');
    assert.match(logout.headers['set-cookie']?.[0] ?? '', /^session=;.*Max-Age=0/);
  } finally {
    await recorder.close();
  }
});

test('trace headers from the caller reach details, reviews and ratings', async () => {
  const ratingsRec = await recordingServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}');
  });
  const detailsRec = await recordingServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(bookDetails(0)));
  });
  const rev = await keep(startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v2', HOSTNAME: 'r', ...k8sEnv('ratings', ratingsRec) } }));
  const page = await keep(startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', detailsRec), ...k8sEnv('reviews', rev) } }));
  try {
    const trace = {
      'x-request-id': '6f3c1c1e-2f7a-4c0e-9f5a-000000000001',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'rojo=00f067aa0ba902b7',
      b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      'x-b3-traceid': '4bf92f3577b34da6a3ce929d0e0e4736',
      'x-b3-spanid': '00f067aa0ba902b7',
      'x-b3-parentspanid': '5a2f3c4d5e6f7a8b',
      'x-b3-sampled': '1',
      'x-ot-span-context': 'ctx',
      'x-datadog-trace-id': '123',
      'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1',
      sw8: '1-abc',
    };
    const res = await call(`${page.url}/productpage`, { headers: trace });
    assert.equal(res.status, 200);
    const check = (seen: Recorded | undefined, who: string): void => {
      assert.ok(seen, `${who} was called`);
      for (const [k, v] of Object.entries(trace)) assert.equal(seen.headers[k], v, `${who}: ${k}`);
    };
    check(detailsRec.requests[0], 'details');
    check(ratingsRec.requests[0], 'ratings');
  } finally {
    await ratingsRec.close();
    await detailsRec.close();
  }
});

test('error texts when details, reviews or ratings are down', async () => {
  const dead = await deadPort();
  const page = await keep(startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', dead), ...k8sEnv('reviews', dead) } }));
  const html = (await call(`${page.url}/productpage`)).body.toString();
  assert.match(html, /Error fetching product details!/);
  assert.ok(html.includes(DETAILS_UNAVAILABLE));
  assert.match(html, /Error fetching product reviews!/);
  assert.ok(html.includes(REVIEWS_UNAVAILABLE));
  const api = await callJson(`${page.url}/api/v1/products/0/reviews`);
  assert.equal(api.status, 500);
  assert.deepEqual(api.json, { error: REVIEWS_UNAVAILABLE });
  const apiDetails = await callJson(`${page.url}/api/v1/products/0`);
  assert.deepEqual(apiDetails, { status: 500, json: { error: DETAILS_UNAVAILABLE } });

  // A failing reviews service: its status is passed through, after upstream's one retry.
  const failing = await recordingServer((_req, res) => {
    res.writeHead(503);
    res.end('upstream connect error');
  });
  const page2 = await keep(startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', details), ...k8sEnv('reviews', failing) } }));
  try {
    const r = await callJson(`${page2.url}/api/v1/products/0/reviews`);
    assert.equal(r.status, 503);
    assert.equal(failing.requests.length, 2, 'productpage tries reviews twice');
  } finally {
    await failing.close();
  }

  // Ratings down: the page still renders, with upstream's ratings error under each review.
  const rev = await keep(startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v3', HOSTNAME: 'r', ...k8sEnv('ratings', dead) } }));
  const page3 = await keep(startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', details), ...k8sEnv('reviews', rev) } }));
  const html3 = (await call(`${page3.url}/productpage`)).body.toString();
  assert.equal(html3.match(/<i>Ratings service is currently unavailable<\/i>/g)?.length, 2);
  assert.match(html3, /Book Details/);
});

/** A forward proxy standing in for a sidecar: records absolute-form requests and relays them by host name. */
async function recordingProxy(routes: Record<string, number>): Promise<RunningApp & { requests: Recorded[] }> {
  return recordingServer(async (req, res: http.ServerResponse) => {
    const target = new URL(req.url);
    const port = routes[target.host];
    if (!port) {
      res.writeHead(503);
      res.end('no healthy upstream');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'connection') headers[k] = v;
    const up = await call(`http://${HOST}:${port}${target.pathname}${target.search}`, { method: req.method, headers });
    res.writeHead(up.status, { 'content-type': String(up.headers['content-type'] ?? 'text/plain') });
    res.end(up.body);
  });
}

test('with HTTP_PROXY every upstream call goes to the proxy in absolute form; NO_PROXY bypasses it', async () => {
  const routes: Record<string, number> = {};
  const proxy = await recordingProxy(routes);
  const proxyEnv = { HTTP_PROXY: `http://${HOST}:${proxy.port}` };
  const rev = await keep(startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v2', HOSTNAME: 'reviews-v2-x', ...proxyEnv } }));
  Object.assign(routes, { 'details:9080': details.port, 'reviews:9080': rev.port, 'ratings:9080': ratings.port });
  const page = await keep(startProductPage({ port: 0, host: HOST, env: proxyEnv }));
  try {
    const res = await callJson(`${page.url}/api/v1/products/0/reviews`);
    assert.equal(res.status, 200);
    assert.equal((res.json as { podname: string }).podname, 'reviews-v2-x');
    const html = (await call(`${page.url}/productpage`)).body.toString();
    assert.match(html, /Book Details/);
    const urls = proxy.requests.map((r) => r.url);
    assert.ok(urls.includes('http://reviews:9080/reviews/0'), urls.join(' '));
    assert.ok(urls.includes('http://ratings:9080/ratings/0'), urls.join(' '));
    assert.ok(urls.includes('http://details:9080/details/0'), urls.join(' '));
    assert.equal(proxy.requests.find((r) => r.url.startsWith('http://reviews'))!.headers.host, 'reviews:9080');

    // NO_PROXY: details is reached directly, reviews still through the proxy.
    proxy.requests.length = 0;
    const page2 = await keep(
      startProductPage({ port: 0, host: HOST, env: { ...proxyEnv, NO_PROXY: `localhost,${HOST}`, ...k8sEnv('details', details) } }),
    );
    const html2 = (await call(`${page2.url}/productpage`)).body.toString();
    assert.match(html2, /Book Details/);
    assert.ok(!proxy.requests.some((r) => r.url.includes('/details/')), 'details bypassed the proxy');
    assert.ok(proxy.requests.some((r) => r.url === 'http://reviews:9080/reviews/0'));
  } finally {
    await proxy.close();
  }
});

test('timeouts: productpage gives up on a hanging reviews after two tries; reviews on a hanging ratings', async () => {
  const hanging = await recordingServer(() => new Promise<void>(() => undefined));
  try {
    const page = await keep(
      startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', details), ...k8sEnv('reviews', hanging) }, callTimeoutMs: 150 }),
    );
    const t0 = Date.now();
    const html = (await call(`${page.url}/productpage`)).body.toString();
    assert.ok(html.includes(REVIEWS_UNAVAILABLE));
    assert.match(html, /Book Details/);
    assert.ok(Date.now() - t0 >= 280, 'two attempts of 150 ms');
    assert.equal(hanging.requests.length, 2);

    const rev = await keep(
      startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v3', HOSTNAME: 'r', ...k8sEnv('ratings', hanging) }, ratingsTimeoutMs: 100 }),
    );
    const page2 = await keep(startProductPage({ port: 0, host: HOST, env: { ...k8sEnv('details', details), ...k8sEnv('reviews', rev) } }));
    const html2 = (await call(`${page2.url}/productpage`)).body.toString();
    assert.equal(html2.match(/Ratings service is currently unavailable/g)?.length, 2);
  } finally {
    // The hanging handlers never answer; closing drops their connections.
    await hanging.close();
  }
});
