// The console's Gateway API on a real socket: status from a real control plane's /debug/status (Programmed once a
// gateway proxy is registered) or, without one, computed from the files; the analyzers' cross-object findings on
// routes; the Gateway API wizards' objects written, then removed by Delete Traffic Routing; refused in view-only mode.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../controlplane/control-plane.js';
import { DebugServer } from '../controlplane/debug/debug-server.js';
import { DirectoryStore } from '../controlplane/store/directory-store.js';
import { GATEWAY_NAME_LABEL } from '../config/types/gateway-api.js';
import { istioSamplesDir } from '../samples.js';
import { controlPlaneGatewayStatus } from './mesh/gateway-api-status.js';
import { YamlMeshSource } from './mesh/yaml-mesh-source.js';
import { ConsoleServer } from './server.js';
import { call } from './testing/api-call.js';
import { waitFor } from './testing/prometheus.js';
import { k8sGatewayYaml } from './wizards/k8s-gateway.js';
import { wizardYaml } from './wizards/routing.js';
import { WHOLE_SERVICE } from './wizards/rules.js';

const S = `${istioSamplesDir()}/bookinfo`;
const conds = (c: Array<{ type: string; status: string; reason: string }>) => c.map((x) => `${x.type}=${x.status}/${x.reason}`);

