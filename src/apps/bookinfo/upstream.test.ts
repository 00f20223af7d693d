// Tests of how Bookinfo services find their peers from upstream's and Kubernetes' environment variables.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerUrl } from './upstream.js';

test('bare service names on port 9080 by default', () => {
  assert.equal(peerUrl('reviews', {}), 'http://reviews:9080');
});

test('upstream settings: <PEER>_HOSTNAME and SERVICES_DOMAIN', () => {
  assert.equal(peerUrl('details', { SERVICES_DOMAIN: 'bookinfo.svc.cluster.local' }), 'http://details.bookinfo.svc.cluster.local:9080');
  assert.equal(peerUrl('ratings', { RATINGS_HOSTNAME: 'ratings-v2' }), 'http://ratings-v2:9080');
  // Upstream's settings win over the Kubernetes service links every pod gets.
  assert.equal(peerUrl('ratings', { RATINGS_HOSTNAME: 'r', RATINGS_SERVICE_HOST: '10.0.0.9' }), 'http://r:9080');
});

test('Kubernetes service link variables', () => {
  assert.equal(peerUrl('details', { DETAILS_SERVICE_HOST: '127.0.0.1', DETAILS_SERVICE_PORT: '4321' }), 'http://127.0.0.1:4321');
  assert.equal(peerUrl('details', { DETAILS_SERVICE_HOST: '::1' }), 'http://[::1]:9080');
});
