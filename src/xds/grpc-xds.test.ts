// A real proxyless gRPC client (@grpc/grpc-js-xds, `xds:///` target) configured by the ADS server: it reaches a gRPC
// service through the listener/route/cluster/endpoints it is sent, and follows a change of route live.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { AdsServer } from './ads-server.js';
import type { ConfigGenerator, ProxyResources } from './generator.js';
import { TypeUrl, type XdsResource } from './resource.js';
import { startEcho } from './testing/raw-echo.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const TARGET = 'echo.default.svc.cluster.local:7070';

function config(ports: Record<string, number>, weights: Record<string, number>): ProxyResources {
  const r = (typeUrl: string, name: string, value: Record<string, unknown>): XdsResource => ({ typeUrl, name, value });
  const clusters = Object.keys(ports);
  return new Map([
    [TypeUrl.Listener, [r(TypeUrl.Listener, TARGET, { name: TARGET, apiListener: { apiListener: { '@type': HCM, rds: { routeConfigName: TARGET, configSource: { ads: {} } }, httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }] } } })]],
    [TypeUrl.RouteConfiguration, [r(TypeUrl.RouteConfiguration, TARGET, {
      name: TARGET,
      virtualHosts: [{ name: 'echo', domains: ['*'], routes: [{ match: { prefix: '' }, route: { weightedClusters: { clusters: clusters.map((c) => ({ name: c, weight: weights[c] ?? 0 })).filter((c) => c.weight > 0) } } }] }],
    })]],
    [TypeUrl.Cluster, clusters.map((c) => r(TypeUrl.Cluster, c, { name: c, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: c }, lbPolicy: 'ROUND_ROBIN' }))],
    [TypeUrl.ClusterLoadAssignment, clusters.map((c) => r(TypeUrl.ClusterLoadAssignment, c, {
      clusterName: c,
      endpoints: [{ locality: { region: 'local' }, loadBalancingWeight: 1, lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: ports[c] } } } }] }],
    }))],
  ]);
}

test('a @grpc/grpc-js-xds client calls through the config it is pushed, and follows a weighted split live', async () => {
  const v1 = await startEcho('v1');
  const v2 = await startEcho('v2');
  const ports = { 'outbound|7070|v1|echo.default.svc.cluster.local': v1.port, 'outbound|7070|v2|echo.default.svc.cluster.local': v2.port };
  let current = config(ports, { 'outbound|7070|v1|echo.default.svc.cluster.local': 100 });
  const generator: ConfigGenerator = { generate: () => current };
  const server = new AdsServer({ generator, debounceMs: 10, log: () => {} });
  const xdsPort = await server.listen('127.0.0.1', 0);

  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: 'sidecar~127.0.0.1~client-1.default~default.svc.cluster.local', cluster: 'client', locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  const client = new grpc.Client(`xds:///${TARGET}`, grpc.credentials.createInsecure());
  const call = () =>
    new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest('/test.Echo/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res!.toString()))),
    );
  try {
    assert.equal(await call(), 'v1');
    const proxy = server.proxies()[0]!;
    assert.equal(proxy.identity.generator, 'grpc');
    assert.deepEqual(proxy.types.find((t) => t.typeUrl === TypeUrl.Listener)!.subscribed, [TARGET]);

    // Shift to an even split: both versions answer, in roughly equal numbers.
    current = config(ports, { 'outbound|7070|v1|echo.default.svc.cluster.local': 50, 'outbound|7070|v2|echo.default.svc.cluster.local': 50 });
    server.requestPush({ reason: 'split' });
    const deadline = Date.now() + 5000;
    const seen = { v1: 0, v2: 0 } as Record<string, number>;
    while (seen.v2 === 0 && Date.now() < deadline) seen[await call()]!++;
    assert.ok(seen.v2 > 0, 'v2 starts answering after the push');
    const counts = { v1: 0, v2: 0 } as Record<string, number>;
    for (let i = 0; i < 200; i++) counts[await call()]!++;
    assert.ok(counts.v1! > 60 && counts.v2! > 60, JSON.stringify(counts));
    assert.ok(server.allSynced());
  } finally {
    client.close();
    await server.close();
    v1.server.forceShutdown();
    v2.server.forceShutdown();
  }
});
