// proto3 JSON ⇄ binary round trips for the resources translation builds, and clear errors for JSON that does not fit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError, decodeToJson, encodeAny, encodeJson, anyToJson } from './codec.js';
import { TypeUrl } from './resource.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

const listener = {
  name: 'virtualOutbound',
  address: { socketAddress: { address: '0.0.0.0', portValue: 15001 } },
  useOriginalDst: true,
  filterChains: [
    {
      filterChainMatch: { destinationPort: 9080, applicationProtocols: ['http/1.1', 'h2c'] },
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typedConfig: {
            '@type': HCM,
            statPrefix: 'outbound_0.0.0.0_9080',
            rds: { routeConfigName: '9080', configSource: { ads: {}, resourceApiVersion: 'V3' } },
            httpFilters: [
              { name: 'envoy.filters.http.fault', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
              { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
            ],
            streamIdleTimeout: '0s',
            commonHttpProtocolOptions: { idleTimeout: '3600.5s' },
            normalizePath: true,
          },
        },
      ],
    },
  ],
  metadata: { filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/namespaces/default/sidecar/default', n: 2, ok: true, list: ['a', 1] } } },
};

test('a Listener with nested Any, durations, wrappers, enums and Struct survives a round trip', () => {
  const bytes = encodeJson(TypeUrl.Listener, listener);
  const back = decodeToJson(TypeUrl.Listener, bytes);
  assert.deepEqual(back, listener);
});

test('a Cluster and a ClusterLoadAssignment round-trip, including int64, UInt32Value and locality weights', () => {
  const cluster = {
    name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
    type: 'EDS',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    connectTimeout: '10s',
    lbPolicy: 'LEAST_REQUEST',
    circuitBreakers: { thresholds: [{ maxConnections: 100, maxPendingRequests: 10, maxRequests: 4294967295, maxRetries: 3 }] },
    outlierDetection: { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100 },
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        commonHttpProtocolOptions: { maxRequestsPerConnection: 1 },
        explicitHttpConfig: { http2ProtocolOptions: {} },
      },
    },
  };
  assert.deepEqual(decodeToJson(TypeUrl.Cluster, encodeJson(TypeUrl.Cluster, cluster)), cluster);
  const cla = {
    clusterName: cluster.name,
    endpoints: [{ locality: { region: 'r1', zone: 'z1' }, loadBalancingWeight: 2, lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.10.0.4', portValue: 9080 } } }, healthStatus: 'HEALTHY', loadBalancingWeight: 1 }] }],
  };
  assert.deepEqual(decodeToJson(TypeUrl.ClusterLoadAssignment, encodeJson(TypeUrl.ClusterLoadAssignment, cla)), cla);
});

test('snake_case input is accepted; output is proto3 JSON camelCase', () => {
  const back = decodeToJson(TypeUrl.RouteConfiguration, encodeJson(TypeUrl.RouteConfiguration, { name: '9080', virtual_hosts: [{ name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', timeout: '0s' } }] }] }));
  assert.deepEqual(back, { name: '9080', virtualHosts: [{ name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', timeout: '0s' } }] }] });
});

test('well-known types inside Any use {"@type", value}', () => {
  const any = encodeAny({ '@type': 'type.googleapis.com/google.protobuf.Duration', value: '2.25s' });
  assert.deepEqual(anyToJson(any), { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '2.25s' });
});

test('JSON that does not fit the type is an error naming the path, never an empty type URL', () => {
  assert.throws(() => encodeJson(TypeUrl.Cluster, { name: 'x', connectTimeout: 'soon' }), (e: unknown) => e instanceof CodecError && /connectTimeout: "soon" is not a proto3 duration/.test((e as Error).message));
  assert.throws(() => encodeJson(TypeUrl.Cluster, { name: 'x', lbPolicy: 'FASTEST' }), /lbPolicy: "FASTEST" is not a value of envoy.config.cluster.v3.Cluster.LbPolicy/);
  assert.throws(() => encodeJson(TypeUrl.Cluster, { name: 'x', colour: 'red' }), /colour: envoy.config.cluster.v3.Cluster has no field "colour"/);
  assert.throws(
    () => encodeJson(TypeUrl.Listener, { name: 'l', filterChains: [{ filters: [{ name: 'f', typedConfig: { '@type': 'type.googleapis.com/example.Unknown' } }] }] }),
    /filterChains\[0\]\.filters\[0\]\.typedConfig: type type.googleapis.com\/example.Unknown is not one Trellis loads/,
  );
});