describe('console API: Gateway API status, validations and wizards', () => {
  let dir: string;
  let store: DirectoryStore;
  let cp: ControlPlane;
  let debug: DebugServer;
  let live: ConsoleServer;
  let files: ConsoleServer;
  let viewOnly: ConsoleServer;
  const ports = { live: 0, files: 0, viewOnly: 0 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-console-gwapi-'));
    for (const f of ['bookinfo.yaml', 'bookinfo-versions.yaml']) copyFileSync(`${S}/platform/kube/${f}`, join(dir, f));
    // A real control plane over the same directory, as `trellis up` runs it, with its debug port.
    store = await DirectoryStore.open(dir, { log: () => {} });
    cp = new ControlPlane({ store, log: () => {} });
    debug = new DebugServer(cp);
    const debugUrl = `http://127.0.0.1:${await debug.listen('127.0.0.1', 0)}`;
    live = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: dir, gatewayStatus: controlPlaneGatewayStatus(debugUrl) }), port: 0 });
    files = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: dir }), port: 0 });
    viewOnly = new ConsoleServer({ mesh: new YamlMeshSource({ configDir: dir }), port: 0, viewOnlyMode: true });
    [ports.live, ports.files, ports.viewOnly] = await Promise.all([live.listen(), files.listen(), viewOnly.listen()]);
  });

  after(async () => {
    await Promise.all([live?.close(), files?.close(), viewOnly?.close(), debug?.close()]);
    await cp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (port: number, yaml: string) => call(port, 'POST', '/api/istio/config?namespace=default', { body: yaml, headers: { 'content-type': 'application/yaml' } });
  const config = async (port: number) => (await call(port, 'GET', '/api/istio/config?namespace=default')).body as { items: Array<{ kind: string; name: string; status: string; validations: Array<{ code: string }>; gatewayApiStatus?: any }>; statusSource?: { source: string; message?: string } };
  const item = async (port: number, kind: string, name: string) => (await config(port)).items.find((c) => c.kind === kind && c.name === name);

  const gateway = k8sGatewayYaml({ namespace: 'default', name: 'bookinfo-gw', className: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', from: 'Same' }] });
  const ingressRoute = wizardYaml({ kind: 'k8s_request_routing', namespace: 'default', service: 'productpage', subsets: [], rules: [{ weights: [{ subset: WHOLE_SERVICE, weight: 100 }] }], gateway: { mode: 'existing', gateway: 'default/bookinfo-gw', hosts: ['*'], includeMesh: false }, backends: { port: 9080, versions: {} } });

  test('the wizards\' Gateway and HTTPRoute are written; their status comes from the control plane, Programmed once its proxy runs', async () => {
    for (const y of [gateway, ingressRoute]) {
      const r = await write(ports.live, y);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await waitFor('the control plane sees the Gateway', 10_000, async () => !!(await item(ports.live, 'Gateway', 'bookinfo-gw'))?.gatewayApiStatus, 50);
    let gw = await item(ports.live, 'Gateway', 'bookinfo-gw');
    assert.deepEqual(conds(gw!.gatewayApiStatus.conditions), ['Accepted=True/Accepted', 'Programmed=False/AddressNotAssigned']);
    // What `trellis up` does when it deploys the Gateway's proxy: registers it with the Gateway's name label.
    cp.registry.upsertWorkload({ name: 'bookinfo-gw-istio-0', namespace: 'default', labels: { [GATEWAY_NAME_LABEL]: 'bookinfo-gw' }, serviceAccount: 'bookinfo-gw-istio', address: '127.10.255.2', ports: {}, healthy: true, meshed: false });
    await waitFor('Programmed', 10_000, async () => (await item(ports.live, 'Gateway', 'bookinfo-gw'))?.gatewayApiStatus.conditions[1].status === 'True', 50);
    const list = await config(ports.live);
    assert.equal(list.statusSource?.source, 'control-plane');
    gw = list.items.find((c) => c.kind === 'Gateway' && c.name === 'bookinfo-gw');
    assert.deepEqual(gw!.gatewayApiStatus.addresses, [{ type: 'IPAddress', value: '127.10.255.2' }]);
    assert.equal(gw!.gatewayApiStatus.listeners[0].attachedRoutes, 1);
    assert.ok(gw!.gatewayApiStatus.conditions.every((c: { lastTransitionTime?: string }) => typeof c.lastTransitionTime === 'string'), 'the control plane stamps transitions');
    const route = list.items.find((c) => c.kind === 'HTTPRoute' && c.name === 'productpage')!;
    assert.equal(route.status, 'Valid');
    assert.deepEqual(conds(route.gatewayApiStatus.parents[0].conditions), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
    // The detail page's answer carries it too.
    const detail = await call(ports.live, 'GET', '/api/namespaces/default/istio/gateway.networking.k8s.io/Gateway/bookinfo-gw');
    assert.equal(detail.body.statusSource.source, 'control-plane');
    assert.equal(detail.body.object.gatewayApiStatus.conditions[1].reason, 'Programmed');
  });

  test('without a control plane: the same status computed from the files, where nothing is Programmed', async () => {
    const list = await config(ports.files);
    assert.equal(list.statusSource?.source, 'files');
    assert.match(list.statusSource!.message!, /no control plane/);
    const gw = list.items.find((c) => c.kind === 'Gateway' && c.name === 'bookinfo-gw')!;
    assert.deepEqual(conds(gw.gatewayApiStatus.conditions), ['Accepted=True/Accepted', 'Programmed=False/AddressNotAssigned']);
    assert.deepEqual(conds((await item(ports.files, 'HTTPRoute', 'productpage'))!.gatewayApiStatus.parents[0].conditions), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  test('cross-object validations on routes written by hand: a missing Gateway, a missing Service, a cross-namespace backend without ReferenceGrant', async () => {
    writeFileSync(join(dir, 'broken-routes.yaml'), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lost, namespace: default}
spec:
  parentRefs: [{name: no-such-gateway}]
  rules: [{backendRefs: [{name: no-such-service, port: 9080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reaching, namespace: default}
spec:
  parentRefs: [{name: bookinfo-gw}]
  hostnames: [reaching.example.com]
  rules: [{backendRefs: [{name: ratings, namespace: other, port: 9080}]}]
`);
    const lost = (await item(ports.files, 'HTTPRoute', 'lost'))!;
    assert.equal(lost.status, 'Error');
    assert.deepEqual(lost.validations.map((v) => v.code), ['IST0101', 'IST0101']);
    assert.deepEqual(conds(lost.gatewayApiStatus.parents[0].conditions), ['Accepted=False/NoMatchingParent', 'ResolvedRefs=False/BackendNotFound']);
    const reaching = (await item(ports.files, 'HTTPRoute', 'reaching'))!;
    assert.deepEqual(reaching.validations.map((v) => v.code), ['TRL0102']);
    assert.deepEqual(conds(reaching.gatewayApiStatus.parents[0].conditions), ['Accepted=True/Accepted', 'ResolvedRefs=False/RefNotPermitted']);
    // The write path refuses the same from the console (an Error is never written).
    const refused = await write(ports.files, readFileSync(join(dir, 'broken-routes.yaml'), 'utf8').replace(/name: lost/, 'name: lost2').split('---')[0]!);
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.body.error.validations.map((v: { code: string }) => v.code), ['IST0101', 'IST0101']);
    rmSync(join(dir, 'broken-routes.yaml'));
  });

  test('Delete Traffic Routing takes a service\'s mesh HTTPRoutes, its wizard route and Gateway, not the ingress routes to it', async () => {
    const json = { 'content-type': 'application/json' };
    for (const f of ['route-reviews-90-10.yaml', 'bookinfo-gateway.yaml']) copyFileSync(`${S}/gateway-api/${f}`, join(dir, f));
    const mesh = wizardYaml({ kind: 'k8s_traffic_shifting', namespace: 'default', service: 'ratings', subsets: [{ name: 'v1', labels: { version: 'v1' } }], rules: [{ weights: [{ subset: 'v1', weight: 100 }] }], gateway: { mode: 'new', port: 8090, protocol: 'HTTP', hosts: ['*'], includeMesh: true }, backends: { port: 9080, versions: { v1: { name: 'ratings-v1', port: 9080 } } } });
    assert.equal((await write(ports.files, mesh)).status, 200);
    const dry = (service: string) => call(ports.files, 'DELETE', `/api/namespaces/default/services/${service}/routing?dryRun=true`, { body: '{}', headers: json });
    assert.deepEqual((await dry('reviews')).body.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`), ['HTTPRoute/reviews'], 'Istio\'s own mesh route for reviews');
    assert.deepEqual((await dry('ratings')).body.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`).sort(), ['Gateway/ratings-gateway', 'HTTPRoute/ratings']);
    // The wizard's route for productpage is its routing; Istio's `bookinfo` ingress route only sends traffic to it.
    assert.deepEqual((await dry('productpage')).body.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`), ['HTTPRoute/productpage']);
    const gone = await call(ports.files, 'DELETE', '/api/namespaces/default/services/ratings/routing', { body: '{}', headers: json });
    assert.equal(gone.status, 200, JSON.stringify(gone.body));
    assert.equal(existsSync(join(dir, 'default-gateway-ratings-gateway.yaml')), false);
    assert.equal(existsSync(join(dir, 'default-httproute-ratings.yaml')), false);
  });

  test('view-only: the Gateway API wizards\' writes are refused and nothing changes', async () => {
    const before = readFileSync(join(dir, 'default-httproute-productpage.yaml'), 'utf8');
    const r = await call(ports.viewOnly, 'POST', '/api/istio/config?namespace=default', { body: ingressRoute.replace('productpage', 'details'), headers: { 'content-type': 'application/yaml' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'VIEW_ONLY');
    assert.equal((await call(ports.viewOnly, 'DELETE', '/api/namespaces/default/istio/gateway.networking.k8s.io/HTTPRoute/productpage', { body: '{}', headers: { 'content-type': 'application/json' } })).status, 403);
    assert.equal(readFileSync(join(dir, 'default-httproute-productpage.yaml'), 'utf8'), before);
  });
});
