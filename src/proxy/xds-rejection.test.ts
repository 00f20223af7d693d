// A rejected xDS update reaches the control plane with its codes: a real proxy applies what the real AdsClient gets
// from a real control plane's ADS server over gRPC on 127.0.0.1; the NACK's google.rpc.Status carries the issue codes
// (message and ErrorInfo details), and the control plane's /debug/syncz shows them. With both client stacks (node:http2
// with the generated codec, grpc-js with protobufjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ControlPlane } from '../controlplane/control-plane.js';
import { DebugServer } from '../controlplane/debug/debug-server.js';
import { MemoryStore } from '../controlplane/store/memory-store.js';
import { AdsClient } from '../xds/ads-client.js';
import { CLIENT_STACKS } from '../xds/client/grpc-channel.js';
import type { TypeStatus } from '../xds/ads-server.js';
import type { ProxyResources } from '../xds/generator.js';
import { TypeUrl, type XdsResource } from '../xds/resource.js';
import type { EnvoySnapshot } from '../xds/envoy/index.js';
import { ConfigCode } from './errors.js';
import { TrellisProxy } from './proxy.js';
import { cla, edsCluster, httpListener, routeConfig, routeTo, vhost, waitFor } from './testing.js';

const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';
const ID = 'sidecar~127.0.0.1~productpage-v1-1.default~default.svc.cluster.local';

/** A sidecar-shaped config (listener on port 0) whose cluster has the given outlier detection interval. */
function config(interval: string): ProxyResources {
  const r = (typeUrl: string, name: string, value: object): XdsResource => ({ typeUrl, name, value: value as Record<string, unknown> });
  return new Map([
    [TypeUrl.Listener, [r(TypeUrl.Listener, '0.0.0.0_9080', httpListener('0.0.0.0_9080', '9080'))]],
    [TypeUrl.RouteConfiguration, [r(TypeUrl.RouteConfiguration, '9080', routeConfig('9080', [vhost('all', ['*'], [routeTo(CLUSTER)])]))]],
    [TypeUrl.Cluster, [r(TypeUrl.Cluster, CLUSTER, edsCluster(CLUSTER, { outlierDetection: { interval, consecutive5xx: 5 } } as object))]],
    [TypeUrl.ClusterLoadAssignment, [r(TypeUrl.ClusterLoadAssignment, CLUSTER, cla(CLUSTER, [{ port: 9 }]))]],
  ]);
}

function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

for (const stack of CLIENT_STACKS) for (const mode of ['sotw', 'delta'] as const) {
  test(`${stack} client, ${mode}: a cluster the proxy rejects is NACKed with INVALID_ARGUMENT and TRL2001, and /debug/syncz shows the code`, async () => {
    let interval = '10s';
    const logs: string[] = [];
    const cp = new ControlPlane({ store: new MemoryStore(), debounceMs: 5, log: (l) => logs.push(l) });
    // The control plane's own translation never produces a config the proxy rejects; this generator does, on demand.
    cp.ads.setGenerator({ generate: () => config(interval) });
    const xdsPort = await cp.listen('127.0.0.1', 0);
    const debug = new DebugServer(cp);
    const debugPort = await debug.listen('127.0.0.1', 0);
    const proxy = new TrellisProxy({ nodeId: ID });
    const rejected: string[] = [];
    const client = new AdsClient({
      address: `127.0.0.1:${xdsPort}`,
      node: { id: ID, cluster: 'productpage', metadata: { NAMESPACE: 'default', LABELS: { app: 'productpage' } } },
      mode,
      stack,
      log: () => {},
      onUpdate: async (s) => void (await proxy.apply(s as EnvoySnapshot)),
    });
    client.on('rejected', (m: string) => rejected.push(m));
    const syncz = async () => ((await getJson(debugPort, '/debug/syncz')) as Array<{ id: string; types: TypeStatus[] }>).find((p) => p.id === ID);
    const cds = async () => (await syncz())?.types.find((t) => t.typeUrl === TypeUrl.Cluster);
    const synced = async () => {
      const p = await syncz();
      return !!p && p.types.length >= 4 && p.types.every((t) => t.state === 'SYNCED');
    };
    try {
      await client.start();
      await waitFor(synced, 5000, 'SYNCED');
      const good = proxy.version;

      interval = '0s'; // Envoy requires outlier_detection.interval > 0
      cp.ads.pushNow({ reason: 'bad cluster' });
      await waitFor(async () => (await cds())?.state === 'NACK', 5000, 'the CDS NACK in /debug/syncz');
      const nack = (await cds())!.nack!;
      const item = { code: ConfigCode.InvalidField, resource: `Cluster/${CLUSTER}`, field: '/outlierDetection/interval', message: 'must be greater than 0s' };
      assert.equal(item.code, 'TRL2001');
      assert.equal(nack.status, 3, 'google.rpc.Code INVALID_ARGUMENT');
      assert.equal(nack.message, `TRL2001 Cluster/${CLUSTER}/outlierDetection/interval: must be greater than 0s`);
      assert.deepEqual(nack.rejected, [item], 'the coded item travelled as a google.rpc.ErrorInfo');
      assert.deepEqual(rejected, [nack.message]);
      assert.ok(logs.some((l) => l.includes('rejected CDS') && l.includes('TRL2001')), 'the control plane logs the code');
      assert.equal(proxy.version, good, 'the proxy keeps its last good config');

      interval = '5s';
      cp.ads.pushNow({ reason: 'fixed cluster' });
      await waitFor(synced, 5000, 'SYNCED after the fix');
      assert.equal((await cds())!.nack, undefined);
      assert.equal(proxy.version, good + 1);
    } finally {
      client.close();
      await proxy.close();
      await debug.close();
      await cp.close();
    }
  });
}
