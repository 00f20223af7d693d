// A VirtualService `timeout` written in Istio's compound duration forms (`0m1s`, `1m30s`) reaches a real sidecar over
// ADS and is enforced there: a regression test for durations that translation once read as 0s (no timeout at all).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControlPlane } from './control-plane.js';
import { MemoryStore } from './store/memory-store.js';
import { TrellisProxy } from '../proxy/proxy.js';
import { request, waitFor } from '../proxy/testing.js';
import { AdsClient } from '../xds/ads-client.js';
import { nodeId } from '../xds/node.js';
import { TypeUrl } from '../xds/resource.js';
import type { RouteConfiguration } from '../xds/envoy/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** An app that answers `/slow` after 3 s (unless the caller gives up first) and everything else at once. */
async function slowApp(): Promise<number> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/slow') return void res.end('fast');
    const timer = setTimeout(() => res.end('slow'), 3000);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return (server.address() as AddressInfo).port;
}

const config = (appPort: number, timeout: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: slow, namespace: default}
spec:
  hosts: [slow.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1, ports: {http: ${appPort}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: slow, namespace: default}
spec:
  hosts: [slow.example.com]
  http:
  - timeout: ${timeout}
    route: [{destination: {host: slow.example.com}}]
`;

test('VirtualService timeouts in compound forms are honoured end to end: 0m1s cuts a 3 s request, 1m30s is 90 s on the proxy', { timeout: 30_000 }, async () => {
  const appPort = await slowApp();
  const store = new MemoryStore();
  assert.deepEqual(store.applyYaml(config(appPort, '0m1s'), 'slow.yaml'), []);
  const cp = new ControlPlane({ store, debounceMs: 10, log: () => {} });
  const xds = await cp.listen('127.0.0.1', 0);
  cleanups.push(() => cp.close());

  const proxy = new TrellisProxy({ listenerDrainMs: 100 });
  const client = new AdsClient({
    address: `127.0.0.1:${xds}`,
    node: { id: nodeId('sidecar', '127.0.0.1', 'sleep-1', 'default'), cluster: 'sleep', metadata: { NAMESPACE: 'default', LABELS: { app: 'sleep' }, NAME: 'sleep-1', INSTANCE_IPS: '127.0.0.1', OUTBOUND_PORT: 0 } },
    log: () => {},
    onUpdate: async (snap) => void (await proxy.apply(snap)),
  });
  client.start();
  cleanups.push(async () => (client.close(), await proxy.close()));
  await waitFor(() => client.applied > 0, 10_000, 'the sidecar configured');
  const outbound = proxy.listenerAddress('virtualOutbound')!.port;
  const routeTimeout = () => proxy.routeTable('8080')?.virtualHosts.find((v) => v.name === 'slow.example.com:8080')?.routes[0]?.action;

  // 0m1s: the route times out after one second with Envoy's 504, long before the app answers.
  const started = Date.now();
  const cut = await request(outbound, { path: 'http://slow.example.com:8080/slow' });
  const elapsed = Date.now() - started;
  assert.equal(cut.status, 504);
  assert.equal(cut.body, 'upstream request timeout');
  assert.ok(elapsed >= 900 && elapsed < 2900, `cut after ${elapsed} ms`);
  assert.equal((await request(outbound, { path: 'http://slow.example.com:8080/fast' })).body, 'fast');

  // 1m30s: the control plane sends 90s and the proxy holds a 90 s timeout (the 3 s request now completes).
  assert.deepEqual(store.applyYaml(config(appPort, '1m30s'), 'slow.yaml'), []);
  await waitFor(() => { const a = routeTimeout(); return a?.kind === 'forward' && a.timeoutMs === 90_000; }, 10_000, 'the 90 s timeout applied');
  const sent = cp.ads.configFor('sleep-1')?.resources.get(TypeUrl.RouteConfiguration)?.map((r) => r.value as RouteConfiguration);
  const route = sent?.find((r) => r.name === '8080')?.virtualHosts?.find((v) => v.name === 'slow.example.com:8080')?.routes?.[0]?.route;
  assert.equal(route?.timeout, '90s');
  const whole = await request(outbound, { path: 'http://slow.example.com:8080/slow' });
  assert.equal(whole.status, 200);
  assert.equal(whole.body, 'slow');
});
