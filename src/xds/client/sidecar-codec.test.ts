// The generated sidecar codec against protobufjs reflection, message by message: every resource the control plane
// translates for Bookinfo with policies (sidecars and the ingress gateway), the discovery responses that carry them,
// a message with every well-known type's edge cases, and what a sidecar sends (requests with NACK details, the CA
// request). Bytes from one side must read the same on the other.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPaths, loadText } from '../../config/loader.js';
import type { Resource } from '../../config/resource.js';
import { BOOKINFO_EXAMPLE } from '../../examples.js';
import { ServiceRegistry } from '../../controlplane/registry/service-registry.js';
import { MeshConfigGenerator } from '../../controlplane/translate/generator.js';
import { pushContextOf } from '../../controlplane/translate/testing.js';
import { createCertificateMethod } from '../../ca/ca-protocol.js';
import { CA_REQUEST_TYPE, CA_RESPONSE_TYPE } from '../../ca/ca-messages.js';
import { nackStatus } from '../nack.js';
import { nackDetail } from '../nack-detail.js';
import { encodeJson } from '../codec.js';
import { TypeUrl, type ProxyNode, type XdsResource } from '../resource.js';
import { decodeDeltaRequest, decodeRequest, encodeDeltaResponse, encodeResource, encodeResponse } from '../wire.js';
import { loadGeneratedCodec } from './codec-generated.js';
import { ProtoWriter } from './proto-runtime.js';
import { reflectionCodec } from './codec-reflection.js';
import { DELTA_DISCOVERY_REQUEST, DELTA_DISCOVERY_RESPONSE, DISCOVERY_REQUEST, DISCOVERY_RESPONSE, type XdsCodec } from './xds-codec.js';

const POLICIES = `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    extensionProviders:
    - name: authz-grpc
      envoyExtAuthzGrpc: {service: ext-authz.default.svc.cluster.local, port: 9000, timeout: 0.25s}
    - name: authz-http
      envoyExtAuthzHttp: {service: ext-authz.default.svc.cluster.local, port: 8000, includeRequestHeadersInCheck: [x-ext-authz], headersToUpstreamOnAllow: [x-ok]}
---
apiVersion: v1
kind: Service
metadata: {name: ext-authz}
spec: {selector: {app: ext-authz}, ports: [{name: grpc, port: 9000}, {name: http, port: 8000}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-viewer}
spec:
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/bookinfo-productpage], notIpBlocks: [10.0.0.0/8]}}]
    to: [{operation: {methods: [GET], paths: [/reviews/*], notPorts: ["8080"]}}]
    when: [{key: 'request.headers[version]', values: [v1, v2]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin}
spec:
  selector: {matchLabels: {app: ratings}}
  action: DENY
  rules: [{to: [{operation: {paths: [/admin*]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext}
spec:
  selector: {matchLabels: {app: details}}
  action: CUSTOM
  provider: {name: authz-grpc}
  rules: [{to: [{operation: {paths: [/details*]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext-http}
spec:
  selector: {matchLabels: {app: ratings}}
  action: CUSTOM
  provider: {name: authz-http}
  rules: [{to: [{operation: {paths: [/ratings*]}}]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt}
spec:
  selector: {matchLabels: {app: productpage}}
  jwtRules:
  - issuer: testing@secure.istio.io
    jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}'
    outputPayloadToHeader: x-jwt
    forwardOriginalToken: true
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging: [{providers: [{name: envoy}]}]
  tracing: [{randomSamplingPercentage: 12.5}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - fault: {delay: {percentage: {value: 10}, fixedDelay: 2s}, abort: {percentage: {value: 5.5}, httpStatus: 500}}
    corsPolicy: {allowOrigins: [{exact: "https://example.com"}], allowMethods: [GET], maxAge: 24h}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 0.25s, retryOn: "5xx,reset"}
    route: [{destination: {host: ratings, subset: v1}, weight: 100}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
    connectionPool: {tcp: {maxConnections: 100, connectTimeout: 30ms}, http: {http2MaxRequests: 1000, maxRequestsPerConnection: 10, idleTimeout: 90s}}
    outlierDetection: {consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 50}
  subsets: [{name: v1, labels: {version: v1}}]
`;

