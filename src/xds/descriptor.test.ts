// The generated Envoy descriptor against the .proto files it is made from: it knows every type URL the code names,
// its types (built lazily or all at once) match the parsed ones in everything encoding depends on, it encodes a
// sample config to the same bytes, and the process falls back to the .proto files when it is missing or stale.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { compactDescriptor } from './build-descriptor.js';
import { DESCRIPTOR_FILE, LazyRoot, sameSource, type EnvoyDescriptor } from './descriptor.js';
import { descriptorSource, envoyProtosOrigin, openEnvoyTypes, parseEnvoyProtoFiles } from './protos.js';
import { TypeUrl } from './resource.js';
import { TYPE } from './envoy/index.js';

const parsed = parseEnvoyProtoFiles();
const built = compactDescriptor(parsed, descriptorSource());
// The file `npm run build` wrote, when there is one made from what is installed now (tsc alone writes none).
const onDisk = existsSync(DESCRIPTOR_FILE) ? (JSON.parse(readFileSync(DESCRIPTOR_FILE, 'utf8')) as EnvoyDescriptor) : undefined;
const descriptors: Array<[string, EnvoyDescriptor]> = [['built here', built], ...(onDisk && sameSource(onDisk.source, built.source) ? [['dist file', onDisk] as [string, EnvoyDescriptor]] : [])];

/** Type URLs the code names: the xDS resource types and every typed config the contract defines (xds/envoy/type-urls.ts). */
function codeTypeUrls(): string[] {
  return [...new Set<string>([...Object.values(TypeUrl), ...Object.values(TYPE)])].sort();
}
const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

type Internal = { _features: unknown; hasPresence: boolean };
/** What encoding, decoding and the codec read of a type; options are left out on purpose (the descriptor drops them). */
function shape(t: protobuf.Type | protobuf.Enum): unknown {
  // Spread: protobufjs gives an enum's values a per-instance prototype.
  const features = { ...((t as unknown as Internal)._features as object) };
  if (t instanceof protobuf.Enum) return { values: { ...t.values }, features };
  return {
    features,
    fields: t.fieldsArray
      .filter((f) => !f.declaringField)
      .map((f) => ({
        name: f.name,
        id: f.id,
        type: f.resolvedType ? f.resolvedType.fullName : f.type,
        keyType: f instanceof protobuf.MapField ? f.keyType : undefined,
        repeated: f.repeated,
        map: f.map,
        packed: f.repeated && f.packed,
        required: f.required,
        oneof: f.partOf?.name,
        presence: Boolean((f as unknown as Internal).hasPresence), // protobufjs answers with the oneof itself when there is one
        default: f.resolvedType instanceof protobuf.Type ? null : f.typeDefault,
        features: { ...((f as unknown as Internal)._features as object) },
      })),
    oneofs: t.oneofsArray.map((o) => [o.name, o.oneof]),
    nested: t.nestedArray.filter((n) => n instanceof protobuf.Type || n instanceof protobuf.Enum).map((n) => n.name),
  };
}

function assertSameAsParsed(t: protobuf.Type | protobuf.Enum, label: string): void {
  const p = parsed.lookup(t.fullName);
  assert.ok(p instanceof protobuf.Type || p instanceof protobuf.Enum, `${label}: ${t.fullName} is parsed too`);
  assert.deepEqual(shape(t), shape(p), `${label}: ${t.fullName}`);
}

/** A type and every type its fields reach. */
function reachable(t: protobuf.Type): Array<protobuf.Type | protobuf.Enum> {
  const seen = new Set<protobuf.Type | protobuf.Enum>();
  const visit = (x: protobuf.Type | protobuf.Enum) => {
    if (seen.has(x)) return;
    seen.add(x);
    if (x instanceof protobuf.Type) for (const f of x.fieldsArray) if (f.resolvedType) visit(f.resolvedType);
  };
  visit(t);
  return [...seen];
}

test('the descriptor knows every type URL the code names (TypeUrl, translation typed_config)', () => {
  const urls = codeTypeUrls();
  assert.ok(urls.length >= 20, `found the type URLs (${urls.length})`);
  for (const [label, d] of descriptors) {
    const lazy = new LazyRoot(d);
    for (const url of urls) assert.ok(lazy.type(nameOf(url)), `${label}: ${url}`);
  }
});

