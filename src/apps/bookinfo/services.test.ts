// Tests of details, ratings and reviews v1/v2/v3 on real sockets: upstream's JSON, ratings colours, podname, header propagation to ratings.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDetails } from './details.js';
import { startRatings } from './ratings.js';
import { reviewsConfig, startReviews, RATINGS_UNAVAILABLE } from './reviews.js';
import { call, callJson, recordingServer } from '../lib/testing.js';
import type { RunningApp } from '../lib/serve.js';

const HOST = '127.0.0.1';
const started: RunningApp[] = [];
let details: RunningApp;
let ratings: RunningApp;
const reviews: Record<string, RunningApp> = {};

function ratingsEnv(app: { port: number }): Record<string, string> {
  return { RATINGS_SERVICE_HOST: HOST, RATINGS_SERVICE_PORT: String(app.port) };
}

before(async () => {
  details = await startDetails({ port: 0, host: HOST, env: {} });
  ratings = await startRatings({ port: 0, host: HOST, env: {} });
  started.push(details, ratings);
  for (const v of ['v1', 'v2', 'v3']) {
    reviews[v] = await startReviews({
      port: 0,
      host: HOST,
      env: { SERVICE_VERSION: v, HOSTNAME: `reviews-${v}-5b64f47978-abcde`, ...ratingsEnv(ratings) },
    });
    started.push(reviews[v]!);
  }
});

after(async () => {
  await Promise.all(started.map((a) => a.close()));
});

test('details answers upstream JSON, 400 for a non-numeric id, and /health', async () => {
  const { status, json } = await callJson(`${details.url}/details/0`);
  assert.equal(status, 200);
  assert.deepEqual(json, {
    id: 0,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  });
  const bad = await callJson(`${details.url}/details/abc`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json, { error: 'please provide numeric product id' });
  assert.deepEqual((await callJson(`${details.url}/health`)).json, { status: 'Details is healthy' });
});

test('ratings answers the in-memory stars, accepts POSTed ratings, and /health', async () => {
  const own = await startRatings({ port: 0, host: HOST, env: {} });
  try {
    assert.deepEqual((await callJson(`${own.url}/ratings/0`)).json, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    const post = await call(`${own.url}/ratings/7`, { method: 'POST', body: '{"Reviewer1":1,"Reviewer2":2}' });
    assert.equal(post.status, 200);
    assert.deepEqual((await callJson(`${own.url}/ratings/7`)).json, { id: 7, ratings: { Reviewer1: 1, Reviewer2: 2 } });
    assert.equal((await callJson(`${own.url}/ratings/x`)).status, 400);
    assert.deepEqual((await callJson(`${own.url}/health`)).json, { status: 'Ratings is healthy' });
  } finally {
    await own.close();
  }
});

test('reviews v1 has no ratings and names its pod', async () => {
  const { status, json } = await callJson(`${reviews.v1!.url}/reviews/0`);
  assert.equal(status, 200);
  assert.deepEqual(json, {
    id: '0',
    podname: 'reviews-v1-5b64f47978-abcde',
    clustername: 'null',
    reviews: [
      { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
      {
        reviewer: 'Reviewer2',
        text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.',
      },
    ],
  });
});

test('reviews v2 shows black stars and v3 red stars from ratings', async () => {
  for (const [v, color] of [
    ['v2', 'black'],
    ['v3', 'red'],
  ] as const) {
    const { json } = await callJson(`${reviews[v]!.url}/reviews/0`);
    const body = json as { podname: string; reviews: Array<{ rating: unknown }> };
    assert.equal(body.podname, `reviews-${v}-5b64f47978-abcde`);
    assert.deepEqual(
      body.reviews.map((r) => r.rating),
      [
        { stars: 5, color },
        { stars: 4, color },
      ],
    );
  }
  assert.deepEqual((await callJson(`${reviews.v2!.url}/health`)).json, { status: 'Reviews is healthy' });
});

test('version defaults as upstream images set them, with upstream\'s ratings timeouts (10 s black, 2.5 s otherwise)', () => {
  const pick = (env: Record<string, string>) => {
    const c = reviewsConfig(env);
    return [c.ratingsEnabled, c.starColor, c.ratingsTimeoutMs];
  };
  assert.deepEqual(pick({}), [false, 'black', 10_000]);
  assert.deepEqual(pick({ SERVICE_VERSION: 'v2' }), [true, 'black', 10_000]);
  assert.deepEqual(pick({ SERVICE_VERSION: 'v3' }), [true, 'red', 2_500]);
  assert.deepEqual(pick({ SERVICE_VERSION: 'v2', ENABLE_RATINGS: 'false' }), [false, 'black', 10_000]);
});

test('ENABLE_RATINGS and STAR_COLOR override the version defaults', async () => {
  const app = await startReviews({
    port: 0,
    host: HOST,
    env: { SERVICE_VERSION: 'v1', ENABLE_RATINGS: 'true', STAR_COLOR: 'blue', HOSTNAME: 'r', ...ratingsEnv(ratings) },
  });
  try {
    const { json } = await callJson(`${app.url}/reviews/0`);
    assert.deepEqual((json as { reviews: Array<{ rating: unknown }> }).reviews[0]!.rating, { stars: 5, color: 'blue' });
  } finally {
    await app.close();
  }
});

test('reviews says ratings are unavailable when ratings fails or is down', async () => {
  const failing = await recordingServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":"Service unavailable"}');
  });
  const down = await recordingServer();
  await down.close();
  const apps: RunningApp[] = [failing];
  try {
    for (const target of [failing, down]) {
      const app = await startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v2', HOSTNAME: 'r', ...ratingsEnv(target) } });
      apps.push(app);
      const { status, json } = await callJson(`${app.url}/reviews/0`);
      assert.equal(status, 200);
      assert.deepEqual(
        (json as { reviews: Array<{ rating: unknown }> }).reviews.map((r) => r.rating),
        [{ error: RATINGS_UNAVAILABLE }, { error: RATINGS_UNAVAILABLE }],
      );
    }
    assert.equal(failing.requests.length, 1);
  } finally {
    await Promise.all(apps.map((a) => a.close()));
  }
});

test('reviews forwards end-user and trace headers to ratings', async () => {
  const recorder = await recordingServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":0,"ratings":{"Reviewer1":3,"Reviewer2":1}}');
  });
  const app = await startReviews({ port: 0, host: HOST, env: { SERVICE_VERSION: 'v3', HOSTNAME: 'r', ...ratingsEnv(recorder) } });
  try {
    const sent = {
      'end-user': 'jason',
      'x-request-id': 'req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'congo=t61rcWkgMzE',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-sampled': '1',
      'user-agent': 'test-agent',
    };
    const { json } = await callJson(`${app.url}/reviews/0`, { ...sent, 'x-not-forwarded': 'no' });
    assert.deepEqual((json as { reviews: Array<{ rating: unknown }> }).reviews[1]!.rating, { stars: 1, color: 'red' });
    const seen = recorder.requests[0]!;
    assert.equal(seen.url, '/ratings/0');
    for (const [k, v] of Object.entries(sent)) assert.equal(seen.headers[k], v, k);
    assert.equal(seen.headers['x-not-forwarded'], undefined);
  } finally {
    await app.close();
    await recorder.close();
  }
});
