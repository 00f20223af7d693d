// HTTPRoute scenarios of the GATEWAY-HTTP profile's extended features: query and method matches, response header
// modification, redirects (scheme, host, port, path, status codes), URL rewrites, mirrors, timeouts, backend protocols
// (h2c, WebSocket), parentRef ports, named rules and listener isolation.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { INFRA } from '../base.js';
import type { ExpectedResponse } from '../expect.js';
import type { Harness } from '../harness.js';
import type { ConformanceTest } from '../suite.js';
import { gateway, route } from './yaml.js';

const SAME = { name: 'same-namespace' };
const parentSame = '  parentRefs: [{name: same-namespace}]';
const backend = (name: string, extra = '') => `{name: ${name}, port: 8080${extra}}`;
const to = (b: string, path: string, headers?: Record<string, string>, host?: string): ExpectedResponse => ({ request: { path, ...(headers ? { headers } : {}), ...(host ? { host } : {}) }, backend: b, namespace: INFRA });
const notFound = (path: string, headers?: Record<string, string>, host?: string): ExpectedResponse => ({ request: { path, ...(headers ? { headers } : {}), ...(host ? { host } : {}) }, response: { status: 404 } });

async function expectAll(h: Harness, gw: { name: string }, routes: string[], cases: ExpectedResponse[], port?: number): Promise<void> {
  const address = await h.gatewayAndRoutesAccepted(gw, routes.map((name) => ({ name })));
  for (const c of cases) await h.expect(address, c, port);
}

/** A rule `path` (PathPrefix) → a RequestRedirect with the given fields (YAML flow mapping body). */
const redirectRule = (path: string, redirect: string) => `  - matches: [{path: {type: PathPrefix, value: ${path}}}]\n    filters: [{type: RequestRedirect, requestRedirect: {${redirect}}}]`;
const redirected = (path: string, status: number, r: ExpectedResponse['redirect'], host?: string, https = false): ExpectedResponse => ({ request: { path, ...(host ? { host } : {}), ...(https ? { https } : {}) }, response: { status }, redirect: r });

