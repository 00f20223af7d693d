// AuthorizationPolicy action CUSTOM with the mesh config's ext_authz providers, configured as in Istio's "External
// Authorization" task: the translated filters, their place in a sidecar's inbound chain, failing closed, and the
// translation enforced by a real Trellis proxy against the ext-authz sample server (only matching paths are checked).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startExtAuthz, DENY_BODY, type RunningExtAuthz } from '../../apps/ext-authz.js';
import { loadText } from '../../config/loader.js';
import type { Resource } from '../../config/resource.js';
import type { Any, Listener } from '../../xds/envoy/index.js';
import type { TrellisProxy } from '../../proxy/proxy.js';
import { cla, defaultHttpFilters, edsCluster, http2Options, request, routeConfig, routeTo, startProxy, startUpstream, T, vhost, type Upstream } from '../../proxy/testing.js';
import { TypeUrl, type ProxyNode } from '../../xds/resource.js';
import { ServiceRegistry } from '../registry/service-registry.js';
import { customPolicyProblem } from './ext-authz.js';
import { authorizationFiltersOf, customAuthorizationFiltersOf, pushContextOf } from './testing.js';
import { meshModelOf } from '../../config/mesh-config.js';
import type { AuthorizationPolicySpec } from '../../config/types/security.js';
import { MeshConfigGenerator } from './generator.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const GRPC_CLUSTER = 'outbound|9000||ext-authz.foo.svc.cluster.local';
const HTTP_CLUSTER = 'outbound|8000||ext-authz.foo.svc.cluster.local';
const HTTPBIN = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };

/** The mesh config of Istio's task, plus a provider with every optional field. */
const MESH = `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    extensionProviders:
    - name: sample-ext-authz-grpc
      envoyExtAuthzGrpc:
        service: ext-authz.foo.svc.cluster.local
        port: 9000
    - name: sample-ext-authz-http
      envoyExtAuthzHttp:
        service: ext-authz.foo.svc.cluster.local
        port: 8000
        includeRequestHeadersInCheck: ["x-ext-authz"]
    - name: everything
      envoyExtAuthzHttp:
        service: foo/ext-authz.foo.svc.cluster.local
        port: 8000
        timeout: 0.5s
        pathPrefix: /check
        failOpen: true
        statusOnError: "503"
        includeRequestHeadersInCheck: ["x-ext-authz", "x-b3-*", "*-id"]
        includeAdditionalHeadersInCheck: {x-b: "2", x-a: "1"}
        includeRequestBodyInCheck: {maxRequestBytes: 1000, allowPartialMessage: true}
        headersToUpstreamOnAllow: ["x-ext-authz-check-result"]
        headersToDownstreamOnDeny: ["x-ext-authz-check-result", "content-type"]
        headersToDownstreamOnAllow: ["x-ext-authz-additional-header-override"]
    - name: not-authz
      prometheus: {}
---
`;

const policy = (provider: string, name = 'ext-authz', extra = '') => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: foo${extra}}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: CUSTOM
  provider: {name: ${provider}}
  rules:
  - to:
    - operation:
        paths: ["/headers"]