test('a type built on demand has every type it reaches, each equal to the parsed one', () => {
  for (const [label, d] of descriptors) {
    const lazy = new LazyRoot(d);
    for (const url of [...codeTypeUrls(), 'type.googleapis.com/envoy.service.discovery.v3.DeltaDiscoveryResponse']) {
      for (const t of reachable(lazy.type(nameOf(url))!)) assertSameAsParsed(t, label);
    }
    // Nested names resolve through their unit; unknown and enum names are not message types.
    assert.equal(lazy.type('envoy.config.cluster.v3.Cluster.CommonLbConfig')?.fullName, '.envoy.config.cluster.v3.Cluster.CommonLbConfig');
    assert.equal(lazy.type('.envoy.config.core.v3.Address')?.fullName, '.envoy.config.core.v3.Address');
    assert.equal(lazy.type('example.Unknown'), undefined);
    assert.equal(lazy.type('envoy.config.core.v3.RoutingPriority'), undefined);
  }
});

test('every type of the descriptor equals the parsed one; only option annotations are left out', () => {
  const names = (root: protobuf.NamespaceBase): string[] => {
    const out: string[] = [];
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const o of ns.nestedArray) {
        if (o instanceof protobuf.Type || o instanceof protobuf.Enum) out.push(o.fullName);
        if (o instanceof protobuf.Namespace) walk(o);
      }
    };
    walk(root);
    return out;
  };
  for (const [label, d] of descriptors) {
    const root = new LazyRoot(d).all();
    const kept = names(root);
    for (const n of kept) assertSameAsParsed(root.lookup(n) as protobuf.Type | protobuf.Enum, label);
    const left = names(parsed).filter((n) => !kept.includes(n));
    const annotation = /^\.(validate|udpa\.annotations|xds\.annotations|envoy\.annotations)\.|^\.google\.protobuf\.(FileDescriptor|Descriptor|ExtensionRange|FieldDescriptor|OneofDescriptor|EnumDescriptor|EnumValueDescriptor|ServiceDescriptor|MethodDescriptor|\w*Options|UninterpretedOption|FeatureSet|SourceCodeInfo|GeneratedCodeInfo|Edition|SymbolVisibility)/;
    assert.deepEqual(left.filter((n) => !annotation.test(n)), [], `${label}: only annotation types are dropped`);
    assert.ok(kept.length > 500, `${label}: ${kept.length} types kept`);
  }
});

