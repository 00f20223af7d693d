// The admin endpoints against a live proxy: readiness, config_dump shape, clusters text, stats, logging, server_info, quit.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { log } from '../log.js';
import { TrellisProxy } from '../proxy.js';
import { cla, edsCluster, httpListener, request, routeConfig, routeTo, startUpstream, vhost, type Upstream } from '../testing.js';
import { AdminServer } from './admin-server.js';

describe('admin server', () => {
  let up: Upstream;
  const proxy = new TrellisProxy({ nodeId: 'sidecar~10.0.0.1~productpage-v1.default~default.svc.cluster.local' });
  let quits = 0;
  const admin = new AdminServer(proxy, { port: 0, onQuit: () => quits++ });
  let adminPort: number;
  const get = (path: string, method = 'GET') => request(adminPort, { path, method });

  before(async () => {
    up = await startUpstream('app');
    adminPort = (await admin.start()).port;
  });

  after(async () => {
    await admin.close();
    await proxy.close();
    await up.close();
  });

  test('/ready is 503 before the first snapshot and 200 LIVE after', async () => {
    let r = await get('/ready');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'PRE_INITIALIZING\n');
    await proxy.apply({
      listeners: [httpListener('0.0.0.0_9080', '9080')],
      routes: [routeConfig('9080', [vhost('app', ['*'], [routeTo('outbound|9080||app.default.svc.cluster.local')])])],
      clusters: [edsCluster('outbound|9080||app.default.svc.cluster.local')],
      endpoints: [cla('outbound|9080||app.default.svc.cluster.local', [{ port: up.port }])],
    });
    r = await get('/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'LIVE\n');
    await request(proxy.listenerAddress('0.0.0.0_9080')!.port);
  });

  test('/config_dump has Envoy\'s shape: typed dumps, dynamic resources with @type; endpoints with include_eds', async () => {
    const dump = JSON.parse((await get('/config_dump')).body) as { configs: Array<Record<string, unknown>> };
    const types = dump.configs.map((c) => c['@type']);
    assert.deepEqual(types, [
      'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      'type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump',
      'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
    ]);
    const clusters = dump.configs[1]!.dynamicActiveClusters as Array<{ cluster: Record<string, unknown>; versionInfo: string }>;
    assert.equal(clusters[0]!.cluster['@type'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
    assert.equal(clusters[0]!.cluster.name, 'outbound|9080||app.default.svc.cluster.local');
    const listeners = dump.configs[2]!.dynamicListeners as Array<{ name: string; activeState: { listener: Record<string, unknown> } }>;
    assert.equal(listeners[0]!.name, '0.0.0.0_9080');
    assert.equal(listeners[0]!.activeState.listener['@type'], 'type.googleapis.com/envoy.config.listener.v3.Listener');
    const routes = dump.configs[4]!.dynamicRouteConfigs as Array<{ routeConfig: Record<string, unknown> }>;
    assert.equal(routes[0]!.routeConfig.name, '9080');
    const withEds = JSON.parse((await get('/config_dump?include_eds')).body) as { configs: Array<Record<string, unknown>> };
    const eds = withEds.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump')!;
    assert.equal((eds.dynamicEndpointConfigs as Array<{ endpointConfig: { clusterName: string } }>)[0]!.endpointConfig.clusterName, 'outbound|9080||app.default.svc.cluster.local');
  });

  test('/clusters prints cluster::host::stat::value lines', async () => {
    const text = (await get('/clusters')).body;
    const c = 'outbound|9080||app.default.svc.cluster.local';
    assert.ok(text.includes(`${c}::default_priority::max_connections::1024\n`));
    assert.ok(text.includes(`${c}::127.0.0.1:${up.port}::health_flags::healthy\n`));
    assert.ok(text.includes(`${c}::127.0.0.1:${up.port}::rq_total::1\n`));
    assert.match(text, new RegExp(`${c.replace(/\|/g, '\\|')}::127\\.0\\.0\\.1:${up.port}::cx_active::\\d+\\n`));
    const json = JSON.parse((await get('/clusters?format=json')).body) as { clusterStatuses: Array<{ name: string; hostStatuses: unknown[] }> };
    assert.equal(json.clusterStatuses[0]!.hostStatuses.length, 1);
  });

  test('/stats prints counters as "name: value", with ?filter', async () => {
    const text = (await get('/stats')).body;
    assert.ok(text.includes('cluster.outbound|9080||app.default.svc.cluster.local.upstream_rq_total: 1\n'));
    assert.ok(text.includes('http.0.0.0.0_9080.downstream_rq_2xx: 1\n'));
    const filtered = (await get('/stats?filter=downstream_rq_total')).body.trim().split('\n');
    assert.ok(filtered.length >= 1 && filtered.every((l) => l.includes('downstream_rq_total')));
  });

  test('/listeners and /server_info', async () => {
    const l = (await get('/listeners')).body;
    assert.match(l, /^0\.0\.0\.0_9080::127\.0\.0\.1:\d+\n$/);
    const info = JSON.parse((await get('/server_info')).body) as { state: string; node: { id: string } };
    assert.equal(info.state, 'LIVE');
    assert.equal(info.node.id, 'sidecar~10.0.0.1~productpage-v1.default~default.svc.cluster.local');
  });

  test('/logging lists levels; POST changes them', async () => {
    let r = await get('/logging');
    assert.match(r.body, /^active loggers:\n/);
    assert.match(r.body, / {2}router: info\n/);
    r = await get('/logging?level=debug', 'POST');
    assert.match(r.body, / {2}router: debug\n/);
    assert.equal(log('router').level, 'debug');
    r = await get('/logging?router=warning', 'POST');
    assert.equal(log('router').level, 'warning');
    assert.equal((await get('/logging?level=loud', 'POST')).status, 404);
    await get('/logging?level=info', 'POST');
  });

  test('/quitquitquit needs POST, answers OK, then quits', async () => {
    assert.equal((await get('/quitquitquit')).status, 405);
    const r = await get('/quitquitquit', 'POST');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK\n');
    await new Promise((res) => setImmediate(res));
    assert.equal(quits, 1);
  });

  test('unknown paths get 404 with the help text', async () => {
    const r = await get('/nope');
    assert.equal(r.status, 404);
    assert.match(r.body, /admin commands are:/);
  });
});
