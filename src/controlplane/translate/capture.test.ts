// Translation for captured sidecars (Istio's INTERCEPTION_MODE REDIRECT) and for L4 services: virtualOutbound on every
// address, virtualInbound on 15006 with chains by destination port and a passthrough per family, ClusterIPs on TCP
// listeners, VirtualService tcp and tls routes; and that Trellis's proxy accepts all of it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../../config/loader.js';
import { TrellisProxy } from '../../proxy/proxy.js';
import { TypeUrl, type ProxyNode } from '../../xds/resource.js';
import { ServiceRegistry } from '../registry/service-registry.js';
import { MeshConfigGenerator } from './generator.js';
import { pushContextOf } from './testing.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {selector: {app: db}, ports: [{name: tcp, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: secure}
spec: {selector: {app: secure}, ports: [{name: tls, port: 8443}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db}
spec: {host: db, subsets: [{name: v2, labels: {version: v2}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432, sourceLabels: {app: other}}]
    route: [{destination: {host: web, port: {number: 9080}}}]
  - route: [{destination: {host: db, subset: v2}, weight: 70}, {destination: {host: db}, weight: 30}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure}
spec:
  hosts: [secure.default.svc.cluster.local, alt.example.com]
  tls:
  - match: [{port: 8443, sniHosts: [alt.example.com]}]
    route: [{destination: {host: db, port: {number: 5432}}}]
`;

function generate(metadata: Record<string, unknown>, ip = '10.200.0.2') {
  const { resources, errors } = loadText(CONFIG, 'capture.yaml');
  assert.deepEqual(errors, []);
  const registry = new ServiceRegistry();
  registry.setClusterIpAllocator((ns, name) => [{ web: '10.200.16.1', db: '10.200.16.2', secure: '10.200.16.3' }[name] ?? '10.200.16.9', `fd00:1::${name.length}`]);
  registry.setResources(resources);
  registry.upsertWorkload({ name: 'web-1', namespace: 'default', labels: { app: 'web' }, serviceAccount: 'web', address: ip, ports: {}, appAddress: '127.0.0.1', healthy: true, meshed: true });
  registry.upsertWorkload({ name: 'db-1', namespace: 'default', labels: { app: 'db', version: 'v2' }, serviceAccount: 'db', address: '10.200.0.3', ports: {}, appAddress: '127.0.0.1', healthy: true, meshed: true });
  const node: ProxyNode = { id: `sidecar~${ip}~web-1.default~default.svc.cluster.local`, cluster: 'x', metadata: { NAMESPACE: 'default', LABELS: { app: 'web' }, ...metadata } };
  const r = new MeshConfigGenerator(pushContextOf(resources, registry)).generate(node);
  const list = (t: string) => (r.get(t) ?? []).map((x) => x.value as Json);
  return { listeners: list(TypeUrl.Listener), clusters: list(TypeUrl.Cluster), routes: list(TypeUrl.RouteConfiguration), endpoints: list(TypeUrl.ClusterLoadAssignment) };
}

const tcpOf = (chain: Json) => chain.filters.find((f: Json) => f.name === 'envoy.filters.network.tcp_proxy').typedConfig;

test('REDIRECT: virtualOutbound on 0.0.0.0:15001, virtualInbound on 15006 with chains by destination port, inbound passthrough from 127.0.0.6', () => {
  const o = generate({ INTERCEPTION_MODE: 'REDIRECT', INSTANCE_IPS: '10.200.0.2' });
  const vo = o.listeners.find((l) => l.name === 'virtualOutbound')!;
  assert.deepEqual(vo.address.socketAddress, { address: '0.0.0.0', portValue: 15001 });
  assert.equal(vo.useOriginalDst, true);
  const vi = o.listeners.find((l) => l.name === 'virtualInbound')!;
  assert.deepEqual(vi.address.socketAddress, { address: '0.0.0.0', portValue: 15006 });
  assert.equal(vi.useOriginalDst, undefined, 'virtualInbound restores the destination but hands nothing off');
  assert.ok(vi.listenerFilters.some((f: Json) => f.name === 'envoy.filters.listener.original_dst'));
  const web = vi.filterChains.filter((c: Json) => c.filterChainMatch?.destinationPort === 9080);
  assert.deepEqual(web.map((c: Json) => c.filterChainMatch.transportProtocol).sort(), ['raw_buffer', 'tls'], 'PERMISSIVE: mutual TLS and plaintext on the service port');
  const catchall = vi.filterChains.filter((c: Json) => c.filterChainMatch?.destinationPort === undefined);
  assert.deepEqual(catchall.map((c: Json) => tcpOf(c).cluster), ['InboundPassthroughClusterIpv4']);
  assert.ok(!o.listeners.some((l) => l.name === '10.200.0.2_9080'), 'no per-port inbound listener: the app owns 9080');
  const pass = o.clusters.find((c) => c.name === 'InboundPassthroughClusterIpv4')!;
  assert.equal(pass.type, 'ORIGINAL_DST');
  assert.equal(pass.upstreamBindConfig.sourceAddress.address, '127.0.0.6');
  assert.deepEqual(o.clusters.find((c) => c.name === 'inbound|9080||')!.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: '127.0.0.1', portValue: 9080 });
});

test('REDIRECT in IPv6 or dual stack: the capture listeners bind :: and pass through per family', () => {
  const o = generate({ INTERCEPTION_MODE: 'REDIRECT', INSTANCE_IPS: '10.200.0.2,fd00::2' });
  assert.equal(o.listeners.find((l) => l.name === 'virtualOutbound')!.address.socketAddress.address, '::');
  const vi = o.listeners.find((l) => l.name === 'virtualInbound')!;
  assert.equal(vi.address.socketAddress.address, '::');
  assert.deepEqual(vi.filterChains.filter((c: Json) => c.filterChainMatch?.prefixRanges).map((c: Json) => [c.filterChainMatch.prefixRanges[0].addressPrefix, tcpOf(c).cluster]), [['0.0.0.0', 'InboundPassthroughClusterIpv4'], ['::', 'InboundPassthroughClusterIpv6']]);
  assert.equal(o.clusters.find((c) => c.name === 'InboundPassthroughClusterIpv6')!.upstreamBindConfig.sourceAddress.address, '::6');
});

test('without capture (NONE) the sidecar keeps per-port inbound listeners on its address', () => {
  const o = generate({}, '127.10.0.2');
  assert.ok(o.listeners.some((l) => l.name === '127.10.0.2_9080'));
  assert.ok(!o.listeners.some((l) => l.name === 'virtualInbound'));
  assert.equal(o.listeners.find((l) => l.name === 'virtualOutbound')!.address.socketAddress.address, '127.10.0.2');
});

test('TCP services: a listener on each ClusterIP; VirtualService tcp routes pick weighted subsets and honour sourceLabels', () => {
  const o = generate({ INTERCEPTION_MODE: 'REDIRECT' });
  const names = o.listeners.map((l) => l.name);
  assert.ok(names.includes('10.200.16.2_5432') && names.includes('fd00:1::2_5432'), names.join(' '));
  const tcp = tcpOf(o.listeners.find((l) => l.name === '10.200.16.2_5432')!.filterChains[0]);
  // The first rule's sourceLabels (app: other) do not match web: the second, weighted rule applies.
  assert.deepEqual(tcp.weightedClusters.clusters, [{ name: 'outbound|5432|v2|db.default.svc.cluster.local', weight: 70 }, { name: 'outbound|5432||db.default.svc.cluster.local', weight: 30 }]);
});

test('TLS services: one 0.0.0.0_<port> listener, chains by SNI: tls routes by sniHosts first, then the service itself', () => {
  const o = generate({ INTERCEPTION_MODE: 'REDIRECT' });
  const l = o.listeners.find((x) => x.name === '0.0.0.0_8443')!;
  assert.ok(l.listenerFilters.some((f: Json) => f.name === 'envoy.filters.listener.tls_inspector'));
  assert.deepEqual(l.filterChains.map((c: Json) => [c.filterChainMatch.serverNames, tcpOf(c).cluster]), [
    [['alt.example.com'], 'outbound|5432||db.default.svc.cluster.local'],
    [['secure.default.svc.cluster.local'], 'outbound|8443||secure.default.svc.cluster.local'],
  ]);
});

test("Trellis's proxy accepts a captured sidecar's whole config", async () => {
  const o = generate({ INTERCEPTION_MODE: 'REDIRECT', INSTANCE_IPS: '10.200.0.2,fd00::2' });
  // Bound listeners get port 0 so the test binds nothing fixed; the rest is as generated.
  const listeners = o.listeners.map((l) => (l.bindToPort === false ? l : { ...l, address: { socketAddress: { ...l.address.socketAddress, address: '127.0.0.1', portValue: 0 } } }));
  const proxy = new TrellisProxy({ nodeId: 'sidecar~10.200.0.2~web-1.default~default.svc.cluster.local' });
  try {
    await proxy.apply({ listeners, routes: o.routes, clusters: o.clusters, endpoints: o.endpoints });
  } finally {
    await proxy.close();
  }
});
