// The ADS server against Trellis's own ADS client over real gRPC on 127.0.0.1: SotW and delta, ACK/NACK,
// debouncing, pushes only to proxies whose config changed, reconnects with back-off. The client's tests run with both
// of its stacks: node:http2 with the generated codec (the sidecar's) and grpc-js with protobufjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdsServer } from './ads-server.js';
import { AdsClient } from './ads-client.js';
import type { XdsSnapshot } from './resource.js';
import type { ConfigGenerator, ProxyResources } from './generator.js';
import { TypeUrl, type ProxyNode, type XdsResource } from './resource.js';
import { encodeRequest, wireTypes } from './wire.js';
import { ManualClock } from '../clock.js';
import { CLIENT_STACKS, type ClientStackName } from './client/grpc-channel.js';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../free-port.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** A small sidecar-shaped config whose route points at `cluster`, with `port` as the upstream port. */
function config(cluster: string, port: number): ProxyResources {
  const r = (typeUrl: string, name: string, value: Record<string, unknown>): XdsResource => ({ typeUrl, name, value });
  return new Map([
    [TypeUrl.Listener, [r(TypeUrl.Listener, '0.0.0.0_9080', {
      name: '0.0.0.0_9080',
      address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': HCM, statPrefix: 'x', rds: { routeConfigName: '9080', configSource: { ads: {} } }, httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }] } }] }],
    })]],
    [TypeUrl.RouteConfiguration, [r(TypeUrl.RouteConfiguration, '9080', { name: '9080', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] })]],
    [TypeUrl.Cluster, [r(TypeUrl.Cluster, cluster, { name: cluster, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } }, connectTimeout: '1s' })]],
    [TypeUrl.ClusterLoadAssignment, [r(TypeUrl.ClusterLoadAssignment, cluster, { clusterName: cluster, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] })]],
  ]);
}

/** A generator whose output per node id the test sets. */
class TestGenerator implements ConfigGenerator {
  readonly byNode = new Map<string, ProxyResources>();
  calls = 0;
  generate(node: ProxyNode): ProxyResources {
    this.calls++;
    return this.byNode.get(node.id) ?? this.byNode.get('*') ?? new Map();
  }
}