/** A sidecar-like config in protobufjs's object form, Any values encoded with the root being tested. */
function sample(type: (name: string) => protobuf.Type) {
  const any = (name: string, value: object) => ({ type_url: `type.googleapis.com/${name}`, value: type(name).encode(type(name).fromObject(value)).finish() });
  const route = {
    name: '9080',
    virtualHosts: [
      {
        name: 'reviews.default.svc.cluster.local:9080',
        domains: ['reviews', 'reviews:9080'],
        routes: [
          {
            name: 'jason',
            match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] },
            route: {
              weightedClusters: { clusters: [{ name: 'outbound|9080|v1|reviews', weight: { value: 90 } }, { name: 'outbound|9080|v2|reviews', weight: { value: 10 } }] },
              timeout: { seconds: 0, nanos: 500_000_000 },
              retryPolicy: {
                retryOn: 'connect-failure,5xx',
                numRetries: { value: 2 },
                retriableStatusCodes: [503, 504], // packed repeated uint32
                retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: any('envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate', {}) }],
                hostSelectionRetryMaxAttempts: '5', // int64
              },
            },
            typedPerFilterConfig: {
              'envoy.filters.http.fault': any('envoy.extensions.filters.http.fault.v3.HTTPFault', { delay: { fixedDelay: { seconds: 7 }, percentage: { numerator: 100, denominator: 'HUNDRED' } } }),
            },
            metadata: { filterMetadata: { istio: { fields: { config: { stringValue: '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews' }, n: { numberValue: 2 } } } } },
          },
        ],
      },
    ],
    validateClusters: { value: false },
  };
  const hcm = {
    statPrefix: 'inbound_0.0.0.0_9080',
    routeConfig: route,
    httpFilters: [
      {
        name: 'envoy.filters.http.rbac',
        typedConfig: any('envoy.extensions.filters.http.rbac.v3.RBAC', {
          rules: { action: 'DENY', policies: { 'ns[default]-policy[deny]-rule[0]': { permissions: [{ any: true }], principals: [{ authenticated: { principalName: { exact: 'spiffe://cluster.local/ns/default/sa/sleep' } } }] } } },
        }),
      },
      { name: 'envoy.filters.http.router', typedConfig: any('envoy.extensions.filters.http.router.v3.Router', {}) },
    ],
    useRemoteAddress: { value: false },
    streamIdleTimeout: { seconds: 0 },
  };
  const listener = {
    name: 'virtualInbound',
    address: { socketAddress: { address: '0.0.0.0', portValue: 15006 } },
    listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', typedConfig: any('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}) }],
    filterChains: [
      {
        filterChainMatch: { destinationPort: { value: 9080 }, transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] },
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: any('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
            commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], alpnProtocols: ['h2', 'http/1.1'] },
            requireClientCertificate: { value: true },
          }),
        },
        filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: any('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', hcm) }],
      },
    ],
    trafficDirection: 'INBOUND',
  };
  const cluster = {
    name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
    type: 'EDS',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    connectTimeout: { seconds: 10 },
    lbPolicy: 'LEAST_REQUEST',
    circuitBreakers: { thresholds: [{ maxConnections: { value: 4294967295 }, maxRetries: { value: 4294967295 } }] },
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': any('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
        explicitHttpConfig: { http2ProtocolOptions: { maxConcurrentStreams: { value: 1073741824 } } },
        commonHttpProtocolOptions: { idleTimeout: { seconds: 3600 } },
      }),
    },
  };
  const endpoints = {
    clusterName: cluster.name,
    endpoints: [{ locality: { region: 'local', zone: 'a' }, loadBalancingWeight: { value: 3 }, lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.5', portValue: 9080 } } }, healthStatus: 'HEALTHY' }] }],
  };
  const response = {
    versionInfo: 'v1',
    typeUrl: TypeUrl.Cluster,
    nonce: '1',
    resources: [
      any('envoy.config.cluster.v3.Cluster', cluster),
      any('envoy.config.listener.v3.Listener', listener),
      any('envoy.config.endpoint.v3.ClusterLoadAssignment', endpoints),
      any('envoy.config.route.v3.RouteConfiguration', route),
    ],
  };
  const res = type('envoy.service.discovery.v3.DiscoveryResponse');
  return res.encode(res.fromObject(response)).finish();
}

test('a sample config encodes to the same bytes with the descriptor and with the parsed .proto files', () => {
  const expected = Buffer.from(sample((n) => parsed.lookupType(n)));
  assert.ok(expected.length > 1000, `the sample is not empty (${expected.length} bytes)`);
  for (const [label, d] of descriptors) {
    const lazy = new LazyRoot(d); // only what the sample names is built
    assert.deepEqual(Buffer.from(sample((n) => lazy.type(n)!)), expected, label);
  }
});

test('the process reads the descriptor when it is current and parses the .proto files when it is missing or stale', (t) => {
  t.diagnostic(`this process: ${envoyProtosOrigin()}`);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-descriptor-'));
  try {
    const current = join(dir, 'current.json');
    writeFileSync(current, JSON.stringify(built));
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ ...built, source: { ...built.source, grpcJsXds: '0.0.0' } }));
    const fromFile = openEnvoyTypes(current);
    assert.equal(fromFile.origin, 'descriptor');
    assert.ok(fromFile.type('envoy.config.listener.v3.Listener'));
    for (const [file, why] of [[stale, /other files or package versions/], [join(dir, 'missing.json'), /not generated/]] as const) {
      const fallback = openEnvoyTypes(file);
      assert.match(fallback.origin, /^proto files/);
      assert.match(fallback.origin, why);
      assert.ok(fallback.type('envoy.config.listener.v3.Listener'));
      assert.equal(fallback.type('example.Unknown'), undefined);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
