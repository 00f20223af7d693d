// Gateway API status from a push context: the conditions and reasons the specification (and its conformance tests)
// expect on GatewayClasses, Gateways, listeners and route parents, including invalid references.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayApiStatus, stampTransitions, type GatewayStatus, type ObjectStatus, type RouteStatus } from './status.js';
import { buildGatewayApi } from './testing.js';

const GW = 'gateway.networking.k8s.io';

const base = `apiVersion: v1
kind: Namespace
metadata: {name: infra, labels: {team: infra}}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: apps}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec: {selector: {app: web}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: apps}
spec: {selector: {app: app}, ports: [{name: http, port: 8080}]}
---
`;

function find<T extends ObjectStatus['status']>(all: ObjectStatus[], kind: string, ns: string, name: string): T {
  const o = all.find((x) => x.kind === kind && x.namespace === ns && x.name === name);
  assert.ok(o, `${kind} ${ns}/${name} has status`);
  return o.status as T;
}

/** `type=status/reason` of each condition, for compact assertions. */
const conds = (c: Array<{ type: string; status: string; reason: string }>) => c.map((x) => `${x.type}=${x.status}/${x.reason}`);

test('GatewayClass: the built-in istio class is Accepted without an object; a declared class of another controller gets no status', () => {
  const all = gatewayApiStatus(buildGatewayApi(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: custom}
spec: {controllerName: istio.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}
`).push);
  const classes = all.filter((o) => o.kind === 'GatewayClass');
  assert.deepEqual(classes.map((c) => [c.name, !!c.builtIn]), [['custom', false], ['istio', true], ['istio-remote', true], ['istio-waypoint', true]]);
  assert.deepEqual(conds((classes[0]!.status as { conditions: [] }).conditions), ['Accepted=True/Accepted']);
});

test('Gateway: Accepted and Programmed with the deployed address; listeners with attachedRoutes and supportedKinds; not Programmed until deployed', () => {
  const yaml = `${base}apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra, generation: 3}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: only-http, port: 8080, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}, {kind: FooRoute}]}}
  - {name: bad-kinds, port: 8081, protocol: HTTP, allowedRoutes: {kinds: [{kind: FooRoute}]}}
  - {name: udp, port: 53, protocol: UDP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: one, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: two, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
`;
  const gw = find<GatewayStatus>(gatewayApiStatus(buildGatewayApi(yaml, ['infra/gw']).push), 'Gateway', 'infra', 'gw');
  assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '127.10.255.2' }]);
  assert.deepEqual(conds(gw.conditions), ['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed']);
  assert.ok(gw.conditions.every((c) => c.observedGeneration === 3));
  const l = Object.fromEntries(gw.listeners.map((x) => [x.name, x]));
  assert.equal(l.http!.attachedRoutes, 2, 'from: All admits both namespaces');
  assert.deepEqual(l.http!.supportedKinds, [{ group: GW, kind: 'HTTPRoute' }, { group: GW, kind: 'GRPCRoute' }]);
  assert.deepEqual(conds(l.http!.conditions), ['Accepted=True/Accepted', 'Programmed=True/Programmed', 'ResolvedRefs=True/ResolvedRefs', 'Conflicted=False/NoConflicts']);
  assert.equal(l['only-http']!.attachedRoutes, 1, 'Same (the default) admits only the Gateway\'s namespace');
  assert.deepEqual(l['only-http']!.supportedKinds, [{ group: GW, kind: 'HTTPRoute' }]);
  assert.deepEqual(conds(l['only-http']!.conditions).slice(1, 3), ['Programmed=False/Invalid', 'ResolvedRefs=False/InvalidRouteKinds']);
  assert.deepEqual(l['bad-kinds']!.supportedKinds, []);
  assert.deepEqual(conds(l.udp!.conditions).slice(0, 2), ['Accepted=False/UnsupportedProtocol', 'Programmed=False/Invalid']);

  const undeployed = find<GatewayStatus>(gatewayApiStatus(buildGatewayApi(yaml).push), 'Gateway', 'infra', 'gw');
  assert.deepEqual(undeployed.addresses, []);
  assert.deepEqual(conds(undeployed.conditions)[1], 'Programmed=False/AddressNotAssigned');
  assert.deepEqual(conds(undeployed.listeners[0]!.conditions)[1], 'Programmed=False/Pending');
});

test('listener certificates: missing, malformed, wrong kind or group → InvalidCertificateRef; another namespace without a ReferenceGrant → RefNotPermitted (even when missing)', () => {
  const listener = (name: string, ref: string) => `  - name: ${name}\n    port: 443\n    protocol: HTTPS\n    hostname: ${name}.example.com\n    tls: {certificateRefs: [${ref}]}\n`;
  const yaml = `${base}apiVersion: v1
kind: Secret
metadata: {name: malformed, namespace: infra}
type: kubernetes.io/tls
data: {tls.crt: SGVsbG8gd29ybGQK, tls.key: SGVsbG8gd29ybGQK}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
${listener('missing', '{name: nope}')}${listener('malformed', '{name: malformed}')}${listener('kind', '{kind: ConfigMap, name: malformed}')}${listener('group', '{group: example.com, kind: Secret, name: malformed}')}${listener('elsewhere', '{name: malformed, namespace: apps}')}`;
  const gw = find<GatewayStatus>(gatewayApiStatus(buildGatewayApi(yaml, ['infra/gw']).push), 'Gateway', 'infra', 'gw');
  const resolved = Object.fromEntries(gw.listeners.map((l) => [l.name, conds(l.conditions)[2]]));
  assert.deepEqual(resolved, {
    missing: 'ResolvedRefs=False/InvalidCertificateRef',
    malformed: 'ResolvedRefs=False/InvalidCertificateRef',
    kind: 'ResolvedRefs=False/InvalidCertificateRef',
    group: 'ResolvedRefs=False/InvalidCertificateRef',
    elsewhere: 'ResolvedRefs=False/RefNotPermitted',
  });
  assert.deepEqual(conds(gw.conditions), ['Accepted=False/ListenersNotValid', 'Programmed=False/Invalid']);
});

test('route parents: Accepted with NotAllowedByListeners, NoMatchingParent, NoMatchingListenerHostname; ResolvedRefs with BackendNotFound, RefNotPermitted, InvalidKind', () => {
  const route = (name: string, ns: string, parent: string, backend: string, extra = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: ${ns}}
spec:
  parentRefs: [${parent}]
${extra}  rules: [{backendRefs: [${backend}]}]
---
`;
  const yaml = `${base}apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: theirs, namespace: infra}
spec: {gatewayClassName: other, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
${route('ok', 'infra', '{name: same}', '{name: web, port: 8080}')}${route('cross-ns', 'apps', '{name: same, namespace: infra}', '{name: app, port: 8080}')}${route('bad-section', 'infra', '{name: same, sectionName: nope}', '{name: web, port: 8080}')}${route('no-gateway', 'infra', '{name: missing}', '{name: web, port: 8080}')}${route('other-class', 'infra', '{name: theirs}', '{name: web, port: 8080}')}${route('hostname', 'infra', '{name: same}', '{name: web, port: 8080}', '  hostnames: [foo.other.org]\n')}${route('missing-backend', 'infra', '{name: same}', '{name: nope, port: 8080}')}${route('forbidden-backend', 'infra', '{name: same}', '{name: app, namespace: apps, port: 8080}')}${route('kind-backend', 'infra', '{name: same}', '{group: example.com, kind: Thing, name: x}')}${route('bad-port', 'infra', '{name: same}', '{name: web, port: 9999}')}`;
  const all = gatewayApiStatus(buildGatewayApi(yaml, ['infra/same']).push);
  const parent = (ns: string, name: string) => {
    const parents = find<RouteStatus>(all, 'HTTPRoute', ns, name).parents;
    return parents.map((p) => conds(p.conditions).join(' '));
  };
  assert.deepEqual(parent('infra', 'ok'), ['Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(parent('apps', 'cross-ns'), ['Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(parent('infra', 'bad-section'), ['Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(parent('infra', 'no-gateway'), ['Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(parent('infra', 'other-class'), [], "another controller's Gateway is not Trellis's to report on");
  assert.deepEqual(parent('infra', 'hostname'), ['Accepted=False/NoMatchingListenerHostname ResolvedRefs=True/ResolvedRefs']);
  assert.deepEqual(parent('infra', 'missing-backend'), ['Accepted=True/Accepted ResolvedRefs=False/BackendNotFound']);
  assert.deepEqual(parent('infra', 'forbidden-backend'), ['Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted']);
  assert.deepEqual(parent('infra', 'kind-backend'), ['Accepted=True/Accepted ResolvedRefs=False/InvalidKind']);
  assert.deepEqual(parent('infra', 'bad-port'), ['Accepted=True/Accepted ResolvedRefs=False/BackendNotFound']);
  const ok = find<RouteStatus>(all, 'HTTPRoute', 'infra', 'ok').parents[0]!;
  assert.deepEqual(ok.parentRef, { group: GW, kind: 'Gateway', name: 'same' });
  assert.equal(ok.controllerName, 'istio.io/gateway-controller');
  const gw = find<GatewayStatus>(all, 'Gateway', 'infra', 'same');
  assert.equal(gw.listeners[0]!.attachedRoutes, 5, 'routes Accepted there count, whatever their backends; one without a shared hostname does not');
});

test('a mesh route is Accepted on its Service parent (NoMatchingParent when the Service or port does not exist)', () => {
  const yaml = `${base}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mesh, namespace: infra}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 8080}, {group: "", kind: Service, name: web, port: 1}, {group: "", kind: Service, name: ghost}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`;
  const parents = find<RouteStatus>(gatewayApiStatus(buildGatewayApi(yaml).push), 'HTTPRoute', 'infra', 'mesh').parents;
  assert.deepEqual(parents.map((p) => conds(p.conditions)[0]), ['Accepted=True/Accepted', 'Accepted=False/NoMatchingParent', 'Accepted=False/NoMatchingParent']);
  assert.deepEqual(parents[0]!.parentRef, { group: '', kind: 'Service', name: 'web', port: 8080 });
});

test('listeners on one port with protocols that cannot share it: the later one is Conflicted (ProtocolConflict) and not Accepted', () => {
  const yaml = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: tcp, port: 80, protocol: TCP}
`;
  const gw = find<GatewayStatus>(gatewayApiStatus(buildGatewayApi(yaml, ['default/gw']).push), 'Gateway', 'default', 'gw');
  assert.deepEqual(conds(gw.listeners[1]!.conditions), ['Accepted=False/PortUnavailable', 'Programmed=False/Invalid', 'ResolvedRefs=True/ResolvedRefs', 'Conflicted=True/ProtocolConflict']);
});

test('lastTransitionTime stays while a condition keeps its status and moves when it changes', () => {
  const yaml = (backend: string) => `${base}apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{group: "", kind: Service, name: web}]
  rules: [{backendRefs: [{name: ${backend}, port: 8080}]}]
`;
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:01:00Z');
  const first = stampTransitions([], gatewayApiStatus(buildGatewayApi(yaml('web')).push), t0);
  const same = stampTransitions(first, gatewayApiStatus(buildGatewayApi(yaml('web')).push), t1);
  const changed = stampTransitions(first, gatewayApiStatus(buildGatewayApi(yaml('nope')).push), t1);
  const times = (all: ObjectStatus[]) => find<RouteStatus>(all, 'HTTPRoute', 'infra', 'r').parents[0]!.conditions.map((c) => c.lastTransitionTime);
  assert.deepEqual(times(same), [t0.toISOString(), t0.toISOString()]);
  assert.deepEqual(times(changed), [t0.toISOString(), t1.toISOString()], 'ResolvedRefs turned False: a new transition');
});

test('what `trellis analyze` reports from the files (gateway-api-listeners.yaml), the status says with the spec\'s reasons: the same rules', async () => {
  const { readFile } = await import('node:fs/promises');
  const yaml = await readFile(new URL('../../../../test/fixtures/analyze/gateway-api-listeners.yaml', import.meta.url), 'utf8');
  const all = gatewayApiStatus(buildGatewayApi(yaml, ['default/edge']).push);
  const gw = find<GatewayStatus>(all, 'Gateway', 'default', 'edge');
  const listener = (name: string) => conds(gw.listeners.find((l) => l.name === name)!.conditions);
  assert.deepEqual(listener('raw'), ['Accepted=False/PortUnavailable', 'Programmed=False/Invalid', 'ResolvedRefs=True/ResolvedRefs', 'Conflicted=True/ProtocolConflict']);
  assert.deepEqual(listener('udp')[0], 'Accepted=False/UnsupportedProtocol');
  assert.deepEqual(listener('passthrough')[2], 'ResolvedRefs=False/InvalidRouteKinds');
  assert.deepEqual(conds(find<RouteStatus>(all, 'HTTPRoute', 'default', 'elsewhere').parents[0]!.conditions), ['Accepted=False/NoMatchingListenerHostname', 'ResolvedRefs=False/InvalidKind']);
  assert.deepEqual(conds(find<RouteStatus>(all, 'HTTPRoute', 'default', 'matching').parents[0]!.conditions), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
});
