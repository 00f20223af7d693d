// Gateway and GatewayClass scenarios of the conformance suite: listeners and their status (attached routes, route
// kinds, certificates and ReferenceGrants, added and removed listeners) and observedGeneration.

import assert from 'node:assert/strict';
import type { GatewayStatus, ObjectStatus } from '../../../controlplane/translate/gateway-api/status.js';
import { INFRA, WEB_BACKEND } from '../base.js';
import type { Harness } from '../harness.js';
import type { ConformanceTest } from '../suite.js';
import { gateway, referenceGrant, route } from './yaml.js';

const HTTPS_CERT = `tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: ${INFRA}}]}`;
const ok = (type: string) => ({ type, status: 'True' });

const backendRoute = (name: string, parent: string, backend = 'infra-backend-v1') => route(name, `  parentRefs: [{kind: Gateway, name: ${parent}, namespace: ${INFRA}}]\n  rules: [{backendRefs: [{name: ${backend}, port: 8080}]}]`);
const selectorHttp = `    port: 80\n    protocol: HTTP\n    allowedRoutes:\n      kinds: [{kind: HTTPRoute}]\n      namespaces: {from: Selector, selector: {matchLabels: {kubernetes.io/metadata.name: ${INFRA}}}}`;

/** The generation each condition of a Gateway's status observed, and the generation the object has now. */
async function observedGenerations(h: Harness, kind: string, ns: string, name: string): Promise<number[]> {
  const s = (await h.status(kind, ns, name)) as ObjectStatus['status'] | undefined;
  if (!s || !('conditions' in s)) return [];
  return s.conditions.map((c) => c.observedGeneration);
}