const WORKLOADS: Array<[string, string, string]> = [
  ['productpage-v1-a', 'productpage', 'v1'],
  ['details-v1-a', 'details', 'v1'],
  ['reviews-v1-a', 'reviews', 'v1'],
  ['reviews-v2-a', 'reviews', 'v2'],
  ['ratings-v1-a', 'ratings', 'v1'],
  ['ext-authz-a', 'ext-authz', 'v1'],
];

/** Every resource Bookinfo with the policies above gives its sidecars and ingress gateway. */
async function translated(): Promise<XdsResource[]> {
  const bookinfo = await loadPaths(['bookinfo.yaml', 'bookinfo-gateway.yaml', 'destination-rule-all.yaml'].map((f) => join(BOOKINFO_EXAMPLE, f)));
  const extra = loadText(POLICIES, 'policies.yaml');
  assert.deepEqual([...bookinfo.errors, ...extra.errors], []);
  const resources: Resource[] = [...bookinfo.resources.filter((r) => !(r.kind === 'DestinationRule' && r.metadata.name === 'ratings')), ...extra.resources];
  const registry = new ServiceRegistry();
  registry.setResources(resources);
  let n = 2;
  for (const [name, app, version] of WORKLOADS) {
    registry.upsertWorkload({ name, namespace: 'default', labels: { app, version }, serviceAccount: `bookinfo-${app}`, address: `127.10.0.${n++}`, ports: {}, appAddress: '127.11.0.1', appPorts: { 9080: 20000 + n }, healthy: true, meshed: true });
  }
  registry.upsertWorkload({ name: 'istio-ingressgateway-local', namespace: 'istio-system', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, serviceAccount: 'istio-ingressgateway', address: '127.10.255.1', ports: {}, healthy: true, meshed: true });
  const gen = new MeshConfigGenerator(pushContextOf(resources, registry));
  // The first sidecar's DNS proxy captures its pod's queries, so Istio's NameTable (NDS) is compared too.
  const nodes: ProxyNode[] = WORKLOADS.map(([pod, app, version], i) => ({ id: `sidecar~127.10.0.${i + 2}~${pod}.default~default.svc.cluster.local`, cluster: app, metadata: { NAMESPACE: 'default', LABELS: { app, version }, ...(i === 0 ? { DNS_CAPTURE: 'true', DNS_AUTO_ALLOCATE: 'true' } : {}) } }));
  nodes.push({ id: 'router~127.10.255.1~istio-ingressgateway-local.istio-system~istio-system.svc.cluster.local', cluster: 'istio-ingressgateway', metadata: { NAMESPACE: 'istio-system', LABELS: { istio: 'ingressgateway', app: 'istio-ingressgateway' } } });
  const out: XdsResource[] = [];
  for (const node of nodes) for (const list of gen.generate(node).values()) out.push(...list);
  return out;
}

/** One message per well-known type's edge: negative and fractional durations, wrappers at their defaults, nested Struct, int64, enums, Any of an unknown type. */
const EDGES: XdsResource = {
  name: 'edges',
  typeUrl: TypeUrl.Cluster,
  value: {
    name: 'edges',
    type: 'STRICT_DNS',
    connectTimeout: '-1.000000500s',
    perConnectionBufferLimitBytes: 0,
    dnsRefreshRate: '0.000000001s',
    lbPolicy: 'MAGLEV',
    ignoreHealthOnHostRemoval: false,
    metadata: { filterMetadata: { istio: { config: '/apis/x', nested: { list: [1, 'two', true, null, { deep: [] }] }, n: -2.5 } } },
    commonLbConfig: { healthyPanicThreshold: { value: 0 }, updateMergeWindow: '3600s' },
    circuitBreakers: { thresholds: [{ priority: 'HIGH', maxConnections: 4294967295, maxRetries: 0, trackRemaining: true }] },
    upstreamConnectionOptions: { tcpKeepalive: { keepaliveProbes: 9, keepaliveTime: 7200 } },
    typedExtensionProtocolOptions: {
      wrapped: { '@type': 'type.googleapis.com/google.protobuf.UInt64Value', value: '18446744073709551615' },
      duration: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '-0.5s' },
      struct: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { a: { b: ['c'] } } },
      empty: { '@type': 'type.googleapis.com/google.protobuf.Empty' },
    },
    outlierDetection: { consecutive5xx: 0, interval: '10s', maxEjectionTime: '315576000000s' },
    loadAssignment: { clusterName: 'edges', endpoints: [{ priority: 3, lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '::1', portValue: 65535, protocol: 'UDP', ipv4Compat: true } } }, loadBalancingWeight: 1 }] }], policy: { overprovisioningFactor: 140 } },
    lrsServer: { ads: {} },
  },
};

