// Translation: the xDS a given Istio config produces, feature by feature, and Bookinfo's configs accepted by the proxy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPaths, loadText } from '../../config/loader.js';
import { TrellisProxy } from '../../proxy/proxy.js';
import { istioSamplesDir } from '../../samples.js';
import { encodeResource } from '../../xds/wire.js';
import { TypeUrl, type ProxyNode } from '../../xds/resource.js';
import type { Resource } from '../../config/resource.js';
import { ServiceRegistry } from '../registry/service-registry.js';
import { MeshConfigGenerator } from './generator.js';
import { pushContextOf } from './testing.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const services = `
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {selector: {app: db}, ports: [{name: tcp-mysql, port: 3306}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
`;

function build(yaml: string, register = true) {
  const { resources, errors } = loadText(services + yaml, 'inline.yaml');
  assert.deepEqual(errors, []);
  const registry = new ServiceRegistry();
  registry.setResources(resources);
  if (register) {
    let n = 2;
    for (const [name, app, version] of [['productpage-v1-a', 'productpage', 'v1'], ['reviews-v1-a', 'reviews', 'v1'], ['reviews-v2-a', 'reviews', 'v2'], ['reviews-v3-a', 'reviews', 'v3'], ['ratings-v1-a', 'ratings', 'v1']]) {
      registry.upsertWorkload({ name: name!, namespace: 'default', labels: { app: app!, version: version! }, serviceAccount: `bookinfo-${app}`, address: `127.10.0.${n++}`, ports: {}, appAddress: '127.11.0.1', appPorts: { 9080: 20000 + n }, healthy: true, meshed: true });
    }
  }
  return new MeshConfigGenerator(pushContextOf(resources, registry));
}

const sidecar = (pod = 'productpage-v1-a', labels: Record<string, string> = { app: 'productpage', version: 'v1' }, ns = 'default'): ProxyNode => ({
  id: `sidecar~127.10.0.2~${pod}.${ns}~${ns}.svc.cluster.local`,
  cluster: 'x',
  metadata: { NAMESPACE: ns, LABELS: labels },
});

function out(gen: MeshConfigGenerator, node: ProxyNode = sidecar()) {
  const r = gen.generate(node);
  const list = (t: string) => (r.get(t) ?? []).map((x) => x.value as Json);
  return { listeners: list(TypeUrl.Listener), routes: list(TypeUrl.RouteConfiguration), clusters: list(TypeUrl.Cluster), endpoints: list(TypeUrl.ClusterLoadAssignment), raw: r };
}

/** The routes of the reviews virtual host on port 9080. */
function reviewsRoutes(gen: MeshConfigGenerator, node?: ProxyNode): Json[] {
  const rc = out(gen, node).routes.find((r) => r.name === '9080')!;
  return rc.virtualHosts.find((v: Json) => v.name === 'reviews.default.svc.cluster.local:9080').routes;
}

const vs = (body: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http:\n${body}`;

test('a service without a VirtualService: Istio names, domains, default route with retries, one cluster per subset', () => {
  const o = out(build(''), sidecar('reviews-v1-a', { app: 'reviews', version: 'v1' }));
  const names = o.clusters.map((c) => c.name);
  for (const n of ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080|v1|reviews.default.svc.cluster.local', 'outbound|9080|v3|reviews.default.svc.cluster.local', 'outbound|3306||db.data.svc.cluster.local', 'BlackHoleCluster', 'PassthroughCluster', 'inbound|9080||']) assert.ok(names.includes(n), n);
  const vh = o.routes.find((r) => r.name === '9080')!.virtualHosts.find((v: Json) => v.name === 'reviews.default.svc.cluster.local:9080');
  assert.deepEqual(vh.domains, ['reviews.default.svc.cluster.local', 'reviews.default.svc.cluster.local:9080', 'reviews.default.svc', 'reviews.default.svc:9080', 'reviews.default', 'reviews.default:9080', 'reviews', 'reviews:9080']);
  assert.equal(vh.routes[0].route.cluster, 'outbound|9080||reviews.default.svc.cluster.local');
  assert.equal(vh.routes[0].route.retryPolicy.numRetries, 2);
  assert.deepEqual(vh.routes[0].route.retryPolicy.retriableStatusCodes, [503]);
  // Endpoints: the subset cluster selects its version's workload only.
  const v2 = o.endpoints.find((e) => e.clusterName === 'outbound|9080|v2|reviews.default.svc.cluster.local')!;
  assert.deepEqual(v2.endpoints[0].lbEndpoints.map((e: Json) => e.endpoint.address.socketAddress.address), ['127.10.0.4']);
  assert.equal(v2.endpoints[0].loadBalancingWeight, 1);
  // Listeners: one per HTTP port (not bound), a TCP one, virtualOutbound, and the inbound listener on the pod address.
  assert.deepEqual(o.listeners.map((l) => l.name).sort(), ['0.0.0.0_3306', '0.0.0.0_9080', '127.10.0.3_9080', 'virtualOutbound'].sort());
  const inbound = o.clusters.find((c) => c.name === 'inbound|9080||')!;
  assert.deepEqual(inbound.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: '127.11.0.1', portValue: 20004 });
  // Every resource encodes to protobuf.
  for (const list of o.raw.values()) for (const r of list) encodeResource(r);
});

test('matches: uri exact/prefix/regex, headers, withoutHeaders, query, method, authority, port, sourceLabels', () => {
  const gen = build(vs(`  - match:
    - uri: {exact: /a}
      ignoreUriCase: true
    - uri: {regex: "/r/[0-9]+"}
      headers: {end-user: {exact: jason}, x-present: {}}
      withoutHeaders: {x-debug: {prefix: "1"}}
      queryParams: {q: {exact: "1"}}
      method: {exact: GET}
      authority: {prefix: reviews}
    - port: 9999
    - sourceLabels: {app: other}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
`));
  const routes = reviewsRoutes(gen);
  assert.equal(routes.length, 3, 'the port-9999 and sourceLabels matches do not apply to this proxy');
  assert.deepEqual(routes[0].match, { path: '/a', caseSensitive: false });
  assert.deepEqual(routes[1].match.safeRegex, { regex: '/r/[0-9]+' });
  assert.deepEqual(routes[1].match.headers, [
    { name: 'end-user', stringMatch: { exact: 'jason' } },
    { name: 'x-present', presentMatch: true },
    { name: 'x-debug', stringMatch: { prefix: '1' }, invertMatch: true },
    { name: ':method', stringMatch: { exact: 'GET' } },
    { name: ':authority', stringMatch: { prefix: 'reviews' } },
  ]);
  assert.deepEqual(routes[1].match.queryParameters, [{ name: 'q', stringMatch: { exact: '1' } }]);
  assert.equal(routes[1].route.cluster, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.equal(routes[2].route.cluster, 'outbound|9080|v1|reviews.default.svc.cluster.local');
  assert.equal(routes[2].metadata.filterMetadata.istio.config, '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews');
  // A proxy with the source labels gets that match.
  assert.equal(reviewsRoutes(gen, sidecar('other-1', { app: 'other' })).length, 4);
});

test('weighted destinations, per-destination headers, rewrite, timeout, retries', () => {
  const routes = reviewsRoutes(build(vs(`  - rewrite: {uri: /v2/, authority: reviews.internal}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "gateway-error,connect-failure,429"}
    headers:
      request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
      response: {remove: [server]}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 75
      headers: {request: {set: {x-v: v1}}}
    - destination: {host: reviews, subset: v3}
      weight: 25
`)));
  const r = routes[0];
  assert.deepEqual(r.route.weightedClusters.clusters.map((c: Json) => [c.name, c.weight]), [['outbound|9080|v1|reviews.default.svc.cluster.local', 75], ['outbound|9080|v3|reviews.default.svc.cluster.local', 25]]);
  assert.deepEqual(r.route.weightedClusters.clusters[0].requestHeadersToAdd, [{ header: { key: 'x-v', value: 'v1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
  assert.equal(r.route.prefixRewrite, '/v2/');
  assert.equal(r.route.hostRewriteLiteral, 'reviews.internal');
  assert.equal(r.route.timeout, '1.5s');
  assert.deepEqual(r.route.retryPolicy.retriableStatusCodes, [429]);
  assert.equal(r.route.retryPolicy.retryOn, 'gateway-error,connect-failure,retriable-status-codes');
  assert.equal(r.route.retryPolicy.numRetries, 3);
  assert.equal(r.route.retryPolicy.perTryTimeout, '0.5s');
  assert.deepEqual(r.requestHeadersToAdd, [{ header: { key: 'x-a', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }, { header: { key: 'x-b', value: '2' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' }]);
  assert.deepEqual(r.requestHeadersToRemove, ['x-c']);
  assert.deepEqual(r.responseHeadersToRemove, ['server']);
  // A rule with matches only falls through to the service's default route.
  assert.equal(reviewsRoutes(build(vs('  - match: [{uri: {prefix: /x}}]\n    route: [{destination: {host: reviews}}]\n'))).at(-1)!.name, 'default');
  // attempts: 0 means no retries.
  assert.equal(reviewsRoutes(build(vs('  - retries: {attempts: 0}\n    route: [{destination: {host: reviews}}]\n')))[0].route.retryPolicy, undefined);
});

test('redirect, direct response, fault delay/abort, mirror with percentage, CORS', () => {
  const routes = reviewsRoutes(build(vs(`  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, authority: example.com, redirectCode: 308}
  - match: [{uri: {prefix: /health}}]
    directResponse: {status: 200, body: {string: ok}}
  - fault:
      delay: {fixedDelay: 7s, percentage: {value: 50}}
      abort: {httpStatus: 418, percentage: {value: 0.1}}
    mirror: {host: ratings}
    mirrorPercentage: {value: 10}
    corsPolicy:
      allowOrigins: [{exact: "https://a.example"}, {regex: ".*\\\\.b\\\\.example"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a]
      maxAge: 24h
      allowCredentials: true
    route: [{destination: {host: reviews}}]
`)));
  assert.deepEqual(routes[0].redirect, { pathRedirect: '/new', hostRedirect: 'example.com', responseCode: 'PERMANENT_REDIRECT' });
  assert.deepEqual(routes[1].directResponse, { status: 200, body: { inlineString: 'ok' } });
  const fault = routes[2].typedPerFilterConfig['envoy.filters.http.fault'];
  assert.deepEqual(fault.delay, { fixedDelay: '7s', percentage: { numerator: 500000, denominator: 'MILLION' } });
  assert.deepEqual(fault.abort, { percentage: { numerator: 1000, denominator: 'MILLION' }, httpStatus: 418 });
  assert.deepEqual(routes[2].route.requestMirrorPolicies, [{ cluster: 'outbound|9080||ratings.default.svc.cluster.local', runtimeFraction: { defaultValue: { numerator: 100000, denominator: 'MILLION' } }, traceSampled: false }]);
  const cors = routes[2].typedPerFilterConfig['envoy.filters.http.cors'];
  assert.deepEqual(cors.allowOriginStringMatch, [{ exact: 'https://a.example' }, { safeRegex: { regex: '.*\\.b\\.example' } }]);
  assert.equal(cors.allowMethods, 'GET,POST');
  assert.equal(cors.maxAge, '86400');
  assert.equal(cors.allowCredentials, true);
});

test('DestinationRule policies: load balancers, consistent hash on the route, pools, outlier detection, per-port and subset overrides', () => {
  const gen = build(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpCookie: {name: user, ttl: 0s}}
    connectionPool:
      tcp: {maxConnections: 10, connectTimeout: 250ms}
      http: {http1MaxPendingRequests: 1, http2MaxRequests: 20, maxRetries: 2, idleTimeout: 30s, maxRequestsPerConnection: 5}
    outlierDetection: {consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m, maxEjectionPercent: 50}
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
`);
  const o = out(gen);
  const c = o.clusters.find((x) => x.name === 'outbound|9080||ratings.default.svc.cluster.local')!;
  assert.equal(c.lbPolicy, 'RANDOM', 'port-level settings override the rule');
  assert.equal(c.connectTimeout, '0.25s');
  assert.deepEqual(c.circuitBreakers.thresholds[0], { maxConnections: 10, maxPendingRequests: 1, maxRequests: 20, maxRetries: 2, trackRemaining: true });
  assert.deepEqual(c.outlierDetection, { enforcingConsecutive5xx: 100, enforcingSuccessRate: 0, consecutive5xx: 3, interval: '5s', baseEjectionTime: '60s', maxEjectionPercent: 50 });
  assert.deepEqual(c.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].commonHttpProtocolOptions, { idleTimeout: '30s', maxRequestsPerConnection: 5 });
  assert.equal(c.metadata.filterMetadata.istio.config, '/apis/networking.istio.io/v1/namespaces/default/destination-rule/ratings');
  assert.equal(o.clusters.find((x) => x.name === 'outbound|9080|v1|ratings.default.svc.cluster.local')!.lbPolicy, 'ROUND_ROBIN');
  const reviews = out(build(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
`)).clusters.find((x) => x.name === 'outbound|9080||ratings.default.svc.cluster.local')!;
  assert.equal(reviews.lbPolicy, 'RING_HASH');
  const route = out(build(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
`)).routes.find((r) => r.name === '9080')!.virtualHosts.find((v: Json) => v.name.startsWith('ratings.')).routes[0];
  assert.deepEqual(route.route.hashPolicy, [{ header: { headerName: 'x-user' } }]);
});

test("DestinationRule precedence: the proxy's namespace, then the service's, then the root namespace", () => {
  const dr = (ns: string, lb: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings-${ns}, namespace: ${ns}}\nspec:\n  host: ratings.default.svc.cluster.local\n  trafficPolicy: {loadBalancer: {simple: ${lb}}}\n---\n`;
  const lb = (yaml: string, ns: string) => out(build(yaml), sidecar('client-1', { app: 'client' }, ns)).clusters.find((c) => c.name === 'outbound|9080||ratings.default.svc.cluster.local')!.lbPolicy;
  const all = dr('istio-system', 'ROUND_ROBIN') + dr('default', 'RANDOM') + dr('shop', 'PASSTHROUGH');
  assert.equal(lb(all, 'default'), 'RANDOM');
  assert.equal(lb(all, 'shop'), 'CLUSTER_PROVIDED');
  assert.equal(lb(all, 'other'), 'RANDOM', "the service's namespace before the root namespace");
  assert.equal(lb(dr('istio-system', 'ROUND_ROBIN'), 'other'), 'ROUND_ROBIN');
});

test('Sidecar egress scoping and REGISTRY_ONLY', () => {
  const gen = build(`apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec:
  egress:
  - hosts: ["./ratings.default.svc.cluster.local"]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`);
  const o = out(gen);
  const hosts = new Set(o.clusters.filter((c) => c.name.startsWith('outbound|')).map((c) => c.name.split('|')[3]));
  assert.deepEqual([...hosts], ['ratings.default.svc.cluster.local']);
  const vhosts = o.routes.find((r) => r.name === '9080')!.virtualHosts;
  assert.deepEqual(vhosts.at(-1), { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502 } }] });
  assert.equal(o.listeners.find((l) => l.name === 'virtualOutbound')!.defaultFilterChain.name, 'BlackHoleCluster');
});

test('ServiceEntry: DNS resolution becomes STRICT_DNS with its endpoints; NONE becomes ORIGINAL_DST', () => {
  const o = out(build(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: any}
spec:
  hosts: ["*.wild.example"]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: NONE
`));
  const dns = o.clusters.find((c) => c.name === 'outbound|443||api.example.com')!;
  assert.equal(dns.type, 'STRICT_DNS');
  assert.deepEqual(dns.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: 'api.example.com', portValue: 443 });
  assert.equal(o.clusters.find((c) => c.name === 'outbound|80||*.wild.example')!.type, 'ORIGINAL_DST');
});

test('proxyless gRPC gets API listeners named as clients dial them, EDS clusters with round robin and locality weights', () => {
  const o = out(build(''), { id: 'sidecar~127.0.0.9~client-1.default~default.svc.cluster.local', cluster: 'x', metadata: { GENERATOR: 'grpc', NAMESPACE: 'default' } });
  const names = o.listeners.map((l) => l.name);
  for (const n of ['reviews.default.svc.cluster.local:9080', 'reviews:9080', 'reviews.default:9080']) assert.ok(names.includes(n), n);
  const l = o.listeners.find((x) => x.name === 'reviews:9080')!;
  assert.equal(l.apiListener.apiListener.rds.routeConfigName, 'reviews.default.svc.cluster.local:9080');
  assert.deepEqual(l.apiListener.apiListener.httpFilters.map((f: Json) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.router']);
  assert.ok(o.clusters.filter((c) => c.type === 'EDS').every((c) => c.lbPolicy === 'ROUND_ROBIN'));
  assert.ok(o.endpoints.every((e) => e.endpoints.every((loc: Json) => loc.loadBalancingWeight >= 1)));
});

test("Bookinfo: every workload's sidecar config and the ingress gateway's are accepted by Trellis's proxy", async () => {
  const dir = `${istioSamplesDir()}/bookinfo`;
  const { resources } = await loadPaths([`${dir}/platform/kube/bookinfo.yaml`, `${dir}/networking/bookinfo-gateway.yaml`, `${dir}/networking/destination-rule-all.yaml`, `${dir}/networking/virtual-service-reviews-jason-v2-v3.yaml`, `${dir}/networking/virtual-service-ratings-test-delay.yaml`]);
  const registry = new ServiceRegistry();
  registry.setResources(resources as Resource[]);
  const pods: Array<[string, string, string]> = [['details-v1-1', 'details', 'v1'], ['ratings-v1-1', 'ratings', 'v1'], ['reviews-v1-1', 'reviews', 'v1'], ['reviews-v2-1', 'reviews', 'v2'], ['reviews-v3-1', 'reviews', 'v3'], ['productpage-v1-1', 'productpage', 'v1']];
  pods.forEach(([name, app, version], i) => registry.upsertWorkload({ name, namespace: 'default', labels: { app, version }, serviceAccount: `bookinfo-${app}`, address: `127.0.0.1`, ports: {}, appAddress: '127.0.0.1', appPorts: { 9080: 1 + i }, healthy: true, meshed: true }));
  const gen = new MeshConfigGenerator(pushContextOf(resources, registry));
  const nodes: ProxyNode[] = [
    ...pods.map(([name, app, version]) => ({ id: `sidecar~127.0.0.1~${name}.default~default.svc.cluster.local`, cluster: app, metadata: { NAMESPACE: 'default', LABELS: { app, version }, OUTBOUND_PORT: 0 } })),
    { id: 'router~127.0.0.1~istio-ingressgateway-1.istio-system~istio-system.svc.cluster.local', cluster: 'gw', metadata: { NAMESPACE: 'istio-system', LABELS: { istio: 'ingressgateway' }, GATEWAY_PORTS: { '8080': 0 } } },
  ];
  for (const node of nodes) {
    const r = gen.generate(node);
    const list = (t: string) => (r.get(t) ?? []).map((x) => x.value);
    // Inbound listeners bind the pod address and port: give them port 0 here so the test binds nothing fixed.
    const listeners = list(TypeUrl.Listener).map((l: Json) => (l.trafficDirection === 'INBOUND' ? { ...l, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } } } : l));
    const proxy = new TrellisProxy({ nodeId: node.id });
    try {
      const applied = await proxy.apply({ listeners, routes: list(TypeUrl.RouteConfiguration), clusters: list(TypeUrl.Cluster), endpoints: list(TypeUrl.ClusterLoadAssignment) });
      assert.deepEqual(applied.issues.filter((i) => !/warning/i.test(String((i as { level?: string }).level ?? 'warning'))), [], node.id);
    } finally {
      await proxy.close();
    }
    for (const l of r.values()) for (const x of l) encodeResource(x);
  }
  const gw = out(gen, nodes.at(-1)!);
  const vh = gw.routes.find((x) => x.name === 'http.8080')!.virtualHosts[0];
  assert.deepEqual(vh.domains, ['*']);
  assert.deepEqual(vh.routes.map((x: Json) => x.match.path ?? `${x.match.prefix}*`), ['/productpage', '/static*', '/login', '/logout', '/api/v1/products*']);
});

test('the mesh config decides mTLS defaults: ServiceMeshControlPlane dataPlane.mtls makes inbound STRICT; enableAutoMtls: false keeps clients plaintext', () => {
  const tlsOnly = (o: ReturnType<typeof out>) => o.listeners.find((l) => l.name === '127.10.0.3_9080')!.filterChains.map((c: Json) => c.filterChainMatch?.transportProtocol ?? 'any');
  const reviews = sidecar('reviews-v1-a', { app: 'reviews', version: 'v1' });
  assert.deepEqual(tlsOnly(out(build(''), reviews)), ['tls', 'raw_buffer'], 'Istio: PERMISSIVE unless told');
  const smcp = `apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: basic, namespace: istio-system}\nspec: {security: {dataPlane: {mtls: true}}}\n---\n`;
  assert.deepEqual(tlsOnly(out(build(smcp), reviews)), ['tls'], 'dataPlane.mtls: STRICT mesh-wide');
  const permissive = `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: PERMISSIVE}}\n---\n`;
  assert.deepEqual(tlsOnly(out(build(smcp + permissive), reviews)), ['tls', 'raw_buffer'], 'a root PeerAuthentication still decides');
  const mtlsTo = (o: ReturnType<typeof out>) => !!o.clusters.find((c) => c.name === 'outbound|9080||reviews.default.svc.cluster.local')!.transportSocket;
  assert.equal(mtlsTo(out(build(''))), true, 'auto mTLS to sidecars');
  const noAuto = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: "enableAutoMtls: false"\n---\n`;
  assert.equal(mtlsTo(out(build(noAuto))), false, 'enableAutoMtls: false');
});

test("a match's gateways name Gateways in the VirtualService's namespace, not the gateway proxy's (Istio's egress task)", () => {
  const gen = build(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: istio-egressgateway}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [reviews.default.svc.cluster.local]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: via-egress}
spec:
  hosts: [reviews.default.svc.cluster.local]
  gateways: [istio-egressgateway, mesh]
  http:
  - match: [{gateways: [istio-egressgateway], port: 80}]
    route: [{destination: {host: reviews, subset: v2, port: {number: 9080}}}]
`);
  const node: ProxyNode = { id: 'router~10.0.0.9~istio-egressgateway-1.istio-system~istio-system.svc.cluster.local', cluster: 'x', metadata: { NAMESPACE: 'istio-system', LABELS: { istio: 'egressgateway' }, GATEWAY_PORTS: { '80': 8080 } } };
  const rc = out(gen, node).routes.find((r) => r.name === 'http.80')!;
  assert.deepEqual(rc.virtualHosts[0].routes.map((r: Json) => r.route.cluster), ['outbound|9080|v2|reviews.default.svc.cluster.local']);
});
