// Gateway API translation: what a deployed Gateway's proxy and a sidecar get from Gateways and routes, checked by
// sending simulated requests through the route tables a real proxy compiled (and accepted) from that config.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestPki } from '../../../proxy/tls/pki-testing.js';
import { istioSamplesDir } from '../../../samples.js';
import { buildGatewayApi, compiled, configFor, gatewayNode, outcome, sidecarNode, tlsSecretYaml } from './testing.js';

const svc = (name: string, ns = 'default', port = 8080, extra = '') => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: [{name: http, port: ${port}${extra}}]}
---
`;
const cluster = (name: string, ns = 'default', port = 8080) => `outbound|${port}||${name}.${ns}.svc.cluster.local`;

const gateway = (listeners: string, name = 'gw', ns = 'default') => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  gatewayClassName: istio
  listeners:
${listeners}
---
`;

test("Istio's Bookinfo gateway: a listener on the declared port 80 at the gateway's own address, exact and prefix matches, 404 elsewhere", async () => {
  const s = istioSamplesDir();
  const yaml = [readFileSync(`${s}/bookinfo/platform/kube/bookinfo.yaml`, 'utf8'), readFileSync(`${s}/bookinfo/gateway-api/bookinfo-gateway.yaml`, 'utf8')].join('\n---\n');
  const b = buildGatewayApi(yaml, ['default/bookinfo-gateway']);
  const gw = configFor(b, gatewayNode('default', 'bookinfo-gateway'));
  assert.deepEqual(gw.listeners.map((l) => [l.name, l.address?.socketAddress?.address, l.address?.socketAddress?.portValue]), [['0.0.0.0_80', '127.10.255.2', 80]]);
  const p = await compiled(gw);
  try {
    const productpage = cluster('productpage', 'default', 9080);
    assert.equal(outcome(p.route('http.80', { host: 'anything.example', path: '/productpage' })), productpage);
    assert.equal(outcome(p.route('http.80', { host: 'x', path: '/static/css/x.css' })), productpage);
    assert.equal(outcome(p.route('http.80', { host: 'x', path: '/api/v1/products/0/reviews' })), productpage);
    assert.equal(outcome(p.route('http.80', { host: 'x', path: '/staticfoo' })), 'none', 'a prefix matches whole path segments');
    assert.equal(outcome(p.route('http.80', { host: 'x', path: '/productpage/x' })), 'none', 'Exact is exact');
  } finally {
    await p.close();
  }
  // A sidecar is not a gateway: it gets none of this.
  const sidecar = configFor(b, sidecarNode('default', 'productpage-v1-x', { app: 'productpage', version: 'v1' }));
  assert.ok(!sidecar.routes.some((r) => r.name === 'http.80'));
});

test('precedence across routes: Exact, then the longest prefix, then method, headers and query count; ties to the older route, then namespace/name', async () => {
  const yaml = `${svc('a')}${svc('b')}${svc('c')}${svc('d')}${gateway('  - {name: http, port: 80, protocol: HTTP}')}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: zz-older, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: a, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: aa-newer, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: b, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2/example}}, {path: {type: Exact, value: /v2}}]
    backendRefs: [{name: c, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2}, headers: [{name: version, value: two}]}, {path: {type: PathPrefix, value: /v2}, method: POST}]
    backendRefs: [{name: d, port: 8080}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const p = await compiled(configFor(b, gatewayNode('default', 'gw')));
  try {
    const to = (path: string, extra: { method?: string; headers?: Record<string, string> } = {}) => outcome(p.route('http.80', { host: 'h', path, ...extra }));
    assert.equal(to('/v2/x'), cluster('a'), 'equal matches: the older route wins');
    assert.equal(to('/v2'), cluster('c'), 'Exact before prefixes');
    assert.equal(to('/v2/example/1'), cluster('c'), 'the longest prefix');
    assert.equal(to('/v2/x', { method: 'POST' }), cluster('d'), 'a method match before a plain prefix of the same length');
    assert.equal(to('/v2/x', { headers: { version: 'two' } }), cluster('d'), 'a header match before a plain prefix');
    assert.equal(to('/v3'), 'none');
  } finally {
    await p.close();
  }
});

test('listener hostnames and route hostnames intersect; each listener keeps its own hosts (isolation); no match is 404', async () => {
  const yaml = `${svc('a')}${svc('b')}${svc('c')}${svc('d')}${gateway(`  - {name: bar, port: 80, protocol: HTTP, hostname: bar.com}
  - {name: foo-bar, port: 80, protocol: HTTP, hostname: foo.bar.com}
  - {name: wild-bar, port: 80, protocol: HTTP, hostname: "*.bar.com"}`)}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r-bar}
spec:
  parentRefs: [{name: gw, sectionName: bar}]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r-foo-bar}
