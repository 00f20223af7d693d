// Pushes that share work across proxies of one shape, checked end to end over gRPC: replicas get one encoded
// response, each proxy still gets its own peer-metadata routes and listener address, and a change that only
// touches clusters resends neither listeners nor routes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlPlane } from './control-plane.js';
import { MemoryStore } from './store/memory-store.js';
import { AdsClient } from '../xds/ads-client.js';
import type { XdsSnapshot } from '../xds/resource.js';
import { TypeUrl } from '../xds/resource.js';
import { decodePeerMetadata } from '../telemetry/workload-metadata.js';

const MESH = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-abc, labels: {app: reviews, version: v1}}
spec: {containers: [{name: app, image: app}]}
status: {podIP: 10.1.0.1}
`;
const SUBSET = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
`;

// Two replicas of one client deployment and one pod of another: all of one shape (namespace, labels).
const PROXIES = [
  { id: 'sidecar~10.2.0.1~client-a-5d8f9c7b6d-aaaaa.default~default.svc.cluster.local', workload: 'client-a' },
  { id: 'sidecar~10.2.0.2~client-a-5d8f9c7b6d-bbbbb.default~default.svc.cluster.local', workload: 'client-a' },
  { id: 'sidecar~10.2.0.3~client-b-7c9d8e6f5a-ccccc.default~default.svc.cluster.local', workload: 'client-b' },
];

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('proxies of one shape share encoded responses, keep their own routes and address, and get only what changed', async () => {
  const store = new MemoryStore();
  store.applyYaml(MESH, 'mesh.yaml');
  const cp = new ControlPlane({ store, debounceMs: 5, log: () => {} });
  const port = await cp.listen('127.0.0.1', 0);
  const clients: AdsClient[] = [];
  const latest = new Map<string, XdsSnapshot>();
  try {
    for (const p of PROXIES) {
      const c = new AdsClient({ address: `127.0.0.1:${port}`, node: { id: p.id, cluster: 'test', metadata: { NAMESPACE: 'default', LABELS: { app: 'client' } } }, log: () => {}, onUpdate: (s) => void latest.set(p.id, s) });
      c.start();
      clients.push(c);
    }
    const status = (id: string) => cp.ads.proxies().find((p) => p.id === id);
    const type = (id: string, typeUrl: string) => status(id)?.types.find((t) => t.typeUrl === typeUrl);
    const synced = () => PROXIES.every((p) => (status(p.id)?.types.length ?? 0) >= 4 && status(p.id)!.types.every((t) => t.state === 'SYNCED'));
    await waitFor(() => synced() && PROXIES.every((p) => latest.get(p.id)?.routes.length), 'all proxies SYNCED');

    for (const p of PROXIES) {
      const s = latest.get(p.id)!;
      const outbound = s.listeners.find((l) => l.name === 'virtualOutbound') as { address: { socketAddress: { address: string } } };
      assert.equal(outbound.address.socketAddress.address, p.id.split('~')[1], 'virtualOutbound carries the proxy’s own address');
      const route = s.routes.find((r) => r.name === '9080') as { requestHeadersToAdd: Array<{ header: { value: string } }> };
      assert.equal(decodePeerMetadata(route.requestHeadersToAdd[0]!.header.value)?.workload, p.workload, 'routes carry the proxy’s own workload');
    }
    const [a1, a2, b] = PROXIES.map((p) => p.id) as [string, string, string];
    // One encoded CDS response went to all three (one nonce); replicas share their RDS response, client-b has its own.
    assert.equal(type(a1, TypeUrl.Cluster)!.nonceSent, type(b, TypeUrl.Cluster)!.nonceSent);
    assert.equal(type(a1, TypeUrl.RouteConfiguration)!.nonceSent, type(a2, TypeUrl.RouteConfiguration)!.nonceSent);
    assert.notEqual(type(a1, TypeUrl.RouteConfiguration)!.nonceSent, type(b, TypeUrl.RouteConfiguration)!.nonceSent);
    assert.notEqual(type(a1, TypeUrl.Listener)!.versionSent, type(a2, TypeUrl.Listener)!.versionSent, 'listeners differ by address');

    // A subset: a new cluster and its endpoints. Listeners and routes did not change, so they are not resent.
    const before = new Map(PROXIES.map((p) => [p.id, { lds: type(p.id, TypeUrl.Listener)!.nonceSent, rds: type(p.id, TypeUrl.RouteConfiguration)!.nonceSent, cds: type(p.id, TypeUrl.Cluster)!.nonceSent }]));
    store.applyYaml(SUBSET, 'subset.yaml');
    await waitFor(() => synced() && PROXIES.every((p) => latest.get(p.id)!.clusters.some((c) => c.name === 'outbound|9080|v1|reviews.default.svc.cluster.local')), 'the subset cluster everywhere');
    for (const p of PROXIES) {
      assert.notEqual(type(p.id, TypeUrl.Cluster)!.nonceSent, before.get(p.id)!.cds, 'CDS resent');
      assert.equal(type(p.id, TypeUrl.Listener)!.nonceSent, before.get(p.id)!.lds, 'LDS not resent');
      assert.equal(type(p.id, TypeUrl.RouteConfiguration)!.nonceSent, before.get(p.id)!.rds, 'RDS not resent');
    }
  } finally {
    for (const c of clients) c.close();
    await cp.close();
  }
});