export const httpRouteExtendedTests: ConformanceTest[] = [
  {
    name: 'HTTPRouteQueryParamMatching',
    description: 'A single HTTPRoute with query param matching for different backends, alone and with path and header matches.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteQueryParamMatching'],
    manifests: route(
      'query-param-matching',
      `${parentSame}
  rules:
  - matches: [{queryParams: [{name: animal, value: whale}]}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{queryParams: [{name: animal, value: dolphin}]}]
    backendRefs: [${backend('infra-backend-v2')}]
  - matches: [{queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]}, {queryParams: [{name: ANIMAL, value: Whale}]}]
    backendRefs: [${backend('infra-backend-v3')}]
  - matches: [{path: {type: PathPrefix, value: /path1}, queryParams: [{name: animal, value: whale}]}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{headers: [{name: version, value: one}], queryParams: [{name: animal, value: whale}]}]
    backendRefs: [${backend('infra-backend-v2')}]
  - matches: [{path: {type: PathPrefix, value: /path2}, headers: [{name: version, value: two}], queryParams: [{name: animal, value: whale}]}]
    backendRefs: [${backend('infra-backend-v3')}]
  - matches:
    - {path: {type: PathPrefix, value: /path3}, queryParams: [{name: animal, value: shark}]}
    - {path: {type: PathPrefix, value: /path4}, headers: [{name: version, value: three}], queryParams: [{name: animal, value: kraken}]}
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /path5}, queryParams: [{name: animal, value: hydra}]}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{queryParams: [{name: animal, value: hydra}]}]
    backendRefs: [${backend('infra-backend-v2')}]
  - matches: [{headers: [{name: version, value: four}], queryParams: [{name: animal, value: hydra}]}]
    backendRefs: [${backend('infra-backend-v3')}]`,
    ),
    async run(h) {
      await expectAll(h, SAME, ['query-param-matching'], [
        to('infra-backend-v1', '/?animal=whale'),
        to('infra-backend-v2', '/?animal=dolphin'),
        to('infra-backend-v3', '/?animal=dolphin&color=blue'),
        to('infra-backend-v3', '/?ANIMAL=Whale'),
        to('infra-backend-v1', '/?animal=whale&otherparam=irrelevant'),
        to('infra-backend-v2', '/?animal=dolphin&color=yellow'),
        notFound('/?color=blue'),
        notFound('/?animal=dog'),
        notFound('/?animal=whaledolphin'),
        notFound('/'),
        to('infra-backend-v1', '/path1?animal=whale'),
        to('infra-backend-v2', '/?animal=whale', { version: 'one' }),
        to('infra-backend-v3', '/path2?animal=whale', { version: 'two' }),
        to('infra-backend-v1', '/path3?animal=shark'),
        to('infra-backend-v1', '/path4?animal=kraken', { version: 'three' }),
        notFound('/?animal=shark'),
        notFound('/path4?animal=kraken'),
        to('infra-backend-v1', '/path5?animal=hydra'),
        to('infra-backend-v3', '/?animal=hydra', { version: 'four' }),
      ]);
    },
  },
  {
    name: 'HTTPRouteMethodMatching',
    description: 'A single HTTPRoute with method matching for different backends, alone and with other matches.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteMethodMatching'],
    manifests: route(
      'method-matching',
      `${parentSame}
  rules:
  - matches: [{method: POST}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{method: GET}]
    backendRefs: [${backend('infra-backend-v2')}]
  - matches: [{path: {type: PathPrefix, value: /path1}, method: GET}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{headers: [{name: version, value: one}], method: PUT}]
    backendRefs: [${backend('infra-backend-v2')}]
  - matches: [{path: {type: PathPrefix, value: /path2}, headers: [{name: version, value: two}], method: POST}]
    backendRefs: [${backend('infra-backend-v3')}]
  - matches: [{path: {type: PathPrefix, value: /path3}, method: PATCH}, {path: {type: PathPrefix, value: /path4}, headers: [{name: version, value: three}], method: DELETE}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /path5}, method: PATCH}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /path5}, method: PATCH, headers: [{name: version, value: four}]}]
    backendRefs: [${backend('infra-backend-v2')}]`,
    ),
    async run(h) {
      const m = (method: string, b: string | undefined, path: string, headers?: Record<string, string>): ExpectedResponse => ({ request: { method, path, ...(headers ? { headers } : {}) }, ...(b ? { backend: b, namespace: INFRA } : { response: { status: 404 } }) });
      await expectAll(h, SAME, ['method-matching'], [
        m('POST', 'infra-backend-v1', '/'),
        m('GET', 'infra-backend-v2', '/'),
        m('HEAD', undefined, '/'),
        m('GET', 'infra-backend-v1', '/path1'),
        m('PUT', 'infra-backend-v2', '/', { version: 'one' }),
        m('POST', 'infra-backend-v3', '/path2', { version: 'two' }),
        m('PATCH', 'infra-backend-v1', '/path3'),
        m('DELETE', 'infra-backend-v1', '/path4', { version: 'three' }),
        m('PUT', undefined, '/path2', { version: 'two' }),
        m('DELETE', undefined, '/path4'),
        m('PATCH', 'infra-backend-v2', '/path5', { version: 'four' }),
        m('PATCH', 'infra-backend-v1', '/path5'),
      ]);
    },
  },
  {
    name: 'HTTPRouteResponseHeaderModifier',
    description: 'An HTTPRoute has response header modifier filters applied correctly (on headers the backend sets).',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteResponseHeaderModification'],
    manifests: route(
      'response-header-modifier',
      `${parentSame}
  rules:
  - matches: [{path: {value: /set}}]
    filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}]}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /add}}]
    filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: X-Header-Add, value: add-appends-values}]}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /remove}}]
    filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {remove: [X-Header-Remove]}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {value: /multiple}}]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: X-Header-Set-1, value: header-set-1}, {name: X-Header-Set-2, value: header-set-2}]
        add: [{name: X-Header-Add-1, value: header-add-1}, {name: X-Header-Add-2, value: header-add-2}, {name: X-Header-Add-3, value: header-add-3}]
        remove: [X-Header-Remove-1, X-Header-Remove-2]
    backendRefs: [${backend('infra-backend-v1')}]`,
    ),
    async run(h) {
      const c = (path: string, echoed: string | undefined, headers: Record<string, string>, absentHeaders: string[] = []): ExpectedResponse => ({ request: { path, ...(echoed ? { headers: { 'X-Echo-Set-Header': echoed } } : {}) }, response: { status: 200, headers, absentHeaders }, backend: 'infra-backend-v1', namespace: INFRA });
      await expectAll(h, SAME, ['response-header-modifier'], [
        c('/set', undefined, { 'X-Header-Set': 'set-overwrites-values' }),
        c('/set', 'X-Header-Set: some-other-value', { 'X-Header-Set': 'set-overwrites-values' }),
        c('/add', undefined, { 'X-Header-Add': 'add-appends-values' }),
        c('/add', 'X-Header-Add: some-other-value', { 'X-Header-Add': 'some-other-value,add-appends-values' }),
        c('/remove', 'X-Header-Remove: val', {}, ['X-Header-Remove']),
        c(
          '/multiple',
          'X-Header-Set-2: set-val-2, X-Header-Add-2: add-val-2, X-Header-Remove-2: remove-val-2, Another-Header: another-header-val',
          { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val' },
          ['X-Header-Remove-1', 'X-Header-Remove-2'],
        ),
      ]);
    },
  },
  {
    name: 'HTTPRouteRedirectHostAndStatus',
    description: 'An HTTPRoute with hostname and status code redirect filters.',
    features: ['Gateway', 'HTTPRoute'],
    manifests: route('redirect-host-and-status', `${parentSame}\n  rules:\n${redirectRule('/hostname-redirect', 'hostname: example.org')}\n${redirectRule('/host-and-status', 'hostname: example.org, statusCode: 301')}`),
    async run(h) {
      await expectAll(h, SAME, ['redirect-host-and-status'], [redirected('/hostname-redirect', 302, { host: 'example.org' }), redirected('/host-and-status', 301, { host: 'example.org' })]);
    },
  },
  {
    name: 'HTTPRouteRedirectPath',
    description: 'An HTTPRoute with path redirects: a prefix replaced, the full path replaced.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRoutePathRedirect'],
    manifests: route(
      'redirect-path',
      `${parentSame}\n  rules:\n${redirectRule('/original-prefix', 'path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}')}\n${redirectRule('/full', 'path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}')}\n${redirectRule('/path-and-host', 'hostname: example.org, path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}')}\n${redirectRule('/path-and-status', 'path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}, statusCode: 301')}\n${redirectRule('/full-path-and-host', 'hostname: example.org, path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}')}\n${redirectRule('/full-path-and-status', 'path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}, statusCode: 301')}`,
    ),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'redirect-path' }]);
      const host = address;
      for (const c of [
        redirected('/original-prefix/lemon', 302, { path: '/replacement-prefix/lemon', host }),
        redirected('/full/path/original', 302, { path: '/full-path-replacement', host }),
        redirected('/path-and-host', 302, { path: '/replacement-prefix', host: 'example.org' }),
        redirected('/path-and-status', 301, { path: '/replacement-full', host }),
        redirected('/full-path-and-host', 302, { path: '/replacement-full', host: 'example.org' }),
        redirected('/full-path-and-status', 301, { path: '/replacement-full', host }),
      ])
        await h.expect(address, c);
    },
  },
  {
    name: 'HTTPRouteRedirectPort',
    description: 'An HTTPRoute with a port redirect (alone, with a hostname, with a status code).',
    features: ['Gateway', 'HTTPRoute', 'HTTPRoutePortRedirect'],
    manifests: route('redirect-port', `${parentSame}\n  rules:\n${redirectRule('/port', 'port: 8083')}\n${redirectRule('/port-and-host', 'hostname: example.org, port: 8083')}\n${redirectRule('/port-and-status', 'port: 8083, statusCode: 301')}\n${redirectRule('/port-and-host-and-status', 'hostname: example.org, port: 8083, statusCode: 301')}`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'redirect-port' }]);
      for (const c of [
        redirected('/port', 302, { port: '8083', host: address }),
        redirected('/port-and-host', 302, { port: '8083', host: 'example.org' }),
        redirected('/port-and-status', 301, { port: '8083', host: address }),
        redirected('/port-and-host-and-status', 301, { port: '8083', host: 'example.org' }),
      ])
        await h.expect(address, c);
    },
  },
  {
    name: 'HTTPRouteRedirectScheme',
    description: 'An HTTPRoute with a scheme redirect (alone, with a hostname, with a status code).',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteSchemeRedirect'],
    manifests: route('redirect-scheme', `${parentSame}\n  rules:\n${redirectRule('/scheme', 'scheme: https')}\n${redirectRule('/scheme-and-host', 'hostname: example.org, scheme: https')}\n${redirectRule('/scheme-and-status', 'scheme: https, statusCode: 301')}\n${redirectRule('/scheme-and-host-and-status', 'scheme: https, statusCode: 302, hostname: example.org')}`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'redirect-scheme' }]);
      for (const c of [
        redirected('/scheme', 302, { scheme: 'https', host: address }),
        redirected('/scheme-and-host', 302, { scheme: 'https', host: 'example.org' }),
        redirected('/scheme-and-status', 301, { scheme: 'https', host: address }),
        redirected('/scheme-and-host-and-status', 302, { scheme: 'https', host: 'example.org' }),
      ])
        await h.expect(address, c);
    },
  },
  {
    name: 'HTTPRouteRedirectPortAndScheme',
    description: 'Port and scheme redirects from listeners on 80, 8080 and 443: a redirect keeps the listener port unless the scheme changes.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRoutePortRedirect', 'GatewayPort8080'],
    manifests: (() => {
      const rules = (cases: Array<[string, string]>) => cases.map(([path, r]) => redirectRule(path, `hostname: example.org${r}`)).join('\n');
      return [
        gateway('same-namespace-with-http-listener-on-8080', '  - {name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}'),
        route('http-route-for-listener-on-port-80', `  parentRefs: [{name: same-namespace}]\n  rules:\n${rules([['/scheme-nil-and-port-nil', ''], ['/scheme-nil-and-port-80', ', port: 80'], ['/scheme-nil-and-port-8080', ', port: 8080'], ['/scheme-https-and-port-nil', ', scheme: https'], ['/scheme-https-and-port-443', ', scheme: https, port: 443'], ['/scheme-https-and-port-8443', ', scheme: https, port: 8443']])}`),
        route('http-route-for-listener-on-port-8080', `  parentRefs: [{name: same-namespace-with-http-listener-on-8080}]\n  rules:\n${rules([['/scheme-nil-and-port-nil', ''], ['/scheme-nil-and-port-80', ', port: 80'], ['/scheme-https-and-port-nil', ', scheme: https']])}`),
        route('http-route-for-listener-on-port-443', `  parentRefs: [{name: same-namespace-with-https-listener, sectionName: https}]\n  hostnames: [example.org]\n  rules:\n${rules([['/scheme-nil-and-port-nil', ''], ['/scheme-nil-and-port-443', ', port: 443'], ['/scheme-nil-and-port-8443', ', port: 8443'], ['/scheme-http-and-port-nil', ', scheme: http'], ['/scheme-http-and-port-80', ', scheme: http, port: 80'], ['/scheme-http-and-port-8080', ', scheme: http, port: 8080']])}`),
      ].join('');
    })(),
    async run(h) {
      const at80 = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'http-route-for-listener-on-port-80' }]);
      for (const c of [
        redirected('/scheme-nil-and-port-nil', 302, { scheme: 'http', host: 'example.org' }),
        redirected('/scheme-nil-and-port-80', 302, { scheme: 'http', host: 'example.org' }),
        redirected('/scheme-nil-and-port-8080', 302, { scheme: 'http', host: 'example.org', port: '8080' }),
        redirected('/scheme-https-and-port-nil', 302, { scheme: 'https', host: 'example.org' }),
        redirected('/scheme-https-and-port-443', 302, { scheme: 'https', host: 'example.org' }),
        redirected('/scheme-https-and-port-8443', 302, { scheme: 'https', host: 'example.org', port: '8443' }),
      ])
        await h.expect(at80, c);
      const at8080 = await h.gatewayAndRoutesAccepted({ name: 'same-namespace-with-http-listener-on-8080' }, [{ name: 'http-route-for-listener-on-port-8080' }]);
      for (const c of [
        redirected('/scheme-nil-and-port-nil', 302, { scheme: 'http', host: 'example.org', port: '8080' }),
        redirected('/scheme-nil-and-port-80', 302, { scheme: 'http', host: 'example.org' }),
        redirected('/scheme-https-and-port-nil', 302, { scheme: 'https', host: 'example.org' }),
      ])
        await h.expect(at8080, c, 8080);
      const at443 = await h.gatewayAndRoutesAccepted({ name: 'same-namespace-with-https-listener' }, [{ name: 'http-route-for-listener-on-port-443' }]);
      for (const c of [
        redirected('/scheme-nil-and-port-nil', 302, { scheme: 'https', host: 'example.org' }, 'example.org', true),
        redirected('/scheme-nil-and-port-443', 302, { scheme: 'https', host: 'example.org' }, 'example.org', true),
        redirected('/scheme-nil-and-port-8443', 302, { scheme: 'https', host: 'example.org', port: '8443' }, 'example.org', true),
        redirected('/scheme-http-and-port-nil', 302, { scheme: 'http', host: 'example.org' }, 'example.org', true),
        redirected('/scheme-http-and-port-80', 302, { scheme: 'http', host: 'example.org' }, 'example.org', true),
        redirected('/scheme-http-and-port-8080', 302, { scheme: 'http', host: 'example.org', port: '8080' }, 'example.org', true),
      ])
        await h.expect(at443, c);
    },
  },
  ...[303, 307, 308].map(
    (code): ConformanceTest => ({
      name: `HTTPRoute${code}Redirect`,
      description: `An HTTPRoute redirect with status code ${code}.`,
      features: ['Gateway', 'HTTPRoute', `HTTPRoute${code}RedirectStatusCode`],
      manifests: route(`redirect-${code}`, `${parentSame}\n  rules:\n${redirectRule(`/redirect-${code}`, `hostname: example.org, statusCode: ${code}`)}`),
      async run(h) {
        await expectAll(h, SAME, [`redirect-${code}`], [redirected(`/redirect-${code}`, code, { host: 'example.org', path: `/redirect-${code}` })]);
      },
    }),
  ),
  {
    name: 'HTTPRouteRewriteHost',
    description: 'An HTTPRoute with a hostname rewrite filter (alone and with header modifiers).',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteHostRewrite'],
    manifests: route(
      'rewrite-host',
      `  parentRefs: [{name: same-namespace}]
  hostnames: [rewrite.example]
  rules:
  - matches: [{path: {value: /one}}]
    filters: [{type: URLRewrite, urlRewrite: {hostname: one.example.org}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - filters: [{type: URLRewrite, urlRewrite: {hostname: example.org}}]
    backendRefs: [${backend('infra-backend-v2')}]`,
    ),
    async run(h) {
      const c = (path: string, seenHost: string, b: string): ExpectedResponse => ({ request: { path, host: 'rewrite.example' }, backendRequest: { host: seenHost }, backend: b, namespace: INFRA });
      await expectAll(h, SAME, ['rewrite-host'], [c('/one', 'one.example.org', 'infra-backend-v1'), c('/two', 'example.org', 'infra-backend-v2')]);
    },
  },
  {
    name: 'HTTPRouteRewritePath',
    description: 'An HTTPRoute with path rewrite filters: a prefix replaced (also by "/"), the full path replaced, with header modifiers.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRoutePathRewrite'],
    manifests: route(
      'rewrite-path',
      `${parentSame}
  rules:
  - matches: [{path: {type: PathPrefix, value: /prefix/one}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /one}}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /strip-prefix}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /full/one}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /one}}}]
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /full/rewrite-path-and-modify-headers}}]
    filters:
    - {type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /test}}}
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}], add: [{name: X-Header-Add, value: header-val-1}, {name: X-Header-Add-Append, value: header-val-2}], remove: [X-Header-Remove]}
    backendRefs: [${backend('infra-backend-v1')}]
  - matches: [{path: {type: PathPrefix, value: /prefix/rewrite-path-and-modify-headers}}]
    filters:
    - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /prefix}}}
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}], add: [{name: X-Header-Add, value: header-val-1}, {name: X-Header-Add-Append, value: header-val-2}], remove: [X-Header-Remove]}
    backendRefs: [${backend('infra-backend-v1')}]`,
    ),
    async run(h) {
      const c = (path: string, seen: string, headers?: Record<string, string>): ExpectedResponse => ({
        request: { path, ...(headers ? { headers: { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' } } : {}) },
        backendRequest: { path: seen, ...(headers ? { headers, absentHeaders: ['X-Header-Remove'] } : {}) },
        backend: 'infra-backend-v1',
        namespace: INFRA,
      });
      const modified = { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' };
      await expectAll(h, SAME, ['rewrite-path'], [
        c('/prefix/one/two', '/one/two'),
        c('/strip-prefix/three', '/three'),
        c('/strip-prefix', '/'),
        c('/full/one/two', '/one'),
        c('/full/rewrite-path-and-modify-headers/test', '/test', modified),
        c('/prefix/rewrite-path-and-modify-headers/one', '/prefix/one', modified),
      ]);
    },
  },
  ...mirrorTests(),
  {
    name: 'HTTPRouteTimeoutRequest',
    description: 'An HTTPRoute request timeout cuts a slow backend with 504; without the delay the request succeeds.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteRequestTimeout'],
    manifests: route('request-timeout', `${parentSame}\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /request-timeout}}]\n    timeouts: {request: 500ms}\n    backendRefs: [${backend('infra-backend-v1')}]\n  - matches: [{path: {type: PathPrefix, value: /disable-request-timeout}}]\n    timeouts: {request: 0s}\n    backendRefs: [${backend('infra-backend-v1')}]`),
    async run(h) {
      await expectAll(h, SAME, ['request-timeout'], [
        { request: { path: '/request-timeout' }, backend: 'infra-backend-v1', namespace: INFRA },
        { request: { path: '/request-timeout?delay=1s' }, response: { status: 504 } },
        { request: { path: '/disable-request-timeout?delay=1s' }, backend: 'infra-backend-v1', namespace: INFRA },
      ]);
    },
  },
  {
    name: 'HTTPRouteTimeoutBackendRequest',
    description: 'An HTTPRoute backendRequest timeout cuts each try at a slow backend with 504.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteBackendTimeout'],
    manifests: route('backend-request-timeout', `${parentSame}\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /backend-timeout}}]\n    timeouts: {request: 5s, backendRequest: 500ms}\n    backendRefs: [${backend('infra-backend-v1')}]`),
    async run(h) {
      await expectAll(h, SAME, ['backend-request-timeout'], [
        { request: { path: '/backend-timeout' }, backend: 'infra-backend-v1', namespace: INFRA },
        { request: { path: '/backend-timeout?delay=1s' }, response: { status: 504 } },
      ]);
    },
  },
  {
    name: 'HTTPRouteBackendProtocolH2C',
    description: 'A backend port with appProtocol kubernetes.io/h2c is reached over HTTP/2 cleartext, from an h2c client.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteBackendProtocolH2C'],
    manifests: route('backend-protocol-h2c', `${parentSame}\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8081}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'backend-protocol-h2c' }]);
      await h.eventually('an h2c request reaches the h2c port', async () => {
        const r = await h2cGet(address, 80, '/h2c');
        if (r.status !== 200) return `status ${r.status}: ${r.body.slice(0, 80)}`;
        const echoed = JSON.parse(r.body) as { proto: string; pod: string };
        return echoed.proto === 'HTTP/2.0' && echoed.pod.startsWith('infra-backend-v1') ? undefined : `echoed ${r.body.slice(0, 120)}`;
      }, 30_000);
    },
  },
  {
    name: 'HTTPRouteBackendProtocolWebSocket',
    description: 'A backend port with appProtocol kubernetes.io/ws takes a WebSocket upgrade through the Gateway and echoes messages.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteBackendProtocolWebSocket'],
    manifests: route('backend-protocol-ws', `${parentSame}\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8082}]}]`),
    async run(h) {
      const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'backend-protocol-ws' }]);
      await h.eventually('a WebSocket message echoed', async () => {
        const echoed = await webSocketEcho(address, 80, '/ws', 'Hello, World!');
        return echoed === 'Hello, World!' ? undefined : `got ${JSON.stringify(echoed)}`;
      }, 30_000);
    },
  },
  {
    name: 'HTTPRouteInvalidParentRefNotMatchingListenerPort',
    description: 'An HTTPRoute whose parentRef names a port no listener has is not Accepted (NoMatchingParent).',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteParentRefPort'],
    manifests: route('httproute-listener-not-matching-route-port', `  parentRefs: [{name: same-namespace, port: 81}]\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
    async run(h) {
      await h.routeCondition({ name: 'httproute-listener-not-matching-route-port' }, SAME, { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' });
    },
  },
  {
    name: 'HTTPRouteInvalidParentRefSectionNameNotMatchingPort',
    description: 'An HTTPRoute whose parentRef names a listener and a port that listener does not have is not Accepted (NoMatchingParent).',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteParentRefPort'],
    manifests: route('httproute-listener-not-matching-section-name-and-port', `  parentRefs: [{name: same-namespace, sectionName: http, port: 81}]\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
    async run(h) {
      await h.routeCondition({ name: 'httproute-listener-not-matching-section-name-and-port' }, SAME, { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' });
    },
  },
  {
    name: 'HTTPRouteListenerPortMatching',
    description: 'HTTPRoutes attached by parentRef port serve only the listeners on that port.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteParentRefPort', 'GatewayPort8080'],
    manifests: [
      gateway('httproute-listener-port-matching', '  - {name: http-80, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}\n  - {name: http-8080, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}\n  - {name: http-8090, port: 8090, protocol: HTTP, hostname: foo.example.com, allowedRoutes: {namespaces: {from: Same}}}'),
      route('backend-v1', `  parentRefs: [{name: httproute-listener-port-matching, port: 80}]\n  rules: [{backendRefs: [${backend('infra-backend-v1')}]}]`),
      route('backend-v2', `  parentRefs: [{name: httproute-listener-port-matching, port: 8080}]\n  rules: [{backendRefs: [${backend('infra-backend-v2')}]}]`),
      route('backend-v3', `  parentRefs: [{name: httproute-listener-port-matching, port: 8090}]\n  rules: [{backendRefs: [${backend('infra-backend-v3')}]}]`),
    ].join(''),
    async run(h) {
      const gw = { name: 'httproute-listener-port-matching' };
      const address = await h.gatewayAndRoutesAccepted(gw, [{ name: 'backend-v1' }, { name: 'backend-v2' }, { name: 'backend-v3' }]);
      await h.expect(address, to('infra-backend-v1', '/'), 80);
      await h.expect(address, to('infra-backend-v2', '/'), 8080);
      await h.expect(address, to('infra-backend-v3', '/', undefined, 'foo.example.com'), 8090);
      await h.expect(address, notFound('/', undefined, 'bar.example.com'), 8090);
    },
  },
  {
    name: 'HTTPRouteNamedRule',
    description: 'An HTTPRoute with named rules routes as without names.',
    features: ['Gateway', 'HTTPRoute', 'HTTPRouteNamedRouteRule'],
    manifests: route('named-rule', `${parentSame}\n  rules:\n  - name: named-rule\n    matches: [{path: {value: /named}}]\n    backendRefs: [${backend('infra-backend-v1')}]\n  - matches: [{path: {value: /unnamed}}]\n    backendRefs: [${backend('infra-backend-v2')}]`),
    async run(h) {
      await expectAll(h, SAME, ['named-rule'], [to('infra-backend-v1', '/named'), to('infra-backend-v2', '/unnamed')]);
    },
  },
  {
    name: 'GatewayHTTPListenerIsolation',
    description: 'Requests for a hostname a more specific listener claims are routed only by the routes of that listener.',
    features: ['Gateway', 'HTTPRoute', 'GatewayHTTPListenerIsolation'],
    manifests: [
      gateway(
        'http-listener-isolation',
        [
          ['empty-hostname', ''],
          ['wildcard-example-com', ', hostname: "*.example.com"'],
          ['wildcard-foo-example-com', ', hostname: "*.foo.example.com"'],
          ['abc-foo-example-com', ', hostname: abc.foo.example.com'],
        ]
          .map(([name, host]) => `  - {name: ${name}, port: 80, protocol: HTTP${host}, allowedRoutes: {namespaces: {from: Same}}}`)
          .join('\n'),
      ),
      ...[
        ['attaches-to-empty-hostname', 'empty-hostname', 'infra-backend-v1'],
        ['attaches-to-wildcard-example-com', 'wildcard-example-com', 'infra-backend-v1'],
        ['attaches-to-wildcard-foo-example-com', 'wildcard-foo-example-com', 'infra-backend-v2'],
        ['attaches-to-abc-foo-example-com', 'abc-foo-example-com', 'infra-backend-v3'],
      ].map(([name, listener, b]) => route(name!, `  parentRefs: [{name: http-listener-isolation, sectionName: ${listener}}]\n  rules: [{matches: [{path: {type: PathPrefix, value: /${listener}}}], backendRefs: [${backend(b!)}]}]`)),
    ].join(''),
    async run(h) {
      const routes = ['attaches-to-empty-hostname', 'attaches-to-wildcard-example-com', 'attaches-to-wildcard-foo-example-com', 'attaches-to-abc-foo-example-com'];
      const cases: ExpectedResponse[] = [];
      const paths = ['/empty-hostname', '/wildcard-example-com', '/wildcard-foo-example-com', '/abc-foo-example-com'];
      const backends = ['infra-backend-v1', 'infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3'];
      // Each host is owned by exactly one listener; only that listener's path routes, every other path is 404.
      for (const [host, owner] of [['bar.com', 0], ['bar.example.com', 1], ['bar.foo.example.com', 2], ['abc.foo.example.com', 3]] as const) {
        paths.forEach((p, i) => cases.push(i === owner ? to(backends[i]!, p, undefined, host) : notFound(p, undefined, host)));
      }
      await expectAll(h, { name: 'http-listener-isolation' }, routes, cases);
    },
  },
];

/** RequestMirror: one mirror, several, and a fraction of requests; a mirrored request shows in the mirror's log. */
function mirrorTests(): ConformanceTest[] {
  const mirrorRule = (path: string, mirrors: string[]) => `  - matches: [{path: {type: PathPrefix, value: ${path}}}]\n    filters:\n${mirrors.map((m) => `    - {type: RequestMirror, requestMirror: {${m}}}`).join('\n')}\n    backendRefs: [${backend('infra-backend-v1')}]`;
  const seenBy = async (h: Harness, address: string, path: string, mirrors: string[]) => {
    const mark = h.logMark();
    await h.expect(address, to('infra-backend-v1', path));
    for (const m of mirrors) await h.eventually(`${path} mirrored to ${m}`, async () => (h.echoedSince(mark, m, path) ? undefined : 'not in its log yet'), 10_000);
  };
  return [
    {
      name: 'HTTPRouteRequestMirror',
      description: 'An HTTPRoute with a request mirror filter: the backend answers, the mirror receives a copy.',
      features: ['Gateway', 'HTTPRoute', 'HTTPRouteRequestMirror'],
      manifests: route('request-mirror', `${parentSame}\n  rules:\n${mirrorRule('/mirror', ['backendRef: {name: infra-backend-v2, namespace: gateway-conformance-infra, port: 8080}'])}`),
      async run(h) {
        const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'request-mirror' }]);
        await seenBy(h, address, '/mirror', ['infra-backend-v2']);
      },
    },
    {
      name: 'HTTPRouteRequestMultipleMirrors',
      description: 'An HTTPRoute with several request mirror filters: every mirror receives a copy.',
      features: ['Gateway', 'HTTPRoute', 'HTTPRouteRequestMirror', 'HTTPRouteRequestMultipleMirrors'],
      manifests: route('request-multiple-mirrors', `${parentSame}\n  rules:\n${mirrorRule('/multi-mirror', ['backendRef: {name: infra-backend-v2, port: 8080}', 'backendRef: {name: infra-backend-v3, port: 8080}'])}`),
      async run(h) {
        const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'request-multiple-mirrors' }]);
        await seenBy(h, address, '/multi-mirror', ['infra-backend-v2', 'infra-backend-v3']);
      },
    },
    {
      name: 'HTTPRouteRequestPercentageMirror',
      description: 'Request mirrors with percent and fraction: about that share of requests is mirrored.',
      features: ['Gateway', 'HTTPRoute', 'HTTPRouteRequestMirror', 'HTTPRouteRequestPercentageMirror'],
      manifests: route('request-percentage-mirror', `${parentSame}\n  rules:\n${mirrorRule('/percent-mirror', ['backendRef: {name: infra-backend-v2, port: 8080}, percent: 20'])}\n${mirrorRule('/percent-mirror-fraction', ['backendRef: {name: infra-backend-v2, port: 8080}, fraction: {numerator: 1, denominator: 2}'])}`),
      async run(h) {
        const address = await h.gatewayAndRoutesAccepted(SAME, [{ name: 'request-percentage-mirror' }]);
        for (const [path, share] of [['/percent-mirror', 0.2], ['/percent-mirror-fraction', 0.5]] as const) {
          await h.expect(address, to('infra-backend-v1', path));
          const n = 200;
          const mark = h.logMark();
          for (let i = 0; i < n; i++) assert.equal((await h.send(address, { path: `${path}?i=${i}` })).status, 200);
          // Mirrors finish after their requests: count once the log stops growing for the mirror.
          let mirrored = 0;
          await h.eventually(`${path} mirrors counted`, async () => {
            const now = Array.from({ length: n }, (_, i) => i).filter((i) => h.echoedSince(mark, 'infra-backend-v2', `${path}?i=${i}`)).length;
            const settled = now === mirrored && now > 0;
            mirrored = now;
            return settled ? undefined : 'still arriving';
          }, 10_000);
          const sd = Math.sqrt((share * (1 - share)) / n);
          assert.ok(Math.abs(mirrored / n - share) <= 4 * sd, `${path}: ${mirrored}/${n} mirrored, expected about ${share}`);
        }
      },
    },
  ];
}

/** One GET over HTTP/2 cleartext (prior knowledge), as an h2c client sends it. */
function h2cGet(address: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://${address}:${port}`);
    client.on('error', reject);
    const req = client.request({ ':path': path, ':authority': 'h2c.example' });
    let body = '';
    let status = 0;
    req.on('response', (headers) => (status = Number(headers[':status'])));
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      client.close();
      resolve({ status, body });
    });
    req.on('error', (err) => {
      client.close();
      reject(err);
    });
    req.setTimeout(5000, () => req.close());
    req.end();
  });
}

/** A WebSocket client's round trip: the upgrade, one masked text frame, the echoed frame's text. */
function webSocketEcho(address: string, port: number, path: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, address);
    const key = createHash('sha1').update(String(Math.random())).digest('base64').slice(0, 24);
    const payload = Buffer.from(message);
    const mask = Buffer.from([7, 1, 4, 2]);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no WebSocket echo in 2 s'))), 2000);
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!))]));
    });
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      if (!/^HTTP\/1\.1 101/.test(buf.toString('latin1', 0, 12))) {
        clearTimeout(timer);
        socket.destroy();
        resolve(`no upgrade: ${buf.toString('latin1', 0, head)}`);
        return;
      }
      const frame = buf.subarray(head + 4);
      if (frame.length < 2 || frame.length < 2 + (frame[1]! & 0x7f)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(frame.subarray(2, 2 + (frame[1]! & 0x7f)).toString());
    });
    socket.on('error', (err) => (clearTimeout(timer), reject(err)));
  });
}