spec:
  parentRefs: [{name: gw, sectionName: foo-bar}]
  rules: [{backendRefs: [{name: b, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r-wild}
spec:
  parentRefs: [{name: gw, sectionName: wild-bar}]
  rules: [{backendRefs: [{name: c, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r-specific}
spec:
  parentRefs: [{name: gw, sectionName: wild-bar}]
  hostnames: [very.specific.bar.com, other.com]
  rules: [{backendRefs: [{name: d, port: 8080}]}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const p = await compiled(configFor(b, gatewayNode('default', 'gw')));
  try {
    const to = (host: string) => outcome(p.route('http.80', { host, path: '/' }));
    assert.equal(to('bar.com'), cluster('a'));
    assert.equal(to('foo.bar.com'), cluster('b'), "the wildcard listener's routes never see foo.bar.com");
    assert.equal(to('baz.bar.com'), cluster('c'));
    assert.equal(to('a.b.bar.com'), cluster('c'), 'a wildcard covers several labels');
    assert.equal(to('very.specific.bar.com'), cluster('d'));
    assert.equal(to('other.com'), 'none', 'other.com does not intersect *.bar.com');
    assert.equal(to('bar.com:80'), cluster('a'), 'the port in Host is ignored');
  } finally {
    await p.close();
  }
});

test('backends: weights, 0-weight, and unusable ones (missing, not permitted, unknown kind) answer 500 for their share', async () => {
  const yaml = `${svc('a')}${svc('b')}${svc('other', 'elsewhere')}${gateway('  - {name: http, port: 80, protocol: HTTP}')}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /split}}]
    backendRefs: [{name: a, port: 8080, weight: 70}, {name: b, port: 8080, weight: 30}, {name: a, port: 8080, weight: 0}]
  - matches: [{path: {value: /missing}}]
    backendRefs: [{name: nope, port: 8080}]
  - matches: [{path: {value: /forbidden}}]
    backendRefs: [{name: other, namespace: elsewhere, port: 8080}]
  - matches: [{path: {value: /kind}}]
    backendRefs: [{group: example.com, kind: Thing, name: a}]
  - matches: [{path: {value: /half}}]
    backendRefs: [{name: a, port: 8080, weight: 1}, {name: nope, port: 8080, weight: 1}]
  - matches: [{path: {value: /zero}}]
    backendRefs: [{name: a, port: 8080, weight: 0}]
  - matches: [{path: {value: /none}}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const gw = configFor(b, gatewayNode('default', 'gw'));
  const p = await compiled(gw);
  try {
    const to = (path: string) => outcome(p.route('http.80', { host: 'h', path }));
    assert.equal(to('/split'), `${cluster('a')}=70 ${cluster('b')}=30`);
    assert.equal(to('/missing'), 'InvalidBackendCluster');
    assert.equal(to('/forbidden'), 'InvalidBackendCluster');
    assert.equal(to('/kind'), 'InvalidBackendCluster');
    assert.equal(to('/half'), `${cluster('a')}=1 InvalidBackendCluster=1`);
    assert.equal(to('/zero'), 'direct 500');
    assert.equal(to('/none'), 'direct 500');
    const r = p.route('http.80', { host: 'h', path: '/missing' })!;
    assert.equal(r.action.kind === 'forward' && r.action.clusterNotFoundStatus, 500, 'an unusable backend answers 500, not 503');
  } finally {
    await p.close();
  }
  assert.ok(!gw.clusters.some((c) => c.name === 'InvalidBackendCluster'), 'the invalid backend cluster never exists');
});

test('filters: header modifiers, redirects (scheme, host, port, path, status), URL rewrites with segment-wise prefix replacement, mirrors', async () => {
  const yaml = `${svc('a')}${svc('m')}${gateway('  - {name: http, port: 80, protocol: HTTP}')}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /headers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: s}], add: [{name: X-Add, value: a}], remove: [X-Remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {set: [{name: X-Resp, value: r}]}
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /redirect}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: example.org, statusCode: 301}}]
  - matches: [{path: {value: /prefix-redirect}}]
    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
  - matches: [{path: {value: /strip}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /swap/}}]
    filters: [{type: URLRewrite, urlRewrite: {hostname: rewritten.example, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new/}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /full}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /one}}}]
    backendRefs: [{name: a, port: 8080}]
  - matches: [{path: {value: /mirror}}]
    filters:
    - {type: RequestMirror, requestMirror: {backendRef: {name: m, port: 8080}, percent: 25}}
    - {type: RequestMirror, requestMirror: {backendRef: {name: m, port: 8080}, fraction: {numerator: 1, denominator: 3}}}
    backendRefs: [{name: a, port: 8080}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const gw = configFor(b, gatewayNode('default', 'gw'));
  const routes = gw.routes.find((r) => r.name === 'http.80')!.virtualHosts![0]!.routes!;
  const byPath = (v: string) => routes.find((r) => r.match?.pathSeparatedPrefix === v || r.match?.prefix === v)!;
  assert.deepEqual(byPath('/headers').requestHeadersToAdd, [
    { header: { key: 'X-Set', value: 's' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    { header: { key: 'X-Add', value: 'a' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' },
  ]);
  assert.deepEqual(byPath('/headers').requestHeadersToRemove, ['X-Remove']);
  assert.deepEqual(byPath('/redirect').redirect, { schemeRedirect: 'https', responseCode: 'MOVED_PERMANENTLY', hostRedirect: 'example.org', portRedirect: 443 });
  assert.deepEqual(byPath('/prefix-redirect').redirect, { schemeRedirect: 'http', responseCode: 'FOUND', portRedirect: 80, regexRewrite: { pattern: { regex: '^/prefix-redirect(/|$)' }, substitution: '/' } });
  assert.equal(byPath('/swap').route?.prefixRewrite, '/new');
  assert.equal(byPath('/swap').route?.hostRewriteLiteral, 'rewritten.example');
  assert.deepEqual(byPath('/full').route?.regexRewrite, { pattern: { regex: '^.*$' }, substitution: '/one' });
  assert.deepEqual(byPath('/mirror').route?.requestMirrorPolicies?.map((m) => [m.cluster, m.runtimeFraction?.defaultValue?.numerator]), [[cluster('m'), 250000], [cluster('m'), 333333]]);
  const p = await compiled(gw);
  await p.close();
});

test('mesh routes (GAMMA): an HTTPRoute whose parent is a Service routes sidecars\' traffic to it; a consumer route beats the producer\'s', async () => {
  const yaml = `${svc('reviews', 'default', 9080)}${svc('reviews-v1', 'default', 9080)}${svc('reviews-v2', 'default', 9080)}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - backendRefs: [{name: reviews-v1, port: 9080, weight: 90}, {name: reviews-v2, port: 9080, weight: 10}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews-for-me, namespace: client}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, namespace: default}]
  rules:
  - matches: [{path: {value: /only}}]
    backendRefs: [{name: reviews-v2, namespace: default, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: client-may-route, namespace: default}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: client}]
  to: [{group: "", kind: Service}]
`;
  const b = buildGatewayApi(yaml);
  const vhostRoutes = (ns: string) => configFor(b, sidecarNode(ns, 'sleep-x', { app: 'sleep' })).routes.find((r) => r.name === '9080')!.virtualHosts!.find((v) => v.name === 'reviews.default.svc.cluster.local:9080')!;
  const producer = vhostRoutes('default');
  assert.deepEqual(producer.routes!.map((r) => r.route?.weightedClusters?.clusters?.map((c) => `${c.name}=${c.weight}`)), [[`${cluster('reviews-v1', 'default', 9080)}=90`, `${cluster('reviews-v2', 'default', 9080)}=10`]]);
  assert.ok(producer.domains!.includes('reviews'), 'clients call it by every name');
  const consumer = vhostRoutes('client');
  assert.deepEqual(consumer.routes!.map((r) => [r.match?.pathSeparatedPrefix, r.route?.cluster]), [['/only', cluster('reviews-v2', 'default', 9080)]], "the client namespace's own route, and no fall-through");
  const p = await compiled(configFor(b, sidecarNode('default', 'sleep-x', { app: 'sleep' })));
  await p.close();
});

test('HTTPS listeners terminate with their certificateRefs per SNI; across namespaces only with a ReferenceGrant; TLS passthrough by SNI; TCP', async () => {
  const cert = await (await TestPki.create()).issue(['a.example.com', 'b.example.com']);
  const secret = (name: string, ns: string) => tlsSecretYaml(name, ns, cert);
  const yaml = `${svc('a')}${svc('tls-backend', 'default', 443)}${svc('db', 'default', 5432)}${secret('local-cert', 'default')}${secret('shared-cert', 'certs')}${gateway(`  - name: https
    port: 443
    protocol: HTTPS
    hostname: a.example.com
    tls: {certificateRefs: [{name: local-cert}]}
  - name: https-shared
    port: 443
    protocol: HTTPS
    hostname: b.example.com
    tls: {certificateRefs: [{name: shared-cert, namespace: certs}]}
  - name: passthrough
    port: 443
    protocol: TLS
    hostname: "*.pass.example.com"
    tls: {mode: Passthrough}
  - {name: tcp, port: 5432, protocol: TCP}`)}apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: gateways-may-use-certs, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: default}]
  to: [{group: "", kind: Secret}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: pass}
spec:
  parentRefs: [{name: gw, sectionName: passthrough}]
  hostnames: [db.pass.example.com]
  rules: [{backendRefs: [{name: tls-backend, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: db}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const gw = configFor(b, gatewayNode('default', 'gw'));
  const l443 = gw.listeners.find((l) => l.name === '0.0.0.0_443')!;
  assert.deepEqual(l443.filterChains!.map((c) => c.filterChainMatch?.serverNames), [['a.example.com'], ['b.example.com'], ['db.pass.example.com']]);
  assert.deepEqual(gw.secrets.map((s) => s.name).sort(), ['kubernetes-gateway://certs/shared-cert', 'kubernetes://local-cert']);
  assert.ok(gw.listeners.some((l) => l.name === '0.0.0.0_5432'));
  assert.deepEqual(gw.routes.map((r) => r.name).sort(), ['https.443.https-shared.gw.default', 'https.443.https.gw.default']);
  const p = await compiled(gw);
  await p.close();
});

test("a wildcard route's rules join a more specific hostname's virtual host, ranked together; an HTTPS chain never serves a host another listener owns", async () => {
  const cert = await (await TestPki.create()).issue(['example.org', 'second-example.org']);
  const yaml = `${svc('a')}${svc('b')}${tlsSecretYaml('cert', 'default', cert)}${gateway(`  - {name: http, port: 80, protocol: HTTP}
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  - {name: https-second, port: 443, protocol: HTTPS, hostname: second-example.org, tls: {certificateRefs: [{name: cert}]}}`)}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: exact}
spec:
  parentRefs: [{name: gw}]
  hostnames: [example.com, example.org, second-example.org]
  rules: [{backendRefs: [{name: a, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: ["*.com"]
  rules: [{matches: [{path: {value: /v2}}], backendRefs: [{name: b, port: 8080}]}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const p = await compiled(configFor(b, gatewayNode('default', 'gw')));
  try {
    assert.equal(outcome(p.route('http.80', { host: 'example.com', path: '/v2/x' })), cluster('b'), '*.com covers example.com and its longer prefix wins');
    assert.equal(outcome(p.route('http.80', { host: 'example.com', path: '/x' })), cluster('a'));
    assert.equal(outcome(p.route('http.80', { host: 'example.org', path: '/v2' })), cluster('a'), '*.com does not cover example.org');
    assert.equal(outcome(p.route('https.443.https.gw.default', { host: 'example.org', path: '/' })), cluster('a'));
    assert.equal(outcome(p.route('https.443.https.gw.default', { host: 'second-example.org', path: '/' })), 'none', 'second-example.org belongs to the https-second listener, whatever the SNI');
    assert.equal(outcome(p.route('https.443.https-second.gw.default', { host: 'second-example.org', path: '/' })), cluster('a'));
  } finally {
    await p.close();
  }
});

test('GRPCRoute: service and method matches become the HTTP/2 paths gRPC uses; headers match too', async () => {
  const yaml = `${svc('a', 'default', 8080, ', appProtocol: kubernetes.io/h2c')}${svc('b', 'default', 8080, ', appProtocol: kubernetes.io/h2c')}${gateway('  - {name: http, port: 80, protocol: HTTP}')}apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{method: {service: grpc.echo.Echo, method: EchoTwo}}]
    backendRefs: [{name: b, port: 8080}]
  - matches: [{method: {service: grpc.echo.Echo}}, {headers: [{name: version, value: one}]}]
    backendRefs: [{name: a, port: 8080}]
`;
  const b = buildGatewayApi(yaml, ['default/gw']);
  const gw = configFor(b, gatewayNode('default', 'gw'));
  assert.ok(gw.clusters.find((c) => c.name === cluster('b'))?.typedExtensionProtocolOptions, 'h2c backends are HTTP/2 clusters');
  const p = await compiled(gw);
  try {
    assert.equal(outcome(p.route('http.80', { host: 'h', path: '/grpc.echo.Echo/EchoTwo', method: 'POST' })), cluster('b'));
    assert.equal(outcome(p.route('http.80', { host: 'h', path: '/grpc.echo.Echo/Echo', method: 'POST' })), cluster('a'));
    assert.equal(outcome(p.route('http.80', { host: 'h', path: '/other.Svc/Echo', method: 'POST', headers: { version: 'one' } })), cluster('a'));
    assert.equal(outcome(p.route('http.80', { host: 'h', path: '/other.Svc/Echo', method: 'POST' })), 'none');
  } finally {
    await p.close();
  }
});
