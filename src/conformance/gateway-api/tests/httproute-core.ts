// HTTPRoute scenarios of the conformance suite's core: attachment across namespaces and hostnames, path and header
// matching and their precedence, header modification, weights, HTTPS listeners, and invalid references with the
// status reasons and 500s the specification requires.

import assert from 'node:assert/strict';
import type { RouteStatus } from '../../../controlplane/translate/gateway-api/status.js';
import { APP_BACKEND, INFRA, WEB_BACKEND } from '../base.js';
import type { ExpectedResponse } from '../expect.js';
import type { Harness } from '../harness.js';
import type { ConformanceTest } from '../suite.js';
import { gateway, referenceGrant, route } from './yaml.js';

const SAME = { name: 'same-namespace' };
const to = (backend: string, path: string, host?: string, headers?: Record<string, string>, namespace = INFRA): ExpectedResponse => ({ request: { path, ...(host ? { host } : {}), ...(headers ? { headers } : {}) }, backend, namespace });
const notFound = (path: string, host?: string, headers?: Record<string, string>): ExpectedResponse => ({ request: { path, ...(host ? { host } : {}), ...(headers ? { headers } : {}) }, response: { status: 404 } });
const status = (code: number, path: string): ExpectedResponse => ({ request: { path }, response: { status: code } });

/** Expects every case against one Gateway once it and the routes are Accepted. */
async function expectAll(h: Harness, gw: { name: string; namespace?: string }, routes: Array<{ name: string; namespace?: string }>, cases: ExpectedResponse[]): Promise<void> {
  const address = await h.gatewayAndRoutesAccepted(gw, routes);
  for (const c of cases) await h.expect(address, c);
}

const parentSame = '  parentRefs: [{name: same-namespace}]';
const backend = (name: string, extra = '') => `{name: ${name}, port: 8080${extra}}`;

/** A route whose only parent is not accepted has no accepted parent in its status (the suite's HTTPRouteMustHaveNoAcceptedParents). */
async function noAcceptedParents(h: Harness, name: string, ns: string): Promise<void> {
  await h.eventually(`HTTPRoute ${ns}/${name} has no accepted parents`, async () => {
    const s = (await h.status('HTTPRoute', ns, name)) as RouteStatus | undefined;
    const accepted = s?.parents.filter((p) => p.conditions.some((c) => c.type === 'Accepted' && c.status === 'True')) ?? [];
    return s && !accepted.length ? undefined : `accepted by ${JSON.stringify(accepted.map((p) => p.parentRef))}`;
  });
}