---
`;

function load(yaml: string): Resource[] {
  const { resources, errors } = loadText(yaml, 'ext-authz.yaml');
  assert.deepEqual(errors, []);
  return resources;
}

const filtersFor = (rs: Resource[], w: { namespace: string; labels: Record<string, string> } = HTTPBIN, kind: 'http' | 'tcp' = 'http') => customAuthorizationFiltersOf(rs, w, kind) as Json[];

describe('CUSTOM translation', () => {
  test('gRPC provider: RBAC shadow rules then ext_authz to the outbound cluster, enabled by the shadow result', () => {
    const [rbac, authz, ...rest] = filtersFor(load(MESH + policy('sample-ext-authz-grpc')));
    assert.equal(rest.length, 0);
    assert.equal(rbac!.name, 'envoy.filters.http.rbac');
    assert.equal(rbac!.typedConfig.rules, undefined, 'nothing is enforced by the RBAC filter');
    assert.equal(rbac!.typedConfig.shadowRulesStatPrefix, 'istio_ext_authz_');
    assert.equal(rbac!.typedConfig.shadowRules.action, 'ALLOW');
    assert.deepEqual(Object.keys(rbac!.typedConfig.shadowRules.policies), ['istio-ext-authz-ns[foo]-policy[ext-authz]-rule[0]']);
    assert.equal(authz!.name, 'envoy.filters.http.ext_authz');
    assert.deepEqual(authz!.typedConfig, {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
      grpcService: { envoyGrpc: { clusterName: GRPC_CLUSTER, authority: 'ext-authz.foo.svc.cluster.local' }, timeout: '600s' },
      transportApiVersion: 'V3',
      filterEnabledMetadata: { filter: 'envoy.filters.http.rbac', path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }], value: { stringMatch: { prefix: 'istio-ext-authz' } } },
    });
  });

  test('HTTP provider: every field of the provider', () => {
    const [, authz] = filtersFor(load(MESH + policy('everything')));
    const c = authz!.typedConfig;
    assert.deepEqual(c.httpService, {
      serverUri: { uri: 'http://ext-authz.foo.svc.cluster.local', cluster: HTTP_CLUSTER, timeout: '0.5s' },
      pathPrefix: '/check',
      authorizationRequest: { headersToAdd: [{ key: 'x-a', value: '1' }, { key: 'x-b', value: '2' }] },
      authorizationResponse: {
        allowedUpstreamHeaders: { patterns: [{ exact: 'x-ext-authz-check-result', ignoreCase: true }] },
        allowedClientHeaders: { patterns: [{ exact: 'x-ext-authz-check-result', ignoreCase: true }, { exact: 'content-type', ignoreCase: true }] },
        allowedClientHeadersOnSuccess: { patterns: [{ exact: 'x-ext-authz-additional-header-override', ignoreCase: true }] },
      },
    });
    assert.deepEqual(c.allowedHeaders, { patterns: [{ exact: 'x-ext-authz', ignoreCase: true }, { prefix: 'x-b3-', ignoreCase: true }, { suffix: '-id', ignoreCase: true }] });
    assert.deepEqual(c.statusOnError, { code: 503 });
    assert.equal(c.failureModeAllow, true);
    assert.deepEqual(c.withRequestBody, { maxRequestBytes: 1000, allowPartialMessage: true, packAsBytes: false });
  });

  test('who it applies to: selected workloads in the namespace, mesh-wide from the root namespace, nothing otherwise', () => {
    const rs = load(MESH + policy('sample-ext-authz-grpc'));
    assert.equal(filtersFor(rs, { namespace: 'foo', labels: { app: 'productpage' } }).length, 0);
    assert.equal(filtersFor(rs, { namespace: 'bar', labels: { app: 'httpbin' } }).length, 0);
    const root = load(MESH + policy('sample-ext-authz-grpc').replace('namespace: foo', 'namespace: istio-system'));
    assert.equal(filtersFor(root, { namespace: 'bar', labels: { app: 'httpbin' } }).length, 2);
    const dry = load(MESH + policy('sample-ext-authz-grpc', 'ext-authz', ', annotations: {istio.io/dry-run: "true"}'));
    assert.equal(filtersFor(dry).length, 0, 'Istio has no dry run for CUSTOM');
  });

  test('fails closed: unknown provider, a provider that is not ext_authz, two providers on one workload', () => {
    const denyAll = (rs: Resource[]) => {
      const f = filtersFor(rs);
      assert.equal(f.length, 1);
      assert.equal(f[0]!.typedConfig.rules.action, 'DENY');
      assert.deepEqual(f[0]!.typedConfig.rules.policies['default-deny-all-due-to-bad-CUSTOM-action'], { permissions: [{ any: true }], principals: [{ any: true }] });
    };
    denyAll(load(MESH + policy('no-such-provider')));
    denyAll(load(MESH + policy('not-authz')));
    denyAll(load(MESH + policy('sample-ext-authz-grpc') + policy('sample-ext-authz-http', 'second')));
    // no mesh config at all
    denyAll(load(policy('sample-ext-authz-grpc')));
    const rs = load(MESH + policy('no-such-provider'));
    assert.match(customPolicyProblem(rs.find((r) => r.kind === 'AuthorizationPolicy')! as Resource<AuthorizationPolicySpec>, meshModelOf(rs).config.extensionProviders)!, /no-such-provider/);
  });

  test('providers from a ServiceMeshControlPlane spec.meshConfig', () => {
    const smcp = `
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  meshConfig:
    extensionProviders:
    - name: smcp-authz
      envoyExtAuthzGrpc: {service: ext-authz.foo.svc.cluster.local, port: 9000}
---
`;
    const [, authz] = filtersFor(load(smcp + policy('smcp-authz')));
    assert.equal(authz!.typedConfig.grpcService.envoyGrpc.clusterName, GRPC_CLUSTER);
  });

  test('TCP ports: gRPC providers fail closed for the connections the rules select; HTTP providers are ignored', () => {
    const grpc = filtersFor(load(MESH + policy('sample-ext-authz-grpc')), HTTPBIN, 'tcp');
    assert.equal(grpc.length, 1);
    assert.equal(grpc[0]!.name, 'envoy.filters.network.rbac');
    assert.equal(grpc[0]!.typedConfig.rules.action, 'DENY');
    assert.equal(filtersFor(load(MESH + policy('sample-ext-authz-http')), HTTPBIN, 'tcp').length, 0);
  });

  test('authorizationFilters puts CUSTOM ahead of DENY and ALLOW', () => {
    const rs = load(
      MESH +
        policy('sample-ext-authz-grpc') +
        `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: foo}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
`,
    );
    const names = authorizationFiltersOf(rs, { namespace: 'foo', labels: HTTPBIN.labels }).map((f) => (f as Json).name);
    assert.deepEqual(names, ['envoy.filters.http.rbac', 'envoy.filters.http.ext_authz', 'envoy.filters.http.rbac']);
  });

  test('a sidecar\'s inbound HTTP chain carries the filters', () => {
    const rs = load(
      MESH +
        policy('sample-ext-authz-grpc') +
        `apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: foo}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext-authz, namespace: foo}
