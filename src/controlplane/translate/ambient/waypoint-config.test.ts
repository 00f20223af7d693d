// A waypoint's config as the generator builds it and the proxy compiles it: HBONE terminated on 15008 into
// main_internal, one chain per VIP and port of the services that use the waypoint (the mesh's routes, the policies
// attached to the waypoint or the service), and the endpoints of ambient workloads reached through connect_originate.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../../../config/loader.js';
import { compileSnapshot } from '../../../proxy/config/snapshot.js';
import type { Cluster, ClusterLoadAssignment, HttpConnectionManager, Listener, RouteConfiguration } from '../../../xds/envoy/index.js';
import { TypeUrl } from '../../../xds/resource.js';
import { ServiceRegistry } from '../../registry/service-registry.js';
import { MeshConfigGenerator } from '../generator.js';
import { pushContextOf } from '../testing.js';
import { AMBIENT_SERVICES_YAML } from './testing.js';

const CONFIG = `${AMBIENT_SERVICES_YAML}---
apiVersion: v1
kind: Service
metadata: {name: legacy}
spec: {selector: {app: legacy}, ports: [{name: http, port: 9080}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  action: DENY
  rules: [{to: [{operation: {paths: [/admin]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-get-only}
spec:
  targetRefs: [{kind: Service, group: '', name: reviews}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
`;

function generate(node = { id: 'waypoint~10.200.15.200~waypoint-waypoint.default~default.svc.cluster.local', cluster: 'waypoint', metadata: { LABELS: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, SERVICE_ACCOUNT: 'waypoint' } as Record<string, unknown> }) {
  const { resources, errors } = loadText(CONFIG, 'ambient.yaml');
  assert.deepEqual(errors, []);
  const registry = new ServiceRegistry();
  registry.setClusterIpAllocator((_ns, name) => [{ reviews: '10.200.16.1', ratings: '10.200.16.2', legacy: '10.200.16.3' }[name] ?? '10.200.16.9']);
  registry.setResources(resources);
  const w = (name: string, app: string, address: string, extra: object) => registry.upsertWorkload({ name, namespace: 'default', labels: { app }, serviceAccount: app, address, ports: { 'http-port': 9081 }, healthy: true, meshed: false, ...extra });
  w('reviews-v1-abc12-x1y2z', 'reviews', '10.200.0.4', { ambient: true });
  w('ratings-v1-abc12-x1y2z', 'ratings', '10.200.0.3', { ambient: true });
  w('legacy-v1-abc12-x1y2z', 'legacy', '10.200.0.5', { meshed: true, hbone: true });
  registry.upsertWorkload({ name: 'waypoint-waypoint', namespace: 'default', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, serviceAccount: 'waypoint', address: '10.200.15.200', ports: {}, healthy: true, meshed: false, hbone: true });
  const out = new MeshConfigGenerator(pushContextOf(resources, registry)).generate(node);
  const values = <T>(t: string) => (out.get(t) ?? []).map((r) => r.value as T);
  return { listeners: values<Listener>(TypeUrl.Listener), clusters: values<Cluster>(TypeUrl.Cluster), endpoints: values<ClusterLoadAssignment>(TypeUrl.ClusterLoadAssignment), routes: values<RouteConfiguration>(TypeUrl.RouteConfiguration) };
}

test('a waypoint terminates HBONE, serves the VIPs of the services that use it, and tunnels on to ambient endpoints', () => {
  const snapshot = generate();
  assert.deepEqual(snapshot.listeners.map((l) => l.name), ['connect_terminate', 'main_internal', 'connect_originate']);
  const terminate = snapshot.listeners[0]!;
  assert.equal(terminate.address?.socketAddress?.portValue, 15008);
  assert.ok(terminate.filterChains![0]!.transportSocket, 'mutual TLS on 15008');
  const main = snapshot.listeners[1]!;
  assert.ok(main.internalListener);
  // reviews and legacy use the waypoint (the namespace label); ratings opts out.
  assert.deepEqual(main.filterChains!.map((c) => c.name), ['10.200.16.1_9080', '10.200.16.3_9080']);
  const filters = (name: string) => ((main.filterChains!.find((c) => c.name === name)!.filters![0]!.typedConfig as unknown as HttpConnectionManager).httpFilters ?? []).map((f) => f.name);
  assert.deepEqual(filters('10.200.16.1_9080').filter((f) => f === 'envoy.filters.http.rbac').length, 2, 'the waypoint\'s DENY and the service\'s ALLOW');
  assert.deepEqual(filters('10.200.16.3_9080').filter((f) => f === 'envoy.filters.http.rbac').length, 1, 'only the waypoint\'s policy');
  const lb = (cluster: string) => snapshot.endpoints.find((e) => e.clusterName === cluster)!.endpoints![0]!.lbEndpoints![0]!;
  const reviews = lb('outbound|9080||reviews.default.svc.cluster.local');
  assert.deepEqual(reviews.endpoint?.address, { envoyInternalAddress: { serverListenerName: 'connect_originate', endpointId: '10.200.0.4:9081' } }, 'an ambient endpoint: through HBONE');
  assert.equal(lb('outbound|9080||legacy.default.svc.cluster.local').endpoint?.address?.envoyInternalAddress?.endpointId, '10.200.0.5:9080', 'a sidecar that takes HBONE: through HBONE too');
  assert.ok(snapshot.clusters.some((c) => c.name === 'connect_originate' && c.type === 'ORIGINAL_DST' && c.originalDstLbConfig?.upstreamPortOverride === 15008));
  // The proxy takes the whole of it.
  const compiled = compileSnapshot(snapshot);
  assert.deepEqual(compiled.issues.filter((i) => i.level === 'error'), []);
});

test('a sidecar beside ambient pods: HBONE in on 15008 (its inbound chains without TLS), HBONE out to ambient pods only', () => {
  const snapshot = generate({ id: 'sidecar~10.200.0.5~legacy-v1-abc12-x1y2z.default~default.svc.cluster.local', cluster: 'legacy', metadata: { LABELS: { app: 'legacy' }, INTERCEPTION_MODE: 'REDIRECT', SERVICE_ACCOUNT: 'legacy' } });
  const names = snapshot.listeners.map((l) => l.name);
  for (const n of ['virtualInbound', 'connect_originate', 'connect_terminate', 'main_internal']) assert.ok(names.includes(n), n);
  const main = snapshot.listeners.find((l) => l.name === 'main_internal')!;
  assert.ok(main.filterChains!.length > 0 && main.filterChains!.every((c) => !c.transportSocket && c.filterChainMatch?.transportProtocol !== 'tls'), 'plaintext chains: the tunnel was the TLS');
  const lb = (cluster: string) => snapshot.endpoints.find((e) => e.clusterName === cluster)!.endpoints![0]!.lbEndpoints![0]!;
  assert.equal(lb('outbound|9080||reviews.default.svc.cluster.local').endpoint?.address?.envoyInternalAddress?.serverListenerName, 'connect_originate', 'ambient: HBONE');
  assert.equal(lb('outbound|9080||legacy.default.svc.cluster.local').endpoint?.address?.socketAddress?.address, '10.200.0.5', 'another sidecar: Istio mTLS as before');
  assert.deepEqual(compileSnapshot(snapshot).issues.filter((i) => i.level === 'error'), []);
});