export const gatewayTests: ConformanceTest[] = [
  {
    name: 'GatewayWithAttachedRoutes',
    description: 'A Gateway in the gateway-conformance-infra namespace should be attached to routes.',
    features: ['Gateway'],
    manifests: [
      gateway('gateway-with-one-attached-route', `  - name: http\n${selectorHttp}`),
      backendRoute('http-route-1', 'gateway-with-one-attached-route'),
      gateway('gateway-with-two-attached-routes', `  - name: http\n${selectorHttp}`),
      backendRoute('http-route-2', 'gateway-with-two-attached-routes'),
      backendRoute('http-route-3', 'gateway-with-two-attached-routes'),
    ].join(''),
    async run(h) {
      const listener = (attachedRoutes: number) => [{ name: 'http', attachedRoutes, supportedKinds: ['HTTPRoute'], conditions: [ok('Accepted'), ok('ResolvedRefs')] }];
      await h.listeners({ name: 'gateway-with-one-attached-route' }, listener(1));
      await h.listeners({ name: 'gateway-with-two-attached-routes' }, listener(2));
    },
  },
  {
    name: 'GatewayWithAttachedRoutesWithPort8080',
    description: 'A Gateway listener on port 8080 has its route attached by sectionName; another listener has none.',
    features: ['Gateway', 'GatewayPort8080'],
    manifests: [
      gateway('gateway-with-two-listeners-and-one-attached-route', `  - name: http-unattached\n${selectorHttp.replace('port: 80', 'port: 8080')}\n  - name: http\n${selectorHttp}`),
      route('http-route-4', `  parentRefs: [{kind: Gateway, name: gateway-with-two-listeners-and-one-attached-route, namespace: ${INFRA}, sectionName: http}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`),
    ].join(''),
    async run(h) {
      await h.listeners({ name: 'gateway-with-two-listeners-and-one-attached-route' }, [
        { name: 'http-unattached', attachedRoutes: 0, supportedKinds: ['HTTPRoute'], conditions: [ok('Accepted'), ok('ResolvedRefs')] },
        { name: 'http', attachedRoutes: 1, supportedKinds: ['HTTPRoute'], conditions: [ok('Accepted'), ok('ResolvedRefs')] },
      ]);
    },
  },
  {
    name: 'GatewayInvalidRouteKind',
    description: 'A Gateway listener with route kinds Trellis does not support has ResolvedRefs False (InvalidRouteKinds) and only the supported kinds.',
    features: ['Gateway'],
    manifests: [
      gateway('gateway-only-invalid-route-kind', `  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes: {kinds: [{group: gateway.networking.k8s.io, kind: FooRoute}]}`),
      gateway('gateway-supported-and-invalid-route-kind', `  - name: http\n    port: 80\n    protocol: HTTP\n    allowedRoutes: {kinds: [{group: gateway.networking.k8s.io, kind: FooRoute}, {group: gateway.networking.k8s.io, kind: HTTPRoute}]}`),
    ].join(''),
    async run(h) {
      const invalid = { type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' };
      await h.listeners({ name: 'gateway-only-invalid-route-kind' }, [{ name: 'http', attachedRoutes: 0, supportedKinds: [], conditions: [invalid] }]);
      await h.listeners({ name: 'gateway-supported-and-invalid-route-kind' }, [{ name: 'http', attachedRoutes: 0, supportedKinds: ['HTTPRoute'], conditions: [invalid] }]);
    },
  },
  {
    name: 'GatewayInvalidTLSConfiguration',
    description: 'A Gateway listener whose certificateRef is missing, of an unsupported group or kind, or malformed has ResolvedRefs False (InvalidCertificateRef).',
    features: ['Gateway'],
    manifests: [
      ...[
        ['gateway-certificate-nonexistent-secret', '{group: "", kind: Secret, name: nonexistent-certificate}'],
        ['gateway-certificate-unsupported-group', '{group: wrong.group.company.io, kind: Secret, name: tls-validity-checks-certificate}'],
        ['gateway-certificate-unsupported-kind', '{group: "", kind: WrongKind, name: tls-validity-checks-certificate}'],
        ['gateway-certificate-malformed-secret', '{group: "", kind: Secret, name: malformed-certificate}'],
      ].map(([name, ref]) => gateway(name!, `  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}\n  - name: https\n    port: 443\n    protocol: HTTPS\n    allowedRoutes: {namespaces: {from: All}}\n    tls: {certificateRefs: [${ref}]}`)),
      `apiVersion: v1\nkind: Secret\nmetadata: {name: malformed-certificate, namespace: ${INFRA}}\ntype: kubernetes.io/tls\ndata: {tls.crt: SGVsbG8gd29ybGQK, tls.key: SGVsbG8gd29ybGQK}\n---\n`,
    ].join(''),
    async run(h) {
      for (const name of ['gateway-certificate-nonexistent-secret', 'gateway-certificate-unsupported-group', 'gateway-certificate-unsupported-kind', 'gateway-certificate-malformed-secret']) {
        await h.listeners({ name }, [
          { name: 'http', supportedKinds: ['HTTPRoute'] },
          { name: 'https', attachedRoutes: 0, supportedKinds: ['HTTPRoute'], conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef' }] },
        ]);
      }
    },
  },
  {
    name: 'GatewayModifyListeners',
    description: 'Listeners added to or removed from a Gateway show in its status, with the routes attached to each.',
    features: ['Gateway'],
    manifests: modifyListeners(false),
    async run(h) {
      const listener = (name: string) => ({ name, attachedRoutes: 1, supportedKinds: ['HTTPRoute'], conditions: [ok('Accepted'), ok('ResolvedRefs'), ok('Programmed')] });
      await h.listeners({ name: 'gateway-add-listener' }, [listener('https')]);
      await h.listeners({ name: 'gateway-remove-listener' }, [listener('https'), listener('http')]);
      await h.apply('tests-GatewayModifyListeners', modifyListeners(true));
      await h.listeners({ name: 'gateway-add-listener' }, [listener('https'), listener('http')]);
      await h.listeners({ name: 'gateway-remove-listener' }, [listener('https')]);
      await h.routeCondition({ name: 'http-route-1' }, { name: 'gateway-add-listener' }, { type: 'Accepted', status: 'True' });
      await h.routeCondition({ name: 'http-route-2' }, { name: 'gateway-remove-listener' }, { type: 'Accepted', status: 'True' });
    },
  },
  ...secretTests(),
  {
    name: 'GatewayObservedGenerationBump',
    description: "A Gateway's status conditions observe the new generation after its spec changes.",
    features: ['Gateway'],
    manifests: gateway('gateway-observed-generation-bump', '  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}'),
    async run(h) {
      await h.gatewayAddress({ name: 'gateway-observed-generation-bump' });
      const before = await observedGenerations(h, 'Gateway', INFRA, 'gateway-observed-generation-bump');
      assert.ok(before.length && before.every((g) => g === before[0]), `conditions observe one generation: ${before}`);
      await h.apply('tests-GatewayObservedGenerationBump', gateway('gateway-observed-generation-bump', '  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}\n  - {name: http-two, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}'));
      await h.eventually('observedGeneration bumped', async () => {
        const after = await observedGenerations(h, 'Gateway', INFRA, 'gateway-observed-generation-bump');
        return after.length && after.every((g) => g === before[0]! + 1) ? undefined : `observed ${after}, expected ${before[0]! + 1}`;
      });
      const s = (await h.status('Gateway', INFRA, 'gateway-observed-generation-bump')) as GatewayStatus;
      assert.deepEqual(s.conditions.map((c) => `${c.type}=${c.status}`), ['Accepted=True', 'Programmed=True']);
    },
  },
  {
    name: 'GatewayClassObservedGenerationBump',
    description: "A GatewayClass's Accepted condition observes the new generation after its spec changes.",
    features: ['Gateway'],
    manifests: 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gatewayclass-observed-generation-bump}\nspec: {controllerName: istio.io/gateway-controller, description: old}\n',
    async run(h) {
      let before = 0;
      await h.eventually('GatewayClass Accepted', async () => {
        const s = await h.statuses({ kind: 'GatewayClass', name: 'gatewayclass-observed-generation-bump' });
        const c = (s[0]?.status as { conditions?: Array<{ status: string; observedGeneration: number }> } | undefined)?.conditions?.[0];
        before = c?.observedGeneration ?? 0;
        return c?.status === 'True' ? undefined : 'not accepted';
      });
      await h.apply('tests-GatewayClassObservedGenerationBump', 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gatewayclass-observed-generation-bump}\nspec: {controllerName: istio.io/gateway-controller, description: new}\n');
      await h.eventually('observedGeneration bumped', async () => {
        const after = await observedGenerations(h, 'GatewayClass', '', 'gatewayclass-observed-generation-bump');
        return after[0] === before + 1 ? undefined : `observed ${after}, expected ${before + 1}`;
      });
    },
  },
];

/** GatewayModifyListeners' objects: before (`changed` false) and after an http listener moves from one Gateway to the other. */
function modifyListeners(changed: boolean): string {
  const https = `  - name: https\n    port: 443\n    protocol: HTTPS\n    hostname: secure.test.com\n    allowedRoutes: {namespaces: {from: All}}\n    ${HTTPS_CERT}`;
  const http = '\n  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}';
  return [
    gateway('gateway-add-listener', https + (changed ? http : '')),
    backendRoute('http-route-1', 'gateway-add-listener', 'foo-svc'),
    gateway('gateway-remove-listener', https + (changed ? '' : http)),
    backendRoute('http-route-2', 'gateway-remove-listener', 'foo-svc'),
  ].join('');
}

/** The certificate-reference scenarios: a Secret in gateway-conformance-web-backend, with and without ReferenceGrants. */
function secretTests(): ConformanceTest[] {
  const httpsListener = (name: string, secret: string) => `  - name: ${name}\n    port: 443\n    protocol: HTTPS\n    allowedRoutes: {namespaces: {from: All}}\n    tls: {certificateRefs: [{group: "", kind: Secret, name: ${secret}, namespace: ${WEB_BACKEND}}]}`;
  const refused = { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' };
  const granted = (name: string, gw: string, to: string): ConformanceTest => ({
    name,
    description: `A Gateway may use a Secret in another namespace when a ReferenceGrant there allows it (${to}).`,
    features: ['Gateway', 'ReferenceGrant'],
    manifests: (h) => [h.tlsSecret('certificate', WEB_BACKEND), gateway(gw, httpsListener('https', 'certificate')), referenceGrant('reference-grant', WEB_BACKEND, `{group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA}}`, to)].join(''),
    async run(h) {
      await h.listeners({ name: gw }, [{ name: 'https', attachedRoutes: 0, supportedKinds: ['HTTPRoute'], conditions: [ok('Accepted'), ok('ResolvedRefs'), ok('Programmed')] }]);
    },
  });
  return [
    {
      name: 'GatewaySecretInvalidReferenceGrant',
      description: 'A ReferenceGrant for another Secret does not let a Gateway use this one: ResolvedRefs False (RefNotPermitted).',
      features: ['Gateway', 'ReferenceGrant'],
      manifests: (h) =>
        [
          h.tlsSecret('certificate', WEB_BACKEND),
          gateway('gateway-secret-invalid-reference-grant', httpsListener('https', 'certificate')),
          referenceGrant('reference-grant', WEB_BACKEND, `{group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA}}`, '{group: "", kind: Secret, name: not-the-certificate-you-are-looking-for}'),
        ].join(''),
      async run(h) {
        await h.listeners({ name: 'gateway-secret-invalid-reference-grant' }, [{ name: 'https', attachedRoutes: 0, supportedKinds: ['HTTPRoute'], conditions: [refused] }]);
      },
    },
    {
      name: 'GatewaySecretMissingReferenceGrant',
      description: 'Without a ReferenceGrant a Gateway may not use a Secret in another namespace, whether it exists or not: RefNotPermitted.',
      features: ['Gateway', 'ReferenceGrant'],
      manifests: (h) => [h.tlsSecret('certificate', WEB_BACKEND), gateway('gateway-secret-missing-reference-grant', `${httpsListener('https', 'certificate')}\n${httpsListener('https-nonexistent-secret', 'nonexistent-certificate').replace('port: 443', 'port: 443\n    hostname: nonexistent.example.com')}`)].join(''),
      async run(h) {
        const l = (name: string) => ({ name, attachedRoutes: 0, supportedKinds: ['HTTPRoute'], conditions: [refused] });
        await h.listeners({ name: 'gateway-secret-missing-reference-grant' }, [l('https'), l('https-nonexistent-secret')]);
      },
    },
    granted('GatewaySecretReferenceGrantAllInNamespace', 'gateway-secret-reference-grant-all-in-namespace', '{group: "", kind: Secret}'),
    granted('GatewaySecretReferenceGrantSpecific', 'gateway-secret-reference-grant-specific', '{group: "", kind: Secret, name: certificate}'),
  ];
}
