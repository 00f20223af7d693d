// The console API on a real socket: reads, validated writes, view-only mode, istio_api_enabled: false, tokens.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { configDump } from '../controlplane/debug/config-dump.js';
import type { PodPlan } from '../runtime/plan.js';
import { podLogSource } from '../runtime/pod-logs.js';
import { podProcess, Supervisor } from '../runtime/supervisor.js';
import { istioSamplesDir } from '../samples.js';
import { TypeUrl } from '../xds/resource.js';
import { controlPlaneConfigDump, synczProxies } from './mesh/syncz.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { ConsoleServer } from './server.js';
import type { MetricsSource, Sample } from './sources.js';
import { call, type Reply } from './testing/api-call.js';
import { bookinfoConfigDir, BROKEN_VS_LINE, type ConfigDirFixture } from './testing/fixtures.js';
import { wizardYaml } from './wizards/routing.js';
import { subsetsFor } from './wizards/rules.js';

/** Prometheus stand-in for API tests: answers the source-reported request queries with two Bookinfo series. */
class StubMetrics implements MetricsSource {
  readonly queries: string[] = [];
  async query(promql: string): Promise<Sample[]> {
    this.queries.push(promql);
    if (!promql.startsWith('sum(rate(istio_requests_total{reporter="source",source_workload_namespace="default"}')) return [];
    const base = { source_workload_namespace: 'default', source_workload: 'productpage-v1', source_app: 'productpage', source_version: 'v1', destination_service_namespace: 'default', destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', destination_workload_namespace: 'default', destination_app: 'reviews', request_protocol: 'http', response_code: '200', response_flags: '-' };
    return [
      { metric: { ...base, destination_workload: 'reviews-v1', destination_version: 'v1' }, value: 2 },
      { metric: { ...base, destination_workload: 'reviews-v2', destination_version: 'v2' }, value: 1 },
    ];
  }
  async queryRange(): Promise<never[]> {
    return [];
  }
}

const yamlHeaders = { 'content-type': 'application/yaml' };

describe('console API (loopback, read-write)', () => {
  let fx: ConfigDirFixture;
  let server: ConsoleServer;
  let port: number;
  let syncz: http.Server;
  let supervisor: Supervisor;
  const metrics = new StubMetrics();

  before(async () => {
    fx = await bookinfoConfigDir();
    // The control plane's /debug/syncz, answered by a stand-in until the console runs beside the real one.
    syncz = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/debug/config_dump') {
        // The dump the control plane writes for a proxy (its own function), for the pod it was asked about.
        if (u.searchParams.get('proxyID') !== 'reviews-v2-6c5bf657cf-abcde.default') return void res.writeHead(404).end('{}');
        return void res.end(JSON.stringify(configDump('sidecar~127.0.1.9~reviews-v2-6c5bf657cf-abcde.default~default.svc.cluster.local', new Map([
          [TypeUrl.Cluster, [{ name: 'outbound|9080|v1|ratings.default.svc.cluster.local', typeUrl: TypeUrl.Cluster, value: { name: 'outbound|9080|v1|ratings.default.svc.cluster.local', type: 'EDS' } }]],
          [TypeUrl.Listener, [{ name: '0.0.0.0_9080', typeUrl: TypeUrl.Listener, value: { name: '0.0.0.0_9080', address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } }, filterChains: [] } }]],
        ]) as never, {})));
      }
      res.end(
        JSON.stringify([
          {
            id: 'sidecar~127.0.1.9~reviews-v2-6c5bf657cf-abcde.default~default.svc.cluster.local',
            connectionId: '1',
            mode: 'sotw',
            peer: '127.0.0.1:1',
            connectedAt: new Date().toISOString(),
            identity: { role: 'sidecar', ip: '127.0.1.9', podName: 'reviews-v2-6c5bf657cf-abcde', namespace: 'default', domain: 'default.svc.cluster.local', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews', generator: 'envoy', istioVersion: '', clusterId: '' },
            node: { id: 'x' },
            types: [{ typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', subscribed: '*', versionSent: 'a', nonceSent: 'n', versionAcked: 'a', resources: 4, state: 'SYNCED' }],
          },
        ]),
      );
    });
    await new Promise<void>((r) => syncz.listen(0, '127.0.0.1', r));
    const debugUrl = `http://127.0.0.1:${(syncz.address() as AddressInfo).port}`;
    // A real supervisor runs the pod's containers: its output is what the Logs tab reads.
    supervisor = new Supervisor(() => {});
    supervisor.start({ name: podProcess('default', 'reviews-v2-6c5bf657cf-abcde', 'reviews'), command: process.execPath, args: ['-e', 'for (let i = 1; i <= 5; i++) console.log(`line ${i}`); console.error("oops"); setInterval(() => {}, 1000)'], env: {} });
    const plan = { name: 'reviews-v2-6c5bf657cf-abcde', namespace: 'default', owner: 'reviews-v2', meshed: true, containers: [{ name: 'reviews' }] } as unknown as PodPlan;
    const logs = podLogSource({ podPlans: () => [plan], supervisor });
    const mesh = new YamlMeshSource({ configDir: fx.dir, proxies: synczProxies(debugUrl), configDump: controlPlaneConfigDump(debugUrl), logs, ...(fx.caRoot ? { caRootCertFile: fx.caRoot } : {}) });
    server = new ConsoleServer({ mesh, metrics, port: 0 });
    port = await server.listen();
  });
  after(async () => {
    await supervisor.stopAll(1000);
    await server.close();
    await new Promise((r) => syncz.close(r));
    await fx.cleanup();
  });