const node = (id: string): ProxyNode => ({ id, cluster: 'test', metadata: { NAMESPACE: 'default', LABELS: { app: 'reviews' } } });

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setup(mode: 'sotw' | 'delta', stack: ClientStackName = 'lean') {
  const gen = new TestGenerator();
  gen.byNode.set('*', config('outbound|9080||reviews.default.svc.cluster.local', 1000));
  const logs: string[] = [];
  const server = new AdsServer({ generator: gen, debounceMs: 20, log: (l) => logs.push(l) });
  const port = await server.listen('127.0.0.1', 0);
  const clients: AdsClient[] = [];
  const connect = (id: string, onUpdate: (s: XdsSnapshot) => void = () => {}) => {
    const updates: XdsSnapshot[] = [];
    const c = new AdsClient({ address: `127.0.0.1:${port}`, node: node(id), mode, stack, log: () => {}, onUpdate: (s) => (onUpdate(s), updates.push(s), undefined) });
    void c.start();
    clients.push(c);
    return { client: c, updates };
  };
  const status = (id: string) => server.proxies().find((p) => p.id === id);
  const synced = (id: string) => {
    const p = status(id);
    return !!p && p.types.length >= 4 && p.types.every((t) => t.state === 'SYNCED');
  };
  return {
    gen, server, port, logs, connect, status, synced,
    close: async () => {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

for (const stack of CLIENT_STACKS) for (const mode of ['sotw', 'delta'] as const) {
  test(`${stack} client, ${mode}: a proxy gets listeners, routes, clusters and endpoints, ACKs them, and follows a live change`, async () => {
    const t = await setup(mode, stack);
    try {
      const a = t.connect('sidecar~127.0.0.1~reviews-v1-1.default~default.svc.cluster.local');
      await waitFor(() => t.synced(a.client ? 'sidecar~127.0.0.1~reviews-v1-1.default~default.svc.cluster.local' : ''), 'SYNCED');
      const first = a.updates.at(-1)!;
      assert.equal(first.listeners.length, 1);
      assert.equal(first.routes[0]!.name, '9080');
      assert.equal((first.endpoints[0]!.endpoints as Array<{ lbEndpoints: Array<{ endpoint: { address: { socketAddress: { portValue: number } } } }> }>)[0]!.lbEndpoints[0]!.endpoint.address.socketAddress.portValue, 1000);
      const st = t.status('sidecar~127.0.0.1~reviews-v1-1.default~default.svc.cluster.local')!;
      assert.equal(st.identity.namespace, 'default');
      assert.equal(st.identity.podName, 'reviews-v1-1');
      assert.deepEqual(st.identity.labels, { app: 'reviews' });

      // A burst of ten push requests is one push; the new cluster arrives and is ACKed.
      const pushes: number[] = [];
      t.server.on('push', (p) => pushes.push(p.proxies));
      t.gen.byNode.set('*', config('outbound|9080|v2|reviews.default.svc.cluster.local', 2000));
      for (let i = 0; i < 10; i++) t.server.requestPush({ reason: `edit ${i}` });
      await waitFor(() => a.updates.some((u) => u.clusters.some((c) => c.name === 'outbound|9080|v2|reviews.default.svc.cluster.local') && u.endpoints.length === 1 && u.endpoints[0]!.clusterName === 'outbound|9080|v2|reviews.default.svc.cluster.local'), 'the new cluster');
      await waitFor(() => t.synced('sidecar~127.0.0.1~reviews-v1-1.default~default.svc.cluster.local'), 'SYNCED again');
      assert.equal(pushes.length, 1);
      const last = a.updates.at(-1)!;
      assert.deepEqual(last.clusters.map((c) => c.name), ['outbound|9080|v2|reviews.default.svc.cluster.local']);
    } finally {
      await t.close();
    }
  });

  test(`${stack} client, ${mode}: a NACKed config is reported and not resent; a fixed one is`, async () => {
    const t = await setup(mode, stack);
    try {
      const id = 'sidecar~127.0.0.2~ratings-v1-1.default~default.svc.cluster.local';
      let reject = false;
      const a = t.connect(id, () => {
        if (reject) throw new Error('TRL2000 bad cluster');
      });
      await waitFor(() => t.synced(id), 'SYNCED');
      const before = a.updates.length;
      reject = true;
      t.gen.byNode.set('*', config('outbound|9080||broken.default.svc.cluster.local', 3000));
      t.server.requestPush({ reason: 'bad edit' });
      await waitFor(() => t.status(id)!.types.some((x) => x.state === 'NACK'), 'a NACK');
      const nacked = t.status(id)!.types.find((x) => x.state === 'NACK')!;
      assert.match(nacked.nack!.message, /TRL2000 bad cluster/);
      assert.ok(t.logs.some((l) => l.includes('rejected') && l.includes('TRL2000')));
      assert.equal(a.updates.length, before, 'the rejected config was not applied');

      // Pushing the same config again sends nothing new.
      let responses = 0;
      const sent = (p: { sent: number }) => (responses += p.sent);
      t.server.on('push', sent);
      t.server.pushNow({ reason: 'unrelated change' });
      assert.equal(responses, 0);

      reject = false;
      t.gen.byNode.set('*', config('outbound|9080||fixed.default.svc.cluster.local', 4000));
      t.server.pushNow({ reason: 'fix' });
      await waitFor(() => t.synced(id) && a.client.snapshot().clusters[0]?.name === 'outbound|9080||fixed.default.svc.cluster.local', 'the fix applied');
    } finally {
      await t.close();
    }
  });
}

for (const stack of CLIENT_STACKS) {
test(`${stack} client: only proxies whose config changed get a push; a reconnecting proxy gets its full state`, async () => {
  const t = await setup('sotw', stack);
  try {
    const idA = 'sidecar~127.0.0.3~a-1.default~default.svc.cluster.local';
    const idB = 'sidecar~127.0.0.4~b-1.default~default.svc.cluster.local';
    const a = t.connect(idA);
    const b = t.connect(idB);
    await waitFor(() => t.synced(idA) && t.synced(idB), 'both SYNCED');
    const bUpdates = b.updates.length;
    t.gen.byNode.set(idA, config('outbound|9080||only-a.default.svc.cluster.local', 5000));
    let sent = 0;
    t.server.on('push', (p) => (sent += p.sent));
    t.server.pushNow({ reason: 'a only' });
    await waitFor(() => a.client.snapshot().clusters[0]?.name === 'outbound|9080||only-a.default.svc.cluster.local' && t.synced(idA), 'a updated');
    assert.equal(b.updates.length, bUpdates, 'b got nothing');
    assert.equal(sent, 3, 'three responses, all to a: CDS, EDS, RDS (its listener did not change)');

    // A new stream for the same proxy starts from nothing and gets everything.
    a.client.close();
    await waitFor(() => !t.status(idA), 'a gone');
    const again = t.connect(idA);
    await waitFor(() => t.synced(idA) && again.updates.length > 0, 'a back');
    assert.equal(again.updates.at(-1)!.clusters[0]!.name, 'outbound|9080||only-a.default.svc.cluster.local');
    assert.ok(t.server.configFor('a-1.default'), 'configFor finds a proxy by pod.namespace');
  } finally {
    await t.close();
  }
});
}

test('configs are generated during the debounce, once requests pause; the push only sends them; a later request makes them stale', async () => {
  const gen = new TestGenerator();
  gen.byNode.set('*', config('outbound|9080||reviews.default.svc.cluster.local', 1000));
  const server = new AdsServer({ generator: gen, debounceMs: 300, log: () => {} });
  const port = await server.listen('127.0.0.1', 0);
  const id = 'sidecar~127.0.0.7~a-1.default~default.svc.cluster.local';
  const updates: XdsSnapshot[] = [];
  const client = new AdsClient({ address: `127.0.0.1:${port}`, node: node(id), mode: 'delta', log: () => {}, onUpdate: (snap) => void updates.push(snap) });
  try {
    void client.start();
    const synced = () => !!server.proxies().find((p) => p.id === id)?.types.every((t) => t.state === 'SYNCED');
    await waitFor(() => synced() && updates.length > 0, 'first config');
    const pushes: number[] = [];
    server.on('push', (p) => pushes.push(p.sent));
    const changeTo = (cluster: string) => {
      const next = new TestGenerator();
      next.byNode.set('*', config(cluster, 2000));
      server.setGenerator(next);
      server.requestPush({ reason: cluster });
      return next;
    };
    const first = changeTo('outbound|9080||v2.default.svc.cluster.local');
    await waitFor(() => first.calls === 1, 'generated ahead of the push');
    assert.equal(pushes.length, 0, 'the debounce has not ended yet');
    // Not served before the push takes it: the proxy's config is still the one last pushed.
    assert.equal(server.configFor(id)?.resources.get(TypeUrl.Cluster)?.[0]?.name, 'outbound|9080||reviews.default.svc.cluster.local');
    // Another change within the debounce: what was generated ahead is stale, the new generator's config is made.
    const second = changeTo('outbound|9080||v3.default.svc.cluster.local');
    await waitFor(() => pushes.length === 1 && synced(), 'the push');
    assert.equal(first.calls, 1);
    assert.equal(second.calls, 1, 'generated once, ahead of the push, which did not generate again');
    assert.equal(client.snapshot().clusters[0]?.name, 'outbound|9080||v3.default.svc.cluster.local');
  } finally {
    client.close();
    await server.close();
  }
});

test('streams share one encoded response, but a stream never gets the nonce it already holds', async () => {
  const t = await setup('sotw');
  const clients: grpc.Client[] = [];
  try {
    // Raw SotW streams, so the test sees the nonces as sent.
    const open = (id: string) => {
      const client = new grpc.Client(`127.0.0.1:${t.port}`, grpc.credentials.createInsecure());
      clients.push(client);
      const raw = (b: Buffer) => b;
      const call = client.makeBidiStreamRequest('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', raw, raw);
      const nonces: string[] = [];
      call.on('data', (buf: Buffer) => nonces.push((wireTypes().res.decode(buf) as unknown as { nonce: string }).nonce));
      call.on('error', () => {});
      call.write(encodeRequest({ node: { id, cluster: 'test' }, typeUrl: TypeUrl.Cluster, resourceNames: [] }));
      return { call, nonces };
    };
    const a = open('sidecar~127.0.0.5~a-1.default~default.svc.cluster.local');
    const b = open('sidecar~127.0.0.6~b-1.default~default.svc.cluster.local');
    await waitFor(() => a.nonces.length === 1 && b.nonces.length === 1, 'both responses');
    assert.equal(a.nonces[0], b.nonces[0], 'one encoded response for both streams');
    // The same request again on a's stream (no nonce: a new subscription): same content, a nonce of its own.
    a.call.write(encodeRequest({ typeUrl: TypeUrl.Cluster, resourceNames: [] }));
    await waitFor(() => a.nonces.length === 2, 'the second response');
    assert.notEqual(a.nonces[1], a.nonces[0]);
    a.call.cancel();
    b.call.cancel();
  } finally {
    for (const c of clients) c.close();
    await t.close();
  }
});

for (const stack of CLIENT_STACKS) {
test(`${stack} client, delta: a proxy that reconnects offers the versions it holds, so it gets only what changed and loses what went away`, async () => {
  const gen = new TestGenerator();
  const keep = 'outbound|9080||reviews.default.svc.cluster.local';
  const gone = 'outbound|9080||old.default.svc.cluster.local';
  const both = config(keep, 1000);
  both.get(TypeUrl.Cluster)!.push({ typeUrl: TypeUrl.Cluster, name: gone, value: { name: gone, type: 'STATIC', connectTimeout: '1s' } });
  gen.byNode.set('*', both);
  let server = new AdsServer({ generator: gen, debounceMs: 20, log: () => {} });
  const port = await server.listen('127.0.0.1', 0);
  const id = 'sidecar~127.0.0.3~a-1.default~default.svc.cluster.local';
  const client = new AdsClient({ address: `127.0.0.1:${port}`, node: node(id), mode: 'delta', stack, log: () => {}, onUpdate: () => {} });
  const synced = () => {
    const p = server.proxies().find((x) => x.id === id);
    return !!p && p.types.length >= 4 && p.types.every((t) => t.state === 'SYNCED');
  };
  try {
    await client.start();
    await waitFor(() => synced() && client.snapshot().clusters.length === 2, 'first sync');
    // The control plane goes away; while it is gone the old cluster is deleted and the endpoints change.
    await server.close();
    gen.byNode.set('*', config(keep, 2000));
    server = new AdsServer({ generator: gen, debounceMs: 20, log: () => {} });
    const responses: Array<{ typeUrl: string; resources: number; removed: string[] }> = [];
    client.on('response', (r) => responses.push(r));
    await server.listen('127.0.0.1', port);
    await waitFor(() => synced() && client.snapshot().endpoints[0]?.endpoints !== undefined && client.snapshot().clusters.length === 1, 'resync after the reconnect');
    assert.deepEqual(client.snapshot().clusters.map((c) => c.name), [keep], 'the deleted cluster is gone from the proxy');
    const cds = responses.find((r) => r.typeUrl === TypeUrl.Cluster)!;
    assert.equal(cds.resources, 0, 'the unchanged cluster is not sent again');
    assert.deepEqual(cds.removed, [gone]);
    const eds = responses.find((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment)!;
    assert.equal(eds.resources, 1, 'the changed endpoints are sent');
    const lds = responses.find((r) => r.typeUrl === TypeUrl.Listener)!;
    assert.equal(lds.resources, 0, 'the unchanged listener is not');
  } finally {
    client.close();
    await server.close();
  }
});
}

for (const stack of CLIENT_STACKS) {
  test(`${stack} client: reconnects with a doubling back-off (0.25 s to 5 s) while the server is away, from 0.25 s again once it answered`, async () => {
    const port = await freePort(); // nothing listens there yet
    const clock = new ManualClock();
    const id = 'sidecar~127.0.0.7~c-1.default~default.svc.cluster.local';
    const client = new AdsClient({ address: `127.0.0.1:${port}`, node: node(id), mode: 'delta', stack, clock, log: () => {}, onUpdate: () => {} });
    const waits: number[] = [];
    client.on('retry', (ms: number) => waits.push(ms));
    let server: AdsServer | undefined;
    try {
      await client.start();
      for (const [i, wait] of [250, 500, 1000, 2000, 4000, 5000, 5000].entries()) {
        await waitFor(() => waits.length === i + 1, `failed attempt ${i + 1}`);
        assert.equal(waits[i], wait);
        clock.advance(wait - 1);
        assert.equal(client.attempts, i + 1, 'no new attempt before the back-off has passed');
        clock.advance(1);
        assert.equal(client.attempts, i + 2);
      }
      // The server comes up: the attempt under way fails or succeeds; either way the client syncs, and a later
      // disconnect starts the back-off from 0.25 s again.
      const gen = new TestGenerator();
      gen.byNode.set('*', config('outbound|9080||reviews.default.svc.cluster.local', 1000));
      server = new AdsServer({ generator: gen, debounceMs: 20, log: () => {} });
      await server.listen('127.0.0.1', port);
      await waitFor(() => {
        if (waits.length > 7) clock.advance(waits.at(-1)!);
        return client.snapshot().clusters.length === 1;
      }, 'a sync once the server is up');
      const before = waits.length;
      await server.close();
      server = undefined;
      await waitFor(() => waits.length > before, 'the retry after the server went away');
      assert.equal(waits[before], 250);
    } finally {
      client.close();
      await server?.close();
    }
  });
}