export const httpRouteCoreTests: ConformanceTest[] = [
  {
    name: 'HTTPRouteSimpleSameNamespace',
    description: 'A single HTTPRoute in the gateway-conformance-infra namespace attaches to a Gateway in the same namespace.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('gateway-conformance-infra-test', `${parentSame}\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
    async run(h) {
      await h.routeCondition({ name: 'gateway-conformance-infra-test' }, SAME, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' });
      await expectAll(h, SAME, [{ name: 'gateway-conformance-infra-test' }], [to('infra-backend-v1', '/')]);
    },
  },
  {
    name: 'HTTPRouteCrossNamespace',
    description: 'A single HTTPRoute in the gateway-conformance-web-backend namespace attaches to a Gateway in another namespace that allows it.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('cross-namespace', `  parentRefs: [{name: backend-namespaces, namespace: ${INFRA}}]\n  rules: [{backendRefs: [${backend('web-backend')}]}]`, { ns: WEB_BACKEND }),
    async run(h) {
      await expectAll(h, { name: 'backend-namespaces' }, [{ name: 'cross-namespace', namespace: WEB_BACKEND }], [to('web-backend', '/', undefined, undefined, WEB_BACKEND)]);
    },
  },
  {
    name: 'HTTPExactPathMatching',
    description: 'A single HTTPRoute with exact path matching for different backends.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('exact-matching', `${parentSame}\n  rules:\n  - matches: [{path: {type: Exact, value: /one}}]\n    backendRefs: [${backend('infra-backend-v1')}]\n  - matches: [{path: {type: Exact, value: /two}}]\n    backendRefs: [${backend('infra-backend-v2')}]`),
    async run(h) {
      await expectAll(h, SAME, [{ name: 'exact-matching' }], [to('infra-backend-v1', '/one'), to('infra-backend-v2', '/two'), notFound('/'), notFound('/one/example'), notFound('/two/')]);
    },
  },
  {
    name: 'HTTPRouteMatching',
    description: 'A single HTTPRoute with path and header matching for different backends.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('matching', `${parentSame}\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]\n    backendRefs: [${backend('infra-backend-v1')}]\n  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]\n    backendRefs: [${backend('infra-backend-v2')}]`),
    async run(h) {
      await expectAll(h, SAME, [{ name: 'matching' }], [
        to('infra-backend-v1', '/'),
        to('infra-backend-v1', '/example'),
        to('infra-backend-v1', '/', undefined, { version: 'one' }),
        to('infra-backend-v2', '/v2'),
        to('infra-backend-v2', '/v2/example'),
        to('infra-backend-v2', '/', undefined, { version: 'two' }),
      ]);
    },
  },
  {
    name: 'HTTPRouteMatchingAcrossRoutes',
    description: 'Two HTTPRoutes with path matching for different backends (precedence across routes).',
    features: ['Gateway', 'HTTPRoute'],
    manifests: [
      route('matching-part1', `${parentSame}\n  hostnames: [example.com, example.net]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]\n    backendRefs: [${backend('infra-backend-v1')}]`),
      route('matching-part2', `${parentSame}\n  hostnames: ["*.com"]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]\n    backendRefs: [${backend('infra-backend-v2')}]`),
    ].join(''),
    async run(h) {
      await expectAll(h, SAME, [{ name: 'matching-part1' }, { name: 'matching-part2' }], [
        to('infra-backend-v1', '/', 'example.com'),
        to('infra-backend-v1', '/example', 'example.com'),
        to('infra-backend-v1', '/example', 'example.net'),
        to('infra-backend-v1', '/example', 'example.com', { version: 'one' }),
        to('infra-backend-v2', '/v2', 'example.com'),
        to('infra-backend-v1', '/v2', 'example.net'),
        to('infra-backend-v2', '/v2/example', 'example.com'),
        to('infra-backend-v2', '/', 'example.com', { version: 'two' }),
      ]);
    },
  },
  {
    name: 'HTTPRouteHeaderMatching',
    description: 'A single HTTPRoute with header matching for different backends.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route(
      'header-matching',
      `${parentSame}
  rules:
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{headers: [{name: version, value: two}]}]
    backendRefs: [${backend('infra-backend-v2')}]
  - matches: [{headers: [{name: version, value: two}, {name: color, value: orange}]}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]
    backendRefs: [${backend('infra-backend-v2')}]`,
    ),
    async run(h) {
      const hdr = (v: Record<string, string>) => v;
      await expectAll(h, SAME, [{ name: 'header-matching' }], [
        to('infra-backend-v1', '/', undefined, hdr({ Version: 'one' })),
        to('infra-backend-v2', '/', undefined, hdr({ Version: 'two' })),
        to('infra-backend-v1', '/', undefined, hdr({ Version: 'two', Color: 'orange' })),
        to('infra-backend-v2', '/', undefined, hdr({ Version: 'two', Color: 'blue' })),
        notFound('/', undefined, { Color: 'orange' }),
        notFound('/', undefined, { 'Some-Other-Header': 'one' }),
        to('infra-backend-v1', '/', undefined, hdr({ Color: 'blue' })),
        to('infra-backend-v1', '/', undefined, hdr({ Color: 'green' })),
        to('infra-backend-v2', '/', undefined, hdr({ Color: 'red' })),
        to('infra-backend-v2', '/', undefined, hdr({ Color: 'yellow' })),
        notFound('/', undefined, { Color: 'purple' }),
      ]);
    },
  },
  {
    name: 'HTTPRouteHostnameIntersection',
    description: 'HTTPRoutes attach to listeners only where their hostnames intersect, and serve only the intersecting hostnames.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: [
      gateway('httproute-hostname-intersection', ['very.specific.com', '"*.wildcard.io"', '"*.anotherwildcard.io"'].map((host, i) => `  - {name: listener-${i + 1}, port: 80, protocol: HTTP, hostname: ${host}, allowedRoutes: {namespaces: {from: Same}}}`).join('\n')),
      ...(
        [
          ['specific-host-matches-listener-specific-host', '[non.matching.com, "*.nonmatchingwildcard.io", very.specific.com]', '/s1', 'infra-backend-v1'],
          ['specific-host-matches-listener-wildcard-host', '[non.matching.com, wildcard.io, foo.wildcard.io, bar.wildcard.io, foo.bar.wildcard.io]', '/s2', 'infra-backend-v2'],
          ['wildcard-host-matches-listener-specific-host', '[non.matching.com, "*.specific.com"]', '/s3', 'infra-backend-v3'],
          ['wildcard-host-matches-listener-wildcard-host', '["*.anotherwildcard.io"]', '/s4', 'infra-backend-v1'],
          ['no-intersecting-hosts', '[specific.but.wrong.com, wildcard.io]', '/s5', 'infra-backend-v2'],
        ] as const
      ).map(([name, hosts, prefix, b]) => route(name, `  parentRefs: [{name: httproute-hostname-intersection, namespace: ${INFRA}}]\n  hostnames: ${hosts}\n  rules: [{matches: [{path: {type: PathPrefix, value: ${prefix}}}], backendRefs: [${backend(b)}]}]`)),
      gateway('httproute-hostname-intersection-all', '  - {name: listener, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}'),
      route('httproute-hostname-intersection-all', `  parentRefs: [{name: httproute-hostname-intersection-all, namespace: ${INFRA}}]\n  hostnames: [first.com, "*.first.com", second.com, "*.second.com"]\n  rules: [{backendRefs: [${backend('infra-backend-v2')}]}]`),
    ].join(''),
    async run(h) {
      const gw = { name: 'httproute-hostname-intersection' };
      await expectAll(h, gw, ['specific-host-matches-listener-specific-host', 'specific-host-matches-listener-wildcard-host', 'wildcard-host-matches-listener-specific-host', 'wildcard-host-matches-listener-wildcard-host'].map((name) => ({ name })), [
        to('infra-backend-v1', '/s1', 'very.specific.com'),
        to('infra-backend-v1', '/s1', 'very.specific.com:1234'),
        notFound('/s1', 'non.matching.com'),
        notFound('/s1', 'foo.nonmatchingwildcard.io'),
        notFound('/s1', 'foo.wildcard.io'),
        notFound('/non-matching-prefix', 'very.specific.com'),
        to('infra-backend-v2', '/s2', 'foo.wildcard.io'),
        to('infra-backend-v2', '/s2', 'bar.wildcard.io'),
        to('infra-backend-v2', '/s2', 'foo.bar.wildcard.io'),
        notFound('/s2', 'non.matching.com'),
        notFound('/s2', 'wildcard.io'),
        notFound('/s2', 'very.specific.com'),
        notFound('/non-matching-prefix', 'foo.wildcard.io'),
        to('infra-backend-v3', '/s3', 'very.specific.com'),
        notFound('/s3', 'non.matching.com'),
        notFound('/s3', 'foo.specific.com'),
        notFound('/s3', 'foo.wildcard.io'),
        to('infra-backend-v1', '/s4', 'foo.anotherwildcard.io'),
        to('infra-backend-v1', '/s4', 'bar.anotherwildcard.io'),
        to('infra-backend-v1', '/s4', 'foo.bar.anotherwildcard.io'),
        notFound('/s4', 'anotherwildcard.io'),
        notFound('/s4', 'foo.wildcard.io'),
        notFound('/s4', 'very.specific.com'),
      ]);
      await h.routeCondition({ name: 'no-intersecting-hosts' }, gw, { type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' });
      const address = await h.gatewayAddress(gw);
      for (const c of [notFound('/s5', 'specific.but.wrong.com'), notFound('/s5', 'wildcard.io')]) await h.expect(address, c);
      const l = (name: string, attachedRoutes: number) => ({ name, attachedRoutes, supportedKinds: ['HTTPRoute'], conditions: [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }] });
      await h.listeners(gw, [l('listener-1', 2), l('listener-2', 1), l('listener-3', 1)]);
      await expectAll(h, { name: 'httproute-hostname-intersection-all' }, [{ name: 'httproute-hostname-intersection-all' }], [
        to('infra-backend-v2', '/', 'first.com'),
        to('infra-backend-v2', '/', 'sub.first.com'),
        to('infra-backend-v2', '/', 'second.com'),
        to('infra-backend-v2', '/', 'sub.second.com'),
        notFound('/', 'third.com'),
        notFound('/', 'sub.third.com'),
      ]);
    },
  },
  {
    name: 'HTTPRouteListenerHostnameMatching',
    description: 'Multiple HTTP listeners with hostnames that each match a different HTTPRoute.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: [
      gateway('httproute-listener-hostname-matching', ['bar.com', 'foo.bar.com', '"*.bar.com"', '"*.foo.com"'].map((host, i) => `  - {name: listener-${i + 1}, port: 80, protocol: HTTP, hostname: ${host}, allowedRoutes: {namespaces: {from: Same}}}`).join('\n')),
      route('backend-v1', `  parentRefs: [{name: httproute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-1}]\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
      route('backend-v2', `  parentRefs: [{name: httproute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-2}]\n  rules: [{backendRefs: [${backend('infra-backend-v2')}]}]`),
      route('backend-v3', `  parentRefs:\n  - {name: httproute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-3}\n  - {name: httproute-listener-hostname-matching, namespace: ${INFRA}, sectionName: listener-4}\n  rules: [{backendRefs: [${backend('infra-backend-v3')}]}]`),
    ].join(''),
    async run(h) {
      await expectAll(h, { name: 'httproute-listener-hostname-matching' }, [{ name: 'backend-v1' }, { name: 'backend-v2' }, { name: 'backend-v3' }], [
        to('infra-backend-v1', '/', 'bar.com'),
        to('infra-backend-v2', '/', 'foo.bar.com'),
        to('infra-backend-v3', '/', 'baz.bar.com'),
        to('infra-backend-v3', '/', 'boo.bar.com'),
        to('infra-backend-v3', '/', 'multiple.prefixes.bar.com'),
        to('infra-backend-v3', '/', 'multiple.prefixes.foo.com'),
        notFound('/', 'foo.com'),
        notFound('/', 'no.matching.host'),
      ]);
    },
  },
  {
    name: 'HTTPRouteHTTPSListener',
    description: "An HTTPRoute attaches to a Gateway's HTTPS listeners in the same namespace; TLS is terminated with the listener's certificate.",
    features: ['Gateway', 'HTTPRoute'],
    manifests: [
      route('httproute-https-test', `  parentRefs: [{name: same-namespace-with-https-listener}]\n  hostnames: [example.org, second-example.org]\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
      route('httproute-https-test-no-hostname', `  parentRefs: [{name: same-namespace-with-https-listener}]\n  rules: [{matches: [{path: {value: /no-hostname}}], backendRefs: [${backend('infra-backend-v1')}]}]`),
    ].join(''),
    async run(h) {
      const gw = { name: 'same-namespace-with-https-listener' };
      const address = await h.gatewayAndRoutesAccepted(gw, [{ name: 'httproute-https-test' }, { name: 'httproute-https-test-no-hostname' }]);
      await h.expect(address, { request: { host: 'example.org', path: '/', https: true }, backend: 'infra-backend-v1' });
      await h.expect(address, { request: { host: 'second-example.org', path: '/', https: true }, backend: 'infra-backend-v1' });
      await h.expect(address, { request: { host: 'second-example.org', sni: 'unknown-example.org', path: '/', https: true }, response: { status: 404 } });
      await h.expect(address, { request: { host: 'unknown-example.org', path: '/', https: true }, response: { status: 404 } });
    },
  },
  {
    name: 'HTTPRouteRequestHeaderModifier',
    description: 'An HTTPRoute has request header modifier filters applied correctly.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route(
      'request-header-modifier',
      `${parentSame}
  rules:
  - matches: [{path: {value: /set}}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}]}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /add}}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: X-Header-Add, value: add-appends-values}]}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /remove}}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {remove: [X-Header-Remove]}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /multiple}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set-1, value: header-set-1}, {name: X-Header-Set-2, value: header-set-2}]
        add: [{name: X-Header-Add-1, value: header-add-1}, {name: X-Header-Add-2, value: header-add-2}, {name: X-Header-Add-3, value: header-add-3}]
        remove: [X-Header-Remove-1, X-Header-Remove-2]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /case-insensitivity}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: X-Header-Set, value: header-set}]
        add: [{name: X-Header-Add, value: header-add}]
        remove: [X-Header-Remove]
    backendRefs: [${backend('infra-backend-v1')}]`,
    ),
    async run(h) {
      const c = (path: string, sent: Record<string, string>, seen: Record<string, string>, absent: string[] = []): ExpectedResponse => ({ request: { path, headers: sent }, backendRequest: { headers: seen, absentHeaders: absent }, backend: 'infra-backend-v1' });
      await expectAll(h, SAME, [{ name: 'request-header-modifier' }], [
        c('/set', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
        c('/set', { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
        c('/add', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' }),
        c('/add', { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value,add-appends-values' }),
        c('/remove', { 'X-Header-Remove': 'val' }, {}, ['X-Header-Remove']),
        c(
          '/multiple',
          { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' },
          { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val' },
          ['X-Header-Remove-1', 'X-Header-Remove-2'],
        ),
        c('/case-insensitivity', { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' }, { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'Another-Header': 'another-header-val' }, ['X-Header-Remove']),
      ]);
    },
  },
  {
    name: 'HTTPRouteWeight',
    description: 'An HTTPRoute with weighted backends (70/30/0): 500 requests land within 5 points of the weights.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('weighted-backends', `${parentSame}\n  rules: [{backendRefs: [${backend('infra-backend-v1', ', weight: 70')}, ${backend('infra-backend-v2', ', weight: 30')}, ${backend('infra-backend-v3', ', weight: 0')}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'weighted-backends' }]);
      await h.expect(address, { request: { path: '/' }, response: { status: 200 } });
      // As upstream: ten tries of 500 requests (ten at a time); one within tolerance passes.
      let last = '';
      for (let attempt = 0; attempt < 10; attempt++) {
        const seen: Record<string, number> = {};
        const total = 500;
        for (let sent = 0; sent < total; sent += 10) {
          await Promise.all(
            Array.from({ length: 10 }, async () => {
              const r = await h.send(address, { path: '/' });
              const pod = r.status === 200 ? (JSON.parse(r.body) as { pod: string }).pod : `status ${r.status}`;
              const b = ['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3'].find((x) => pod.startsWith(x)) ?? pod;
              seen[b] = (seen[b] ?? 0) + 1;
            }),
          );
        }
        const off = Object.entries({ 'infra-backend-v1': 0.7, 'infra-backend-v2': 0.3, 'infra-backend-v3': 0 }).filter(([b, w]) => Math.abs((seen[b] ?? 0) / total - w) > 0.05);
        if (!off.length && Object.keys(seen).length === 2) return;
        last = JSON.stringify(seen);
      }
      assert.fail(`weighted distribution off: ${last}`);
    },
  },
  {
    name: 'HTTPRouteInvalidNonExistentBackendRef',
    description: 'An HTTPRoute whose only backend Service does not exist has ResolvedRefs False (BackendNotFound) and answers 500.',
    features: ['HTTPRoute'],
    manifests: route('invalid-nonexistent-backend-ref', `${parentSame}\n  rules: [{backendRefs: [${backend('nonexistent')}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'invalid-nonexistent-backend-ref' }]);
      await h.routeCondition({ name: 'invalid-nonexistent-backend-ref' }, SAME, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' });
      await h.expect(address, status(500, '/'));
    },
  },
  {
    name: 'HTTPRouteInvalidBackendRefUnknownKind',
    description: 'An HTTPRoute whose backend is of an unknown kind has ResolvedRefs False (InvalidKind) and answers 500.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('invalid-backend-ref-unknown-kind', `${parentSame}\n  rules: [{backendRefs: [{group: unknownkind.example.com, kind: NonExistent, name: infra-backend-v1, port: 8080}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'invalid-backend-ref-unknown-kind' }]);
      await h.routeCondition({ name: 'invalid-backend-ref-unknown-kind' }, SAME, { type: 'ResolvedRefs', status: 'False', reason: 'InvalidKind' });
      await h.expect(address, status(500, '/'));
    },
  },
  {
    name: 'HTTPRouteInvalidCrossNamespaceBackendRef',
    description: 'An HTTPRoute with a backend in another namespace and no ReferenceGrant has ResolvedRefs False (RefNotPermitted) and answers 500.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('invalid-cross-namespace-backend-ref', `${parentSame}\n  rules: [{backendRefs: [{name: web-backend, namespace: ${WEB_BACKEND}, port: 8080}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'invalid-cross-namespace-backend-ref' }]);
      await h.routeCondition({ name: 'invalid-cross-namespace-backend-ref' }, SAME, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' });
      await h.expect(address, status(500, '/'));
    },
  },
  {
    name: 'HTTPRouteInvalidCrossNamespaceParentRef',
    description: 'An HTTPRoute in gateway-conformance-web-backend fails to attach to a Gateway in another namespace that does not allow it.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('invalid-cross-namespace-parent-ref', `  parentRefs: [{name: same-namespace, namespace: ${INFRA}}]\n  rules: [{backendRefs: [${backend('web-backend')}]}]`, { ns: WEB_BACKEND }),
    async run(h) {
      const r = { name: 'invalid-cross-namespace-parent-ref', namespace: WEB_BACKEND };
      await h.routeCondition(r, SAME, { type: 'ResolvedRefs', status: 'True' });
      await h.routeCondition(r, SAME, { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' });
      await noAcceptedParents(h, r.name, WEB_BACKEND);
      await h.listeners(SAME, [{ name: 'http', attachedRoutes: 0 }]);
    },
  },
  {
    name: 'HTTPRouteInvalidParentRefNotMatchingSectionName',
    description: "An HTTPRoute whose parentRef names a listener the Gateway does not have is not Accepted (NoMatchingParent).",
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('httproute-not-matching-section-name', `  parentRefs: [{name: same-namespace, sectionName: unknown}]\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
    async run(h) {
      await h.routeCondition({ name: 'httproute-not-matching-section-name' }, SAME, { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' });
      await noAcceptedParents(h, 'httproute-not-matching-section-name', INFRA);
    },
  },
  {
    name: 'HTTPRouteInvalidReferenceGrant',
    description: 'A ReferenceGrant that does not cover the route (another namespace) leaves its cross-namespace backend RefNotPermitted; requests get 500.',
    features: ['Gateway', 'HTTPRoute', 'ReferenceGrant'],
    manifests: [
      route('invalid-reference-grant', `${parentSame}\n  rules: [{backendRefs: [{name: web-backend, namespace: ${WEB_BACKEND}, port: 8080}]}]`),
      referenceGrant('reference-grant-wrong-namespace', WEB_BACKEND, `{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${APP_BACKEND}}`, '{group: "", kind: Service, name: web-backend}'),
    ].join(''),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'invalid-reference-grant' }]);
      await h.routeCondition({ name: 'invalid-reference-grant' }, SAME, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' });
      await h.expect(address, status(500, '/'));
    },
  },
  {
    name: 'HTTPRoutePartiallyInvalidViaInvalidReferenceGrant',
    description: 'A ReferenceGrant for another Service leaves one backend RefNotPermitted (500 there) while a sibling rule still routes.',
    features: ['Gateway', 'HTTPRoute', 'ReferenceGrant'],
    manifests: [
      route('invalid-reference-grant', `${parentSame}\n  rules:\n  - matches: [{path: {value: /v2}}]\n    backendRefs: [{name: app-backend-v2, namespace: ${APP_BACKEND}, port: 8080}]\n  - backendRefs: [{name: app-backend-v1, namespace: ${APP_BACKEND}, port: 8080}]`),
      referenceGrant('reference-grant', APP_BACKEND, `{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${INFRA}}`, '{group: "", kind: Service, name: app-backend-v1}'),
    ].join(''),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'invalid-reference-grant' }]);
      await h.routeCondition({ name: 'invalid-reference-grant' }, SAME, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' });
      await h.expect(address, status(500, '/v2'));
      await h.expect(address, to('app-backend-v1', '/', undefined, undefined, APP_BACKEND));
    },
  },
  {
    name: 'HTTPRouteReferenceGrant',
    description: 'An HTTPRoute routes to a Service in another namespace that a ReferenceGrant opens to it.',
    features: ['Gateway', 'HTTPRoute', 'ReferenceGrant'],
    manifests: [
      route('reference-grant', `${parentSame}\n  rules: [{backendRefs: [{name: web-backend, namespace: ${WEB_BACKEND}, port: 8080}]}]`),
      referenceGrant('reference-grant', WEB_BACKEND, `{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${INFRA}}`, '{group: "", kind: Service, name: web-backend}'),
    ].join(''),
    async run(h) {
      await h.routeCondition({ name: 'reference-grant' }, SAME, { type: 'ResolvedRefs', status: 'True' });
      await expectAll(h, SAME, [{ name: 'reference-grant' }], [to('web-backend', '/', undefined, undefined, WEB_BACKEND)]);
    },
  },
  {
    name: 'HTTPRouteObservedGenerationBump',
    description: "An HTTPRoute's parent conditions observe the new generation after its spec changes.",
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('observed-generation-bump', `${parentSame}\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
    async run(h) {
      const generations = async () => ((await h.status('HTTPRoute', INFRA, 'observed-generation-bump')) as RouteStatus | undefined)?.parents.flatMap((p) => p.conditions.map((c) => c.observedGeneration)) ?? [];
      await h.routeCondition({ name: 'observed-generation-bump' }, SAME, { type: 'Accepted', status: 'True' });
      const before = (await generations())[0]!;
      await h.apply('tests-HTTPRouteObservedGenerationBump', route('observed-generation-bump', `${parentSame}\n  rules: [{backendRefs: [${backend('infra-backend-v2')}]}]`));
      await h.eventually('observedGeneration bumped', async () => {
        const after = await generations();
        return after.length && after.every((g) => g === before + 1) ? undefined : `observed ${after}, expected ${before + 1}`;
      });
    },
  },
  {
    name: 'HTTPRouteServiceTypes',
    description: 'An HTTPRoute routes to a headless Service (clusterIP: None) as to any other.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: [
      `apiVersion: v1\nkind: Service\nmetadata: {name: infra-backend-v1-headless, namespace: ${INFRA}}\nspec:\n  clusterIP: None\n  selector: {app: infra-backend-v1}\n  ports: [{protocol: TCP, port: 8080, targetPort: 3000}]\n---\n`,
      route('service-types', `${parentSame}\n  rules:\n  - matches: [{path: {value: /headless}}]\n    backendRefs: [${backend('infra-backend-v1-headless')}]`),
    ].join(''),
    async run(h) {
      await expectAll(h, SAME, [{ name: 'service-types' }], [to('infra-backend-v1', '/headless')]);
    },
  },
];