  test('status and namespaces', async () => {
    const s = await call(port, 'GET', '/api/status');
    assert.equal(s.status, 200);
    assert.deepEqual({ ...s.body, version: undefined }, { version: undefined, viewOnlyMode: false, istioApiEnabled: true, metricsEnabled: true, authRequired: false, authenticated: true });
    assert.equal(s.headers['x-content-type-options'], 'nosniff');
    const ns = await call(port, 'GET', '/api/namespaces');
    assert.deepEqual(ns.body.map((n: { name: string }) => n.name), ['default', 'istio-system']);
  });

  test('workloads, apps and services with health from Prometheus', async () => {
    const w = await call(port, 'GET', '/api/workloads?namespace=default&duration=5m');
    assert.equal(w.status, 200);
    const pp = w.body.items.find((x: { name: string }) => x.name === 'productpage-v1');
    assert.equal(pp.health.status, 'Healthy');
    assert.equal(pp.health.outbound.total, 3);
    assert.ok(metrics.queries.some((q) => q.includes('[300s]')));
    const apps = await call(port, 'GET', '/api/apps');
    const reviews = apps.body.items.find((a: { name: string }) => a.name === 'reviews');
    assert.deepEqual(reviews.versions, ['v1', 'v2', 'v3']);
    assert.ok(reviews.istioConfig.some((c: { kind: string; name: string }) => c.kind === 'VirtualService' && c.name === 'reviews'));
    const svc = await call(port, 'GET', '/api/namespaces/default/services/reviews');
    assert.equal(svc.status, 200);
    assert.deepEqual(svc.body.istioConfig.map((c: { kind: string; name: string }) => `${c.kind}/${c.name}`).sort(), ['DestinationRule/reviews', 'VirtualService/reviews']);
  });

