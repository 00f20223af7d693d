// Istio's workload discovery as the control plane builds it and the node proxy reads it: Address resources through the
// real protobuf encoding, into the node proxy's WorkloadState, and the lookups a connection makes there (a VIP's
// endpoints and target ports, HBONE or not, identities, the policies a workload names, waypoints).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../../../config/loader.js';
import { WorkloadState } from '../../../proxy/ztunnel/workload-state.js';
import { decodeToJson, encodeJson } from '../../../xds/codec.js';
import type { Address } from '../../../xds/istio/workload.js';
import { TypeUrl } from '../../../xds/resource.js';
import { ServiceRegistry } from '../../registry/service-registry.js';
import { MeshConfigGenerator } from '../generator.js';
import { pushContextOf } from '../testing.js';
import { AMBIENT_SERVICES_YAML } from './testing.js';
import { wdsAddresses } from './workload-api.js';

const CONFIG = `${AMBIENT_SERVICES_YAML}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-only}
spec: {selector: {matchLabels: {app: reviews}}, action: ALLOW, rules: [{}]}
`;

function setup() {
  const { resources, errors } = loadText(CONFIG, 'ambient.yaml');
  assert.deepEqual(errors, []);
  const registry = new ServiceRegistry();
  registry.setClusterIpAllocator((_ns, name) => [{ reviews: '10.200.16.1', ratings: '10.200.16.2' }[name] ?? '10.200.16.9']);
  registry.setResources(resources);
  const w = (name: string, app: string, address: string, extra: object) => registry.upsertWorkload({ name, namespace: 'default', labels: { app, version: 'v1' }, serviceAccount: `bookinfo-${app}`, address, ports: { 'http-port': 9081 }, healthy: true, meshed: false, ...extra });
  w('reviews-v1-abc12-x1y2z', 'reviews', '10.200.0.4', { ambient: true, node: 'vm', workloadName: 'reviews-v1' });
  w('ratings-v1-abc12-x1y2z', 'ratings', '10.200.0.3', {});
  registry.upsertWorkload({ name: 'waypoint-istio-waypoint-1', namespace: 'default', labels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, serviceAccount: 'waypoint', address: '10.200.15.200', ports: {}, healthy: true, meshed: false, hbone: true });
  return pushContextOf(resources, registry);
}

/** The Address resources as a node proxy decodes them. */
const overTheWire = (list: Address[]) => list.map((a) => decodeToJson(TypeUrl.Address, encodeJson(TypeUrl.Address, a as Record<string, unknown>)) as Address);

test('workloads: uid, addresses, HBONE for ambient pods and waypoints only, identity, services with resolved target ports, selector policies', () => {
  const push = setup();
  const addresses = wdsAddresses(push);
  const reviews = addresses.find((a) => a.workload?.name?.startsWith('reviews'))!.workload!;
  assert.equal(reviews.uid, 'Kubernetes//Pod/default/reviews-v1-abc12-x1y2z');
  assert.equal(reviews.tunnelProtocol, 'HBONE');
  assert.equal(reviews.workloadName, 'reviews-v1');
  assert.equal(reviews.node, 'vm');
  assert.deepEqual(reviews.services, { 'default/reviews.default.svc.cluster.local': { ports: [{ servicePort: 9080, targetPort: 9081 }] } });
  assert.deepEqual(reviews.authorizationPolicies, ['default/reviews-only']);
  assert.equal(addresses.find((a) => a.workload?.name?.startsWith('ratings'))!.workload!.tunnelProtocol, 'NONE', 'not enrolled: plaintext');
  assert.equal(addresses.find((a) => a.workload?.name?.startsWith('waypoint'))!.workload!.tunnelProtocol, 'HBONE');
});

test('the node proxy\'s view: VIP → endpoint and port, waypoints by namespace label (a service\'s `none` opts out), policies by name', () => {
  const state = new WorkloadState();
  const push = setup();
  state.setAddresses(overTheWire(wdsAddresses(push)));
  const reviewsSvc = state.serviceByVip('10.200.16.1')!;
  assert.equal(reviewsSvc.hostname, 'reviews.default.svc.cluster.local');
  assert.deepEqual(reviewsSvc.waypoint, { address: '10.200.15.200', port: 15008 }, 'the namespace names the waypoint');
  assert.equal(state.serviceByVip('10.200.16.2')!.waypoint, undefined, 'use-waypoint: none on the service');
  const ep = state.pickEndpoint(reviewsSvc, 9080)!;
  assert.equal(ep.workload.ips[0], '10.200.0.4');
  assert.equal(ep.port, 9081, 'the named target port, resolved per workload');
  assert.equal(state.pickEndpoint(reviewsSvc, 9999), undefined);
  assert.equal(state.workloadByIp('10.200.0.4')!.hbone, true);
  state.setAuthorizations(new MeshConfigGenerator(push).generate({ id: 'ztunnel~10.200.15.231~ztunnel-vm.istio-system~istio-system.svc.cluster.local', cluster: 'ztunnel', metadata: {} }).get(TypeUrl.Authorization)!.map((r) => r.value));
  assert.deepEqual(state.policiesFor(ep.workload).map((p) => p.name), ['reviews-only']);
  assert.deepEqual(state.policiesFor(state.workloadByIp('10.200.0.3')!), []);
});

test('the ztunnel role gets exactly the two workload types, shared by every node proxy of a push', () => {
  const gen = new MeshConfigGenerator(setup());
  const a = gen.generate({ id: 'ztunnel~10.0.0.1~ztunnel-a.istio-system~istio-system.svc.cluster.local', cluster: 'ztunnel', metadata: {} });
  const b = gen.generate({ id: 'ztunnel~10.0.0.2~ztunnel-b.istio-system~istio-system.svc.cluster.local', cluster: 'ztunnel', metadata: {} });
  assert.deepEqual([...a.keys()], [TypeUrl.Authorization, TypeUrl.Address]);
  assert.equal(a.get(TypeUrl.Address), b.get(TypeUrl.Address), 'one list object: encoded once');
  assert.ok(a.get(TypeUrl.Address)!.some((r) => r.name === 'default/reviews.default.svc.cluster.local'));
});