function codecs(): Promise<{ generated: XdsCodec; reflection: XdsCodec }> {
  return loadGeneratedCodec().then((g) => {
    assert.ok(typeof g !== 'string', `the generated codec is not usable: ${String(g)}`);
    return { generated: g as XdsCodec, reflection: reflectionCodec() };
  });
}

test('every translated resource, and the edge cases, decode to the same proto3 JSON as protobufjs gives', async () => {
  const { generated, reflection } = await codecs();
  const resources = [...(await translated()), EDGES];
  const types = new Set(resources.map((r) => r.typeUrl));
  assert.deepEqual([...types].sort(), [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.NameTable, TypeUrl.RouteConfiguration].sort());
  const anyTypes = new Set<string>();
  const collect = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      const t = (v as Record<string, unknown>)['@type'];
      if (typeof t === 'string') anyTypes.add(t);
      Object.values(v).forEach(collect);
    }
  };
  for (const r of resources) {
    const bytes = encodeJson(r.typeUrl, r.value as Record<string, unknown>);
    const name = r.typeUrl.slice(r.typeUrl.lastIndexOf('/') + 1);
    const fromGenerated = generated.decode(name, bytes);
    assert.deepStrictEqual(fromGenerated, reflection.decode(name, bytes), `${r.typeUrl} ${r.name}`);
    collect(fromGenerated);
  }
  // The translation exercised the filters a sidecar and a gateway consume (the list shows what was compared).
  for (const t of ['HttpConnectionManager', 'Router', 'RBAC', 'JwtAuthentication', 'ExtAuthz', 'HTTPFault', 'CorsPolicy', 'TcpProxy', 'DownstreamTlsContext', 'UpstreamTlsContext', 'FileAccessLog', 'TypedStruct']) {
    assert.ok([...anyTypes].some((u) => u.endsWith(`.${t}`)), `no ${t} among ${[...anyTypes].join(', ')}`);
  }
});

test('an Any of a type neither codec has decodes to its bytes in base64, the same both ways', async () => {
  const { generated, reflection } = await codecs();
  // Cluster { name = 1: "c"; typed_extension_protocol_options = 36: { "x": Any { type_url: not.a.Known, value: 00 01 02 } } }
  const w = new ProtoWriter();
  w.uint32(10);
  w.string('c');
  w.uint32((36 << 3) | 2);
  w.fork();
  w.uint32(10);
  w.string('x');
  w.uint32(18);
  w.fork();
  w.uint32(10);
  w.string('type.googleapis.com/not.a.Known');
  w.uint32(18);
  w.bytes(Buffer.from([0, 1, 2]));
  w.ldelim();
  w.ldelim();
  const bytes = w.finish();
  const expected = { name: 'c', typedExtensionProtocolOptions: { x: { '@type': 'type.googleapis.com/not.a.Known', value: 'AAEC' } } };
  assert.deepStrictEqual(reflection.decode('envoy.config.cluster.v3.Cluster', bytes), expected);
  assert.deepStrictEqual(generated.decode('envoy.config.cluster.v3.Cluster', bytes), expected);
});

test('discovery responses, SotW and delta, decode the same, resources and all', async () => {
  const { generated, reflection } = await codecs();
  const encoded = [...(await translated()).slice(0, 40), EDGES].map(encodeResource);
  const sotw = encodeResponse({ versionInfo: 'v1', typeUrl: TypeUrl.Cluster, nonce: '7', resources: encoded, controlPlane: 'trellis' });
  assert.deepStrictEqual(generated.decode(DISCOVERY_RESPONSE, sotw), reflection.decode(DISCOVERY_RESPONSE, sotw));
  const delta = encodeDeltaResponse({ systemVersionInfo: 'v2', typeUrl: TypeUrl.Cluster, nonce: '8', resources: encoded, removed: ['gone-a', 'gone-b'] });
  const d = generated.decode(DELTA_DISCOVERY_RESPONSE, delta);
  assert.deepStrictEqual(d, reflection.decode(DELTA_DISCOVERY_RESPONSE, delta));
  assert.deepEqual(d.removedResources, ['gone-a', 'gone-b']);
  assert.equal((d.resources as Array<{ resource: { '@type': string } }>)[0]!.resource['@type'], encoded[0]!.typeUrl);
});

