// Istio's sidecar outbound shape without traffic capture: HTTP_PROXY clients talk to virtualOutbound, each request reaches
// the bindToPort:false listener of its target port, unknown ports fall through to PassthroughCluster.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Listener } from '../../xds/envoy/index.js';
import type { TrellisProxy } from '../proxy.js';
import type { HttpRequestRecord } from '../records.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, T, vhost, waitFor, type Upstream } from '../testing.js';

describe('virtualOutbound (useOriginalDst) with HTTP_PROXY-style requests', () => {
  let reviews: Upstream, external: Upstream;
  let proxy: TrellisProxy;
  let port: number;
  const records: HttpRequestRecord[] = [];

  before(async () => {
    reviews = await startUpstream('reviews');
    external = await startUpstream('external');
    const virtualOutbound: Listener = {
      name: 'virtualOutbound',
      address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
      useOriginalDst: true,
      filterChains: [
        {
          name: 'virtualOutbound-blackhole',
          filterChainMatch: { destinationPort: 15001 },
          filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: 'BlackHoleCluster', cluster: 'BlackHoleCluster' } }],
        },
      ],
      defaultFilterChain: {
        name: 'PassthroughFilterChain',
        filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: 'PassthroughCluster', cluster: 'PassthroughCluster' } }],
      },
    };
    const outbound9080 = { ...httpListener('0.0.0.0_9080', '9080', {}, '0.0.0.0', 9080), bindToPort: false };
    const started = await startProxy({
      listeners: [virtualOutbound, outbound9080],
      routes: [routeConfig('9080', [vhost('reviews.default.svc.cluster.local:9080', ['reviews', 'reviews:9080', 'reviews.default.svc.cluster.local:9080'], [routeTo('outbound|9080||reviews.default.svc.cluster.local')])])],
      clusters: [
        edsCluster('outbound|9080||reviews.default.svc.cluster.local'),
        { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: '1s' },
        { name: 'BlackHoleCluster', type: 'STATIC', connectTimeout: '1s' },
      ],
      endpoints: [cla('outbound|9080||reviews.default.svc.cluster.local', [{ port: reviews.port }])],
    });
    proxy = started.proxy;
    port = started.port('virtualOutbound');
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([reviews.close(), external.close()]);
  });

  test('an absolute-form request to reviews:9080 takes the 0.0.0.0_9080 listener and its routes', async () => {
    const n = records.length;
    const r = await request(port, { path: 'http://reviews:9080/reviews/0', headers: { host: 'reviews:9080' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'reviews');
    assert.equal(reviews.requests.at(-1)!.url, '/reviews/0');
    await waitFor(() => records.length > n, 2000, 'the record');
    assert.equal(records.at(-1)!.listener, '0.0.0.0_9080', 'the listener after the original_dst hand-off');
    assert.equal(records.at(-1)!.statPrefix, '0.0.0.0_9080');
    assert.equal(records.at(-1)!.upstreamCluster, 'outbound|9080||reviews.default.svc.cluster.local');
  });

  test('a port without a listener passes through to the original destination (ALLOW_ANY)', async () => {
    const r = await request(port, { path: `http://127.0.0.1:${external.port}/out`, headers: { host: `127.0.0.1:${external.port}` } });
    assert.equal(r.body, 'external');
    assert.equal(external.requests.at(-1)!.url, '/out');
  });
});
