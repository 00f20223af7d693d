import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDocumentText, loadText } from './loader.js';
import { positionOf } from './resource.js';
import { buildMeshModel, defaultMeshConfig, MESH_CONFIG_FILE_KIND } from './mesh-config.js';
import { readProxyConfig } from './proxy-config.js';

const load = (yaml: string) => {
  const { resources, errors } = loadText(yaml, 'mesh.yaml');
  assert.deepEqual(errors, []);
  return resources;
};

const SMCP = `apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  security:
    trust: {domain: smcp.example, additionalDomains: [old.example]}
    controlPlane: {tls: {minProtocolVersion: TLSv1_3}}
    dataPlane: {mtls: true, automtls: false}
  proxy:
    concurrency: 2
    networking: {trafficControl: {outbound: {policy: REGISTRY_ONLY}}}
    accessLogging: {file: {name: /dev/stdout, encoding: JSON}}
  tracing: {type: None, sampling: 2500}
  meshConfig:
    extensionProviders:
    - {name: authz, envoyExtAuthzHttp: {service: authz.foo.svc.cluster.local, port: 8000}}
    - {name: shared, envoyExtAuthzHttp: {service: smcp.foo.svc.cluster.local, port: 8000}}
    defaultConfig: {proxyMetadata: {ISTIO_DELTA_XDS: "false", FROM_SMCP: "1"}}
`;

const CONFIGMAP = (name: string, mesh: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: istio-system}
data:
  mesh: |
${mesh.replace(/^/gm, '    ')}
`;

test("defaults are Istio's: root namespace = control-plane namespace, auto mTLS, ALLOW_ANY, prometheus metrics", () => {
  const m = buildMeshModel([]);
  assert.equal(m.controlPlaneNamespace, 'istio-system');
  assert.deepEqual(m.config, defaultMeshConfig());
  assert.equal(m.config.rootNamespace, 'istio-system');
  assert.equal(m.config.enableAutoMtls, true);
  assert.equal(m.config.outboundTrafficPolicy.mode, 'ALLOW_ANY');
  assert.deepEqual(m.config.defaultProviders, { metrics: ['prometheus'] });
  const moved = buildMeshModel(load(SMCP.replace('namespace: istio-system', 'namespace: mesh-a')));
  assert.equal(moved.controlPlaneNamespace, 'mesh-a');
  assert.equal(moved.config.rootNamespace, 'mesh-a', "the root namespace follows the control plane's");
});

test('the ServiceMeshControlPlane maps onto MeshConfig as OpenShift Service Mesh renders it', () => {
  const m = buildMeshModel(load(SMCP));
  assert.equal(m.config.trustDomain, 'smcp.example');
  assert.deepEqual(m.config.trustDomainAliases, ['old.example']);
  assert.equal(m.config.meshMTLS.minProtocolVersion, 'TLSV1_3');
  assert.equal(m.config.tlsDefaults.minProtocolVersion, 'TLSV1_3');
  assert.equal(m.config.enableAutoMtls, false);
  assert.equal(m.dataPlaneMtls, true);
  assert.equal(m.config.outboundTrafficPolicy.mode, 'REGISTRY_ONLY');
  assert.equal(m.config.accessLogFile, '/dev/stdout');
  assert.equal(m.config.accessLogEncoding, 'JSON');
  assert.equal(m.config.enableTracing, false);
  assert.equal(m.config.defaultConfig.concurrency, 2);
  assert.deepEqual(m.config.defaultConfig.tracing, { sampling: 25 }, 'Maistra samples in hundredths of a percent');
  assert.deepEqual(m.config.defaultConfig.proxyMetadata, { ISTIO_DELTA_XDS: 'false', FROM_SMCP: '1' });
  assert.deepEqual(m.config.extensionProviders.map((p) => p.name), ['authz', 'shared']);
});

test('precedence: the istio ConfigMap over the ServiceMeshControlPlane, field by field; defaultConfig and providers merge', () => {
  const cm = CONFIGMAP(
    'istio-basic',
    `trustDomain: cm.example