  test('workload detail: the config that applies and the proxy with its sync state and identity', async () => {
    const r = await call(port, 'GET', '/api/namespaces/default/workloads/reviews-v2');
    assert.equal(r.status, 200);
    assert.equal(r.body.workload.version, 'v2');
    assert.deepEqual(r.body.services.map((s: { name: string }) => s.name), ['reviews']);
    assert.equal(r.body.proxies.length, 1);
    assert.equal(r.body.proxies[0].sync.CDS, 'SYNCED');
    assert.equal(r.body.proxies[0].certificate.identity, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    assert.equal((await call(port, 'GET', '/api/namespaces/default/workloads/nope')).body.error.code, 'NOT_FOUND');
    // Outside the API router too (the app's files), an error has its name and its catalogue code.
    const post = await call(port, 'POST', '/index.html');
    assert.equal(post.status, 405);
    assert.deepEqual(post.body.error, { code: 'METHOD_NOT_ALLOWED', trl: 'TRL3006', message: 'method not allowed' });
  });

  test('Istio config: list with validation status, detail with the YAML and the finding at its line', async () => {
    const list = await call(port, 'GET', '/api/istio/config');
    const broken = list.body.items.find((c: { name: string }) => c.name === 'reviews-canary');
    assert.equal(broken.status, 'Error');
    assert.equal(broken.object, undefined, 'lists leave the objects out');
    const d = await call(port, 'GET', '/api/namespaces/default/istio/networking.istio.io/VirtualService/reviews-canary');
    assert.equal(d.status, 200);
    const v = d.body.object.validations[0];
    assert.equal(v.code, 'IST0101');
    assert.equal(v.line, BROKEN_VS_LINE);
    assert.match(d.body.yaml.split('\n')[v.line - d.body.firstLine], /subset: v9/);
  });

  test('graph from the metrics', async () => {
    const g = await call(port, 'GET', '/api/namespaces/graph?namespaces=default&graphType=versionedApp&duration=60s');
    assert.equal(g.status, 200);
    const edges = g.body.elements.edges.map((e: { data: { source: string; target: string; rps: number } }) => `${e.data.source}>${e.data.target}=${e.data.rps}`);
    assert.ok(edges.includes('svc_default_reviews>vapp_default_reviews-v1=2'), edges.join(' '));
    assert.equal((await call(port, 'GET', '/api/namespaces/graph?namespaces=default&graphType=nope')).status, 400);
    assert.equal((await call(port, 'GET', '/api/namespaces/graph')).body.error.code, 'BAD_REQUEST');
  });

  test('control plane: version, proxies, mesh minimum TLS version, CA root', async () => {
    const cp = await call(port, 'GET', '/api/controlplane');
    assert.equal(cp.status, 200);
    assert.equal(cp.body.mesh.minProtocolVersion, 'TLSV1_3');
    assert.equal(cp.body.connectedProxies, 1);
    assert.equal(cp.body.syncedProxies, 1);
    if (fx.caRoot) assert.match(cp.body.caRoot.subject, /Trellis Root CA/);
  });

  test('writes: the wizard YAML is validated and written into the config directory', async () => {
    const inv = await call(port, 'GET', '/api/workloads?namespace=default');
    const reviews = inv.body.items.filter((w: { app?: string }) => w.app === 'reviews');
    const subsets = subsetsFor([{ name: 'ratings-v1', labels: { version: 'v1' } }]);
    const yaml = wizardYaml({ kind: 'request_routing', namespace: 'default', service: 'ratings', subsets, rules: [{ weights: [{ subset: 'v1', weight: 100 }] }] });
    assert.equal(reviews.length, 3);
    const r = await call(port, 'POST', '/api/istio/config?namespace=default', { body: JSON.stringify({ yaml }), headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.applied.map((a: { kind: string; name: string }) => `${a.kind}/${a.name}`), ['DestinationRule/ratings', 'VirtualService/ratings']);
    for (const a of r.body.applied) assert.ok(a.file.startsWith(fx.dir) && existsSync(a.file));
    assert.match(await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8'), /kiali_wizard: request_routing/);
  });

  test('writes: validation errors come back with codes and lines; bad requests are refused before any change', async () => {
    const bad = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bad\nspec:\n  hosts: [bad]\n  http:\n  - route:\n    - destination:\n        host: nowhere\n';
    const r = await call(port, 'POST', '/api/istio/config', { body: bad, headers: yamlHeaders });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    assert.ok(r.body.error.validations.some((v: { code: string; line: number }) => v.code === 'IST0101' && v.line === 10), JSON.stringify(r.body));
    assert.equal((await call(port, 'POST', '/api/istio/config', { body: bad, headers: { 'content-type': 'text/plain' } })).body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await call(port, 'POST', '/api/istio/config', { body: bad, headers: { ...yamlHeaders, origin: 'http://evil.example' } })).body.error.code, 'CROSS_SITE');
    assert.equal((await call(port, 'POST', '/api/istio/config', { body: 'a: [', headers: yamlHeaders })).body.error.code, 'INVALID_YAML');
    assert.equal((await call(port, 'DELETE', '/api/istio/config')).status, 405);
    assert.equal((await call(port, 'GET', '/api/nothing')).status, 404);
  });

  test('writes: replace an object by its URL, and annotate a workload', async () => {
    const url = '/api/namespaces/default/istio/networking.istio.io/VirtualService/reviews-canary';
    const d = await call(port, 'GET', url);
    const put = await call(port, 'PUT', url, { body: d.body.yaml.replace('subset: v9', 'subset: v2'), headers: yamlHeaders });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal((await call(port, 'GET', url)).body.object.status, 'Valid');
    const mismatch = await call(port, 'PUT', url.replace('reviews-canary', 'reviews'), { body: d.body.yaml, headers: yamlHeaders });
    assert.equal(mismatch.body.error.code, 'NAME_MISMATCH');

    const ann = await call(port, 'PATCH', '/api/namespaces/default/workloads/details-v1/annotations', { body: JSON.stringify({ annotations: { 'sidecar.istio.io/inject': 'false' } }), headers: { 'content-type': 'application/json' } });
    assert.equal(ann.status, 200, JSON.stringify(ann.body));
    const w = await call(port, 'GET', '/api/namespaces/default/workloads/details-v1');
    assert.equal(w.body.workload.sidecar, false);
  });

  test('delete: one object by its URL; Delete Traffic Routing lists (dry run) then removes the service\'s VS and DR', async () => {
    const json = { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` };
    const url = '/api/namespaces/default/istio/networking.istio.io/VirtualService/reviews-canary';
    const del = await call(port, 'DELETE', url, { body: '{}', headers: json });
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(del.body.applied.map((a: { kind: string; deleted: boolean }) => [a.kind, a.deleted]), [['VirtualService', true]]);
    assert.equal((await call(port, 'GET', url)).status, 404);
    assert.equal(existsSync(join(fx.dir, 'reviews-canary.yaml')), false, 'its file held nothing else');
    assert.equal((await call(port, 'DELETE', url, { body: '{}', headers: json })).body.error.code, 'NOT_FOUND');

    // Istio's ingress routes for Bookinfo: a `*` VirtualService routes every service but is none's own.
    await copyFile(join(istioSamplesDir(), 'bookinfo/networking/bookinfo-gateway.yaml'), join(fx.dir, 'bookinfo-gateway.yaml'));
    const dry = await call(port, 'DELETE', '/api/namespaces/default/services/details/routing?dryRun=true', { body: '{}', headers: json });
    assert.deepEqual(dry.body.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`).sort(), ['DestinationRule/details', 'VirtualService/details']);
    const gone = await call(port, 'DELETE', '/api/namespaces/default/services/details/routing', { body: '{}', headers: json });
    assert.equal(gone.status, 200, JSON.stringify(gone.body));
    const left = (await call(port, 'GET', '/api/namespaces/default/services/details')).body.istioConfig.map((c: { kind: string; name: string }) => `${c.kind}/${c.name}`);
    assert.deepEqual(left.filter((c: string) => c.endsWith('/details')), [], left.join());
    assert.ok(left.includes('VirtualService/bookinfo'), 'the ingress routes stay');
    assert.match(await readFile(join(fx.dir, 'destination-rule-all.yaml'), 'utf8'), /name: reviews/, 'the other services\' rules stay');
    assert.equal((await call(port, 'DELETE', '/api/namespaces/default/services/nope/routing', { body: '{}', headers: json })).body.error.code, 'NOT_FOUND');
  });

  test('dry run: findings at their lines, nothing written', async () => {
    const before = await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8');
    const r = await call(port, 'POST', '/api/istio/config?dryRun=true', { body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ratings\nspec:\n  hosts: [ratings]\n  http:\n  - route:\n    - destination: {host: ratings, subset: v1}\n', headers: yamlHeaders });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.applied, []);
    assert.equal(await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8'), before);
  });

  test('pods: containers and their logs from the supervisor; the proxy\'s clusters and listeners from the control plane', async () => {
    const pods = await call(port, 'GET', '/api/namespaces/default/pods?workload=reviews-v2');
    assert.deepEqual(pods.body.items, [{ namespace: 'default', name: 'reviews-v2-6c5bf657cf-abcde', workload: 'reviews-v2', containers: ['reviews', 'istio-proxy'] }]);
    let logs: Reply | undefined;
    const deadline = Date.now() + 10_000;
    do {
      logs = await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/logs?container=reviews&tailLines=3');
    } while (logs.body.lines?.length < 3 && Date.now() < deadline && (await new Promise((r) => setTimeout(r, 50)), true));
    assert.deepEqual(logs.body.lines.map((l: { stream: string; text: string }) => `${l.stream}:${l.text}`).sort(), ['stderr:oops', 'stdout:line 4', 'stdout:line 5'].sort());
    assert.equal((await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/logs?container=nope')).body.error.code, 'NOT_FOUND');
    assert.equal((await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/logs')).body.error.code, 'BAD_REQUEST');

    const clusters = await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/config_dump/clusters');
    assert.equal(clusters.status, 200, JSON.stringify(clusters.body));
    assert.deepEqual(clusters.body.headers.slice(0, 3), ['SERVICE FQDN', 'PORT', 'SUBSET']);
    assert.deepEqual(clusters.body.rows[0].slice(0, 4), ['ratings.default.svc.cluster.local', '9080', 'v1', 'outbound']);
    const listeners = await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/config_dump/listeners');
    assert.equal(listeners.body.headers[0], 'ADDRESSES');
    assert.equal((await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/config_dump')).body.configs.length, 5);
    assert.equal((await call(port, 'GET', '/api/namespaces/default/pods/other/config_dump/routes')).body.error.code, 'NOT_FOUND');
    assert.equal((await call(port, 'GET', '/api/namespaces/default/pods/reviews-v2-6c5bf657cf-abcde/config_dump/secrets')).body.error.code, 'NOT_FOUND');
  });

  test('a Host header that is not loopback is refused (DNS rebinding)', async () => {
    const r = await call(port, 'GET', '/api/namespaces', { headers: { host: 'attacker.example:20001' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'HOST_NOT_ALLOWED');
  });

  test('the page is served for app routes, or says the bundle is missing', async () => {
    const r = await call(port, 'GET', '/graph');
    assert.ok(r.status === 200 || r.status === 503);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
    assert.equal((await call(port, 'GET', '/../../etc/passwd')).body.includes?.('root:'), false);
  });
});

describe('console API in view-only mode', () => {
  let fx: ConfigDirFixture;
  let server: ConsoleServer;
  let port: number;
  before(async () => {
    fx = await bookinfoConfigDir();
    server = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: fx.dir }), port: 0, viewOnlyMode: true });
    port = await server.listen();
  });
  after(async () => {
    await server.close();
    await fx.cleanup();
  });

  test('reads work, every write is refused with 403 and nothing changes', async () => {
    assert.equal((await call(port, 'GET', '/api/status')).body.viewOnlyMode, true);
    assert.equal((await call(port, 'GET', '/api/istio/config')).status, 200);
    const before = await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8');
    const writes: Array<[string, string, string]> = [
      ['POST', '/api/istio/config', 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [x]}\n'],
      ['PUT', '/api/namespaces/default/istio/networking.istio.io/VirtualService/reviews', 'x: y\n'],
      ['PATCH', '/api/namespaces/default/workloads/details-v1/annotations', '{"annotations":{"a":"b"}}'],
      ['DELETE', '/api/namespaces/default/istio/networking.istio.io/VirtualService/reviews', '{}'],
      ['DELETE', '/api/namespaces/default/services/reviews/routing', '{}'],
    ];
    for (const [method, path, body] of writes) {
      const r = await call(port, method, path, { body, headers: { 'content-type': method === 'PATCH' || method === 'DELETE' ? 'application/json' : 'application/yaml' } });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.error.code, 'VIEW_ONLY');
      assert.equal(r.body.error.trl, 'TRL3003', 'the catalogue code travels beside the name');
    }
    assert.equal(await readFile(join(fx.dir, 'virtual-service-all-v1.yaml'), 'utf8'), before);
  });

  test('without Prometheus the graph says so, and lists still work', async () => {
    assert.deepEqual((await call(port, 'GET', '/api/namespaces/graph?namespaces=default')).body.error, { code: 'METRICS_UNAVAILABLE', trl: 'TRL3017', message: 'no Prometheus is configured' });
    const w = await call(port, 'GET', '/api/workloads');
    assert.equal(w.status, 200);
    assert.equal(w.body.metricsError, 'no Prometheus configured');
    assert.equal(w.body.items[0].health.status, 'NA');
  });
});

describe('console API with istio_api_enabled: false', () => {
  let fx: ConfigDirFixture;
  let server: ConsoleServer;
  let port: number;
  before(async () => {
    fx = await bookinfoConfigDir();
    server = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: fx.dir }), metrics: new StubMetrics(), port: 0, istioApiEnabled: false });
    port = await server.listen();
  });
  after(async () => {
    await server.close();
    await fx.cleanup();
  });

  test('manifests, config and metrics work; control-plane features are marked unavailable', async () => {
    assert.equal((await call(port, 'GET', '/api/status')).body.istioApiEnabled, false);
    assert.equal((await call(port, 'GET', '/api/istio/config')).status, 200);
    assert.equal((await call(port, 'GET', '/api/namespaces/graph?namespaces=default')).status, 200);
    for (const path of ['/api/proxies', '/api/controlplane']) assert.equal((await call(port, 'GET', path)).body.error.code, 'ISTIO_API_DISABLED', path);
    const w = await call(port, 'GET', '/api/namespaces/default/workloads/reviews-v1');
    assert.match(w.body.proxies.unavailable, /istio_api_enabled/);
    const write = await call(port, 'POST', '/api/istio/config', { body: 'a: b\n', headers: yamlHeaders });
    assert.equal(write.status, 503);
    assert.equal(write.body.error.code, 'ISTIO_API_DISABLED');
  });
});

describe('console API bound to every address: a token is required', () => {
  let fx: ConfigDirFixture;
  let server: ConsoleServer;
  let port: number;
  const token = 'test-token-with-enough-entropy-0123456789';
  before(async () => {
    fx = await bookinfoConfigDir();
    // Bound to 0.0.0.0 (not loopback), reached here through 127.0.0.1: the bind address decides, not the caller.
    server = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: fx.dir }), host: '0.0.0.0', port: 0, token });
    port = await server.listen();
  });
  after(async () => {
    await server.close();
    await fx.cleanup();
  });

  test('without a token: 401, except the status and login routes', async () => {
    assert.equal(server.authRequired, true);
    const s = await call(port, 'GET', '/api/status');
    assert.equal(s.status, 200);
    assert.equal(s.body.authRequired, true);
    assert.equal(s.body.authenticated, false);
    assert.equal((await call(port, 'GET', '/api/namespaces')).status, 401);
    assert.equal((await call(port, 'GET', '/api/namespaces', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const w = await call(port, 'POST', '/api/istio/config', { body: 'a: b\n', headers: yamlHeaders });
    assert.equal(w.status, 401);
    assert.equal(w.body.error.code, 'UNAUTHORIZED');
  });

  test('with the bearer token, reads and writes go through (writes still validated)', async () => {
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await call(port, 'GET', '/api/namespaces', { headers: auth })).status, 200);
    const bad = await call(port, 'POST', '/api/istio/config', { body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [x], http: [{route: [{destination: {host: x}, weight: 200}]}]}\n', headers: { ...auth, ...yamlHeaders } });
    assert.equal(bad.status, 422);
  });

  test('logging in with the token sets an HttpOnly session cookie that works until logout', async () => {
    assert.equal((await call(port, 'POST', '/api/authenticate', { body: JSON.stringify({ token: 'nope' }), headers: { 'content-type': 'application/json' } })).status, 401);
    const login = await call(port, 'POST', '/api/authenticate', { body: JSON.stringify({ token }), headers: { 'content-type': 'application/json' } });
    assert.equal(login.status, 200);
    const setCookie = String(login.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    assert.equal((await call(port, 'GET', '/api/namespaces', { headers: { cookie } })).status, 200);
    assert.equal((await call(port, 'GET', '/api/status', { headers: { cookie } })).body.authenticated, true);
    // A cookie alone cannot write from another site.
    const cross = await call(port, 'POST', '/api/istio/config', { body: 'a: b\n', headers: { cookie, ...yamlHeaders, origin: 'http://evil.example' } });
    assert.equal(cross.body.error.code, 'CROSS_SITE');
    await call(port, 'POST', '/api/logout', { headers: { cookie } });
    assert.equal((await call(port, 'GET', '/api/namespaces', { headers: { cookie } })).status, 401);
  });
});