test('requests a sidecar sends read the same on the server whichever codec wrote them, NACK details included', async () => {
  const { generated, reflection } = await codecs();
  const err = Object.assign(new Error('TRL2001 Cluster/c/connectTimeout: must be greater than 0s'), { rejected: [{ code: 'TRL2001', resource: 'Cluster/c', field: '/connectTimeout', message: 'must be greater than 0s' }] });
  const node = { id: 'sidecar~127.10.0.2~a.default~default.svc.cluster.local', cluster: 'a', metadata: { NAMESPACE: 'default', LABELS: { app: 'a' }, INSTANCE_IPS: '127.10.0.2', PORTS: [9080, 15020], MESH: true }, locality: { region: 'r1', zone: 'z' }, userAgentName: 'trellis', userAgentVersion: '0.1.0' };
  const sotw = { node, typeUrl: TypeUrl.Cluster, versionInfo: 'v3', resourceNames: ['a', 'b'], responseNonce: '12', errorDetail: nackStatus(err) };
  const delta = { node, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNamesSubscribe: ['x'], resourceNamesUnsubscribe: ['y'], initialResourceVersions: { x: 'h1', z: 'h2' }, responseNonce: '4', errorDetail: nackStatus(err) };
  for (const codec of [generated, reflection]) {
    const s = decodeRequest(Buffer.from(codec.encode(DISCOVERY_REQUEST, sotw)));
    assert.equal(s.node?.id, node.id, codec.origin);
    assert.deepEqual(s.node?.metadata, node.metadata, codec.origin);
    assert.deepEqual(s.node?.locality, node.locality, codec.origin);
    assert.deepEqual([s.typeUrl, s.versionInfo, s.resourceNames, s.responseNonce], [sotw.typeUrl, 'v3', ['a', 'b'], '12'], codec.origin);
    assert.deepEqual(nackDetail(s.errorDetail), { status: 3, message: err.message, rejected: err.rejected }, codec.origin);
    const d = decodeDeltaRequest(Buffer.from(codec.encode(DELTA_DISCOVERY_REQUEST, delta)));
    assert.deepEqual([d.typeUrl, d.resourceNamesSubscribe, d.resourceNamesUnsubscribe, d.initialResourceVersions, d.responseNonce], [delta.typeUrl, ['x'], ['y'], { x: 'h1', z: 'h2' }, '4'], codec.origin);
    assert.deepEqual(nackDetail(d.errorDetail)?.rejected, err.rejected, codec.origin);
    // An ACK has no error detail.
    assert.equal(nackDetail(decodeRequest(Buffer.from(codec.encode(DISCOVERY_REQUEST, { typeUrl: TypeUrl.Cluster, responseNonce: '13' }))).errorDetail), undefined, codec.origin);
  }
});

test("the CA's request and response read the same as grpc-js's serializers write and read them", async () => {
  const { generated, reflection } = await codecs();
  for (const codec of [generated, reflection]) {
    const req = createCertificateMethod.requestDeserialize(Buffer.from(codec.encode(CA_REQUEST_TYPE, { csr: '-----BEGIN CERTIFICATE REQUEST-----\n…', validityDuration: 86400 })));
    assert.deepEqual({ ...req }, { csr: '-----BEGIN CERTIFICATE REQUEST-----\n…', validityDuration: 86400 }, codec.origin);
    const res = codec.decode(CA_RESPONSE_TYPE, createCertificateMethod.responseSerialize({ certChain: ['leaf', 'intermediate', 'root'] }));
    assert.deepEqual(res, { certChain: ['leaf', 'intermediate', 'root'] }, codec.origin);
  }
});