outboundTrafficPolicy: {mode: ALLOW_ANY}
defaultConfig: {concurrency: 4, proxyMetadata: {FROM_CM: "1"}}
extensionProviders:
- {name: shared, envoyExtAuthzGrpc: {service: cm.foo.svc.cluster.local, port: 9000}}
- {name: extra, zipkin: {service: zipkin.obs, port: 9411}}`,
  );
  const m = buildMeshModel(load(SMCP + '---\n' + cm));
  assert.equal(m.config.trustDomain, 'cm.example', 'a field both set: the ConfigMap wins');
  assert.equal(m.config.outboundTrafficPolicy.mode, 'ALLOW_ANY');
  assert.equal(m.config.meshMTLS.minProtocolVersion, 'TLSV1_3', 'a field only the control plane sets stays');
  assert.equal(m.config.defaultConfig.concurrency, 4);
  assert.deepEqual(m.config.defaultConfig.tracing, { sampling: 25 }, 'defaultConfig merges field by field');
  assert.deepEqual(m.config.defaultConfig.proxyMetadata, { ISTIO_DELTA_XDS: 'false', FROM_SMCP: '1', FROM_CM: '1' }, 'proxyMetadata merges key by key');
  assert.deepEqual(m.config.extensionProviders.map((p) => [p.name, Object.keys(p).filter((k) => k !== 'name')[0]]), [['authz', 'envoyExtAuthzHttp'], ['shared', 'envoyExtAuthzGrpc'], ['extra', 'zipkin']], 'providers merge by name, the ConfigMap replacing one of the same name');
  assert.deepEqual(m.sources.map((s) => `${s.resource.kind}/${s.resource.metadata.name}`), ['ServiceMeshControlPlane/basic', 'ConfigMap/istio-basic']);
});

test('which ConfigMap: `istio` first, then `istio-<control plane>`, only in the control-plane namespace', () => {
  const both = load(SMCP + '---\n' + CONFIGMAP('istio', 'trustDomain: plain.example') + '---\n' + CONFIGMAP('istio-basic', 'trustDomain: named.example'));
  assert.equal(buildMeshModel(both).config.trustDomain, 'plain.example');
  const elsewhere = load(CONFIGMAP('istio', 'trustDomain: x.example').replace('namespace: istio-system', 'namespace: default'));
  assert.equal(buildMeshModel(elsewhere).config.trustDomain, 'cluster.local');
});

test('bad mesh config: the field or the layer is left out, and the problem says where', () => {
  const bad = buildMeshModel(load(CONFIGMAP('istio', 'defaultConfig: {concurrency: -1, proxyMetadata: {ISTIO_DELTA_XDS: maybe}}\ntrustDomain: ok.example')));
  assert.equal(bad.config.trustDomain, 'ok.example');
  assert.equal(bad.config.defaultConfig.concurrency, undefined);
  assert.deepEqual(bad.problems.map((p) => [p.resource.metadata.name, p.pointer, p.field]), [['istio', '/data/mesh', 'defaultConfig.concurrency'], ['istio', '/data/mesh', 'defaultConfig.proxyMetadata.ISTIO_DELTA_XDS']]);
  const notYaml = buildMeshModel(load(CONFIGMAP('istio', 'trustDomain: [unclosed')));
  assert.equal(notYaml.config.trustDomain, 'cluster.local');
  assert.match(notYaml.problems[0]!.message, /not a YAML mapping/);
});

test('a mesh config file (istioctl --meshConfigFile) takes the istio ConfigMap\'s place: above the ServiceMeshControlPlane, below overrides', () => {
  const file = loadDocumentText('trustDomain: file.example\ndefaultConfig: {concurrency: -1, proxyMetadata: {FROM_FILE: "1"}}\ningressService: my-ingress\n', 'mesh.yaml', { ...MESH_CONFIG_FILE_KIND, namespace: 'istio-system' });
  assert.deepEqual(file.errors, []);
  const resources = load(SMCP + '---\n' + CONFIGMAP('istio', 'trustDomain: cm.example\ndefaultConfig: {proxyMetadata: {FROM_CM: "1"}}'));
  const m = buildMeshModel(resources, undefined, { meshConfigFile: file.resource });
  assert.equal(m.config.trustDomain, 'file.example');
  assert.equal(m.config.ingressService, 'my-ingress');
  assert.deepEqual(m.config.defaultConfig.proxyMetadata, { ISTIO_DELTA_XDS: 'false', FROM_SMCP: '1', FROM_FILE: '1' }, 'the ConfigMap is not read at all');
  assert.equal(m.config.meshMTLS.minProtocolVersion, 'TLSV1_3', 'the ServiceMeshControlPlane still applies below the file');
  assert.deepEqual(m.sources.map((x) => `${x.resource.kind}/${x.resource.metadata.name}`), ['ServiceMeshControlPlane/basic', 'MeshConfig/meshconfig']);
  assert.deepEqual(m.problems.map((x) => [x.resource.kind, x.pointer, x.field]), [['MeshConfig', '', 'defaultConfig.concurrency']], 'problems point into the file');
  assert.deepEqual(positionOf(m.problems[0]!.resource, '/defaultConfig/concurrency'), { line: 2, column: 17 }, 'with positions');
  assert.equal(buildMeshModel(resources, { trustDomain: 'flag.example' }, { meshConfigFile: file.resource }).config.trustDomain, 'flag.example', 'overrides still win');
});

test('ProxyConfig: one reader for the mesh default and the pod annotation', () => {
  assert.deepEqual(readProxyConfig({ concurrency: 2, proxyMetadata: { A: 1 } }), { config: { concurrency: 2, proxyMetadata: { A: '1' } }, problems: [] });
  assert.deepEqual(readProxyConfig({ concurrency: 1.5 }).problems.map((p) => p.field), ['concurrency']);
  assert.deepEqual(readProxyConfig({ proxyMetadata: 'x' }).problems.map((p) => p.field), ['proxyMetadata']);
  assert.deepEqual(readProxyConfig([]).problems.map((p) => p.field), ['']);
});