spec: {selector: {app: ext-authz}, ports: [{name: http, port: 8000}, {name: grpc, port: 9000}]}
`,
    );
    const registry = new ServiceRegistry();
    registry.setResources(rs);
    registry.upsertWorkload({ name: 'httpbin-a', namespace: 'foo', labels: HTTPBIN.labels, serviceAccount: 'httpbin', address: '127.10.0.2', ports: {}, healthy: true, meshed: true });
    registry.upsertWorkload({ name: 'ext-authz-a', namespace: 'foo', labels: { app: 'ext-authz' }, serviceAccount: 'ext-authz', address: '127.10.0.3', ports: {}, healthy: true, meshed: true });
    const node: ProxyNode = { id: 'sidecar~127.10.0.2~httpbin-a.foo~foo.svc.cluster.local', cluster: 'x', metadata: { NAMESPACE: 'foo', LABELS: HTTPBIN.labels } };
    const generated = new MeshConfigGenerator(pushContextOf(rs, registry)).generate(node);
    const listeners = (generated.get(TypeUrl.Listener) ?? []).map((x) => x.value as Json);
    const inbound = listeners.find((l) => l.name === '127.10.0.2_8000')!;
    const hcm = inbound.filterChains[0].filters.find((f: Json) => f.name === 'envoy.filters.network.http_connection_manager').typedConfig;
    const names = (hcm.httpFilters as Json[]).map((f) => f.name);
    const at = names.indexOf('envoy.filters.http.ext_authz');
    assert.ok(at > 0 && names[at - 1] === 'envoy.filters.http.rbac', names.join(' '));
    assert.ok(at < names.indexOf('envoy.filters.http.router'));
    // the cluster it names is one of the sidecar's clusters
    const clusters = (generated.get(TypeUrl.Cluster) ?? []).map((x) => (x.value as Json).name);
    assert.ok(clusters.includes(GRPC_CLUSTER));
  });
});

/** An inbound-like listener: the translated authorization filters, then Istio's defaults, in front of the backend. */
function inbound(name: string, filters: Json[]): Listener {
  const typedConfig = { '@type': T.hcm, statPrefix: name, routeConfig: routeConfig(name, [vhost(name, ['*'], [routeTo('backend')])]), httpFilters: [...filters, ...defaultHttpFilters()] };
  return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: typedConfig as unknown as Any }] }] };
}

describe('CUSTOM enforced by the proxy against the ext-authz sample server', () => {
  let authz: RunningExtAuthz;
  let backend: Upstream;
  let proxy: TrellisProxy;
  let port: (name: string) => number;

  before(async () => {
    authz = await startExtAuthz({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', env: { EXT_AUTHZ_QUIET: 'true' } });
    backend = await startUpstream('httpbin');
    const translated = (provider: string) => authorizationFiltersOf(load(MESH + policy(provider)), HTTPBIN, 'http') as Json[];
    const started = await startProxy({
      listeners: [inbound('grpc', translated('sample-ext-authz-grpc')), inbound('http', translated('sample-ext-authz-http')), inbound('unknown', translated('no-such-provider'))],
      clusters: [edsCluster('backend'), edsCluster(GRPC_CLUSTER, { typedExtensionProtocolOptions: http2Options() as unknown as Record<string, Any> }), edsCluster(HTTP_CLUSTER)],
      endpoints: [cla('backend', [{ port: backend.port }]), cla(GRPC_CLUSTER, [{ port: authz.grpcPort }]), cla(HTTP_CLUSTER, [{ port: authz.httpPort }])],
    });
    proxy = started.proxy;
    port = started.port;
  });

  after(async () => {
    await proxy.close();
    await Promise.all([authz.close(), backend.close()]);
  });

  for (const provider of ['grpc', 'http']) {
    test(`${provider} provider: /headers is checked (denied without the header, allowed with it); other paths are not`, async () => {
      const denied = await request(port(provider), { path: '/headers', headers: { 'x-ext-authz': 'deny' } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body, DENY_BODY);
      assert.equal(denied.headers['x-ext-authz-check-result'], 'denied');
      const allowed = await request(port(provider), { path: '/headers', headers: { 'x-ext-authz': 'allow' } });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body, 'httpbin');
      const unchecked = await request(port(provider), { path: '/ip', headers: { 'x-ext-authz': 'deny' } });
      assert.equal(unchecked.status, 200);
      assert.equal(proxy.stats.get(`http.${provider}.ext_authz.denied`), 1);
      assert.equal(proxy.stats.get(`http.${provider}.ext_authz.ok`), 1);
    });
  }

  test('a policy naming an unknown provider denies every request to the workload', async () => {
    for (const path of ['/headers', '/ip']) {
      const r = await request(port('unknown'), { path, headers: { 'x-ext-authz': 'allow' } });
      assert.equal(r.status, 403);
      assert.equal(r.body, 'RBAC: access denied');
    }
  });
});
