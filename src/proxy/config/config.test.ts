// The compile step on its own: matchers, virtual host selection, actions, clusters and listeners, and the issues it reports.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigCode, IssueSink, ProxyConfigError } from '../errors.js';
import { cla, edsCluster, httpListener, routeConfig, routeTo, T, vhost } from '../testing.js';
import { compileCluster } from './cluster-config.js';
import { applyHeaderMutation, compileHeaderMutation, type HeaderFormatContext } from './header-mutation.js';
import type { MatchInput } from './match-input.js';
import { compileSnapshot } from './snapshot.js';
import { applyRegexRewrite, compileRegexRewrite, compileStringMatcher } from './string-matcher.js';
import { fraction } from './values.js';
import { protoDurationMs } from '../../duration.js';
import { RouteTable } from './route-table.js';

function input(method: string, authority: string, path: string, headers: Record<string, string> = {}): MatchInput {
  const q = path.indexOf('?');
  const query = q < 0 ? '' : path.slice(q + 1);
  return {
    method,
    authority,
    pathOnly: q < 0 ? path : path.slice(0, q),
    query,
    isGrpc: headers['content-type']?.startsWith('application/grpc') ?? false,
    header: (n) => (n === ':method' ? method : n === ':authority' ? authority : headers[n]),
    queryParams: () => new URLSearchParams(query),
  };
}

describe('values', () => {
  test('durations and fractional percents', () => {
    assert.equal(protoDurationMs('1.5s'), 1500);
    assert.equal(protoDurationMs('0.010s'), 10);
    assert.equal(protoDurationMs('0s'), 0);
    assert.equal(protoDurationMs({ seconds: '2', nanos: 500_000_000 }), 2500);
    assert.equal(protoDurationMs('10ms'), undefined);
    assert.equal(fraction({ numerator: 50 }), 0.5);
    assert.equal(fraction({ numerator: 2500, denominator: 'TEN_THOUSAND' }), 0.25);
    assert.equal(fraction({ numerator: 1, denominator: 'MILLION' }), 1e-6);
    assert.equal(fraction(undefined), 0);
  });
});

describe('matchers', () => {
  test('string matchers, including ignoreCase and RE2 syntax', () => {
    assert.ok(compileStringMatcher({ exact: 'Abc', ignoreCase: true })('aBC'));
    assert.ok(compileStringMatcher({ prefix: '/api' })('/api/x'));
    assert.ok(compileStringMatcher({ suffix: '.css' })('a.css'));
    assert.ok(compileStringMatcher({ contains: 'mid' })('amidst'));
    assert.ok(compileStringMatcher({ safeRegex: { regex: '(?i)v[0-9]+' } })('V12'));
    assert.ok(!compileStringMatcher({ safeRegex: { regex: 'v[0-9]+' } })('v12x'), 'safe_regex is a full match');
    assert.ok(compileStringMatcher({ safeRegex: { regex: '(?P<ver>v\\d)' } })('v1'));
    assert.throws(() => compileStringMatcher({ safeRegex: { regex: '(' } }), SyntaxError);
  });

  test('regex rewrite uses RE2 \\1 references and replaces every match', () => {
    const r = compileRegexRewrite({ pattern: { regex: '/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' });
    assert.equal(applyRegexRewrite(r, '/service/foo/v1/api'), '/v1/api/instance/foo');
    const all = compileRegexRewrite({ pattern: { regex: 'o' }, substitution: '0' });
    assert.equal(applyRegexRewrite(all, 'foo/boo'), 'f00/b00');
  });
});

describe('route table', () => {
  const sink = () => new IssueSink();
  const table = new RouteTable(
    routeConfig('r', [
      vhost('exact', ['a.com', 'a.com:80'], [routeTo('exact')]),
      vhost('longer-suffix', ['*.b.a.com'], [routeTo('longer')]),
      vhost('suffix', ['*.a.com'], [routeTo('suffix')]),
      vhost('prefix', ['api.*'], [routeTo('prefix')]),
      vhost('star', ['*'], [
        routeTo('grpc', { prefix: '/', grpc: {} }),
        routeTo('inv', { prefix: '/inv', headers: [{ name: 'x-v', exactMatch: 'v1', invertMatch: true }] }),
        routeTo('range', { prefix: '/range', headers: [{ name: 'x-n', rangeMatch: { start: '10', end: '20' } }] }),
        routeTo('absent', { prefix: '/absent', headers: [{ name: 'x-v', presentMatch: false }] }),
        routeTo('q', { prefix: '/q', queryParameters: [{ name: 'debug' }] }),
        routeTo('default', { prefix: '/' }),
      ]),
    ]),
    sink(),
  );
  const clusterOf = (i: MatchInput) => {
    const r = table.route(i);
    return r?.action.kind === 'forward' ? r.action.cluster : undefined;
  };

  test('domain precedence: exact, longest suffix wildcard, prefix wildcard, then *', () => {
    assert.equal(clusterOf(input('GET', 'a.com', '/')), 'exact');
    assert.equal(clusterOf(input('GET', 'a.com:80', '/')), 'exact');
    assert.equal(clusterOf(input('GET', 'x.b.a.com', '/')), 'longer');
    assert.equal(clusterOf(input('GET', 'x.a.com', '/')), 'suffix');
    assert.equal(clusterOf(input('GET', 'api.other', '/')), 'prefix');
    assert.equal(clusterOf(input('GET', 'zzz', '/')), 'default');
  });

  test('header semantics: inverted exact needs the header present; ranges; "not present"; gRPC', () => {
    assert.equal(clusterOf(input('GET', 'z', '/inv', { 'x-v': 'v2' })), 'inv');
    assert.equal(clusterOf(input('GET', 'z', '/inv')), 'default', 'an absent header never matches a value matcher, even inverted');
    assert.equal(clusterOf(input('GET', 'z', '/range', { 'x-n': '15' })), 'range');
    assert.equal(clusterOf(input('GET', 'z', '/range', { 'x-n': '20' })), 'default');
    assert.equal(clusterOf(input('GET', 'z', '/absent')), 'absent');
    assert.equal(clusterOf(input('GET', 'z', '/absent', { 'x-v': '1' })), 'default');
    assert.equal(clusterOf(input('POST', 'z', '/x', { 'content-type': 'application/grpc+proto' })), 'grpc');
    assert.equal(clusterOf(input('GET', 'z', '/q?debug')), 'q');
  });
});

describe('header mutations', () => {
  const ctx: HeaderFormatContext = {
    downstreamRemoteAddress: '10.1.2.3',
    downstreamRemotePort: 5555,
    downstreamLocalAddress: '10.0.0.1',
    downstreamLocalPort: 9080,
    protocolName: 'HTTP/1.1',
    requestHeader: (n) => (n === 'x-in' ? 'incoming' : undefined),
    upstreamHostId: undefined,
    startTimeMs: 0,
  };

  test('append actions and Envoy commands', () => {
    const sink = new IssueSink();
    const m = compileHeaderMutation(
      [
        { header: { key: 'x-append', value: 'b' } },
        { header: { key: 'x-if-absent', value: 'new' }, appendAction: 'ADD_IF_ABSENT' },
        { header: { key: 'x-overwrite', value: 'new' }, append: false },
        { header: { key: 'x-only-existing', value: 'new' }, appendAction: 'OVERWRITE_IF_EXISTS' },
        { header: { key: 'x-client', value: '%DOWNSTREAM_REMOTE_ADDRESS%' } },
        { header: { key: 'x-copy', value: 'from %REQ(x-in)% 100%%' } },
        { header: { key: 'x-empty', value: '' } },
      ],
      ['x-gone'],
      sink,
      '',
      'requestHeadersToAdd',
      'requestHeadersToRemove',
    );
    const h: Record<string, string | string[] | undefined> = { 'x-append': 'a', 'x-if-absent': 'old', 'x-overwrite': 'old', 'x-gone': '1' };
    applyHeaderMutation(m, h, ctx);
    assert.deepEqual(h['x-append'], ['a', 'b']);
    assert.equal(h['x-if-absent'], 'old');
    assert.equal(h['x-overwrite'], 'new');
    assert.equal(h['x-only-existing'], undefined);
    assert.equal(h['x-client'], '10.1.2.3:5555');
    assert.equal(h['x-copy'], 'from incoming 100%');
    assert.equal('x-empty' in h, false);
    assert.equal('x-gone' in h, false);
    assert.equal(sink.issues.length, 0);
  });
});

describe('clusters', () => {
  test('defaults follow Envoy: 1024/1024/1024/3 thresholds, 5 s connect timeout, panic 50%', () => {
    const c = compileCluster({ name: 'x', type: 'EDS' }, new IssueSink());
    assert.deepEqual(c.thresholds, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
    assert.equal(c.connectTimeoutMs, 5000);
    assert.equal(c.panicThresholdPercent, 50);
    assert.equal(c.protocol, 'http1');
  });

  test('Istio\'s shapes: DestinationRule limits, outlier detection, HTTP/2 protocol options', () => {
    const c = compileCluster(
      edsCluster('outbound|9080||reviews', {
        lbPolicy: 'LEAST_REQUEST',
        circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 4294967295 }] },
        outlierDetection: { consecutive5xx: 1, interval: '1s', baseEjectionTime: '180s', maxEjectionPercent: 100, enforcingConsecutive5xx: 100 },
        commonLbConfig: { healthyPanicThreshold: {} },
        typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': T.httpOptions, commonHttpProtocolOptions: { idleTimeout: '30s', maxRequestsPerConnection: 1 }, explicitHttpConfig: { http2ProtocolOptions: {} } } },
      }),
      new IssueSink(),
    );
    assert.equal(c.lbPolicy, 'LEAST_REQUEST');
    assert.equal(c.thresholds.maxConnections, 1);
    assert.equal(c.outlier?.consecutive5xx, 1);
    assert.equal(c.outlier?.baseEjectionTimeMs, 180_000);
    assert.equal(c.panicThresholdPercent, 0);
    assert.equal(c.protocol, 'http2');
    assert.equal(c.idleTimeoutMs, 30_000);
    assert.equal(c.maxRequestsPerConnection, 1);
  });
});

describe('snapshots', () => {
  const base = () => ({
    listeners: [httpListener('l', 'r')],
    routes: [routeConfig('r', [vhost('v', ['*'], [routeTo('c')])])],
    clusters: [edsCluster('c')],
    endpoints: [cla('c', [{ port: 1 }])],
  });

  test('a valid snapshot compiles with no issues', () => {
    const s = compileSnapshot(base());
    assert.deepEqual(s.issues, []);
    assert.equal(s.endpoints.get('c')![0]!.port, 1);
  });

  test('errors carry codes, the resource and a JSON pointer', () => {
    const s = base();
    s.routes[0]!.virtualHosts![0]!.routes![0]!.match = { safeRegex: { regex: '[' } };
    s.clusters.push({ name: 'c' });
    try {
      compileSnapshot(s);
      assert.fail('expected a rejection');
    } catch (e) {
      assert.ok(e instanceof ProxyConfigError);
      const got = e.issues.filter((i) => i.level === 'error').map((i) => `${i.code} ${i.resource}${i.field}`);
      assert.deepEqual(got.sort(), [`${ConfigCode.DuplicateName} Cluster/c`, `${ConfigCode.InvalidRegex} RouteConfiguration/r/virtualHosts/0/routes/0/match/safeRegex`].sort());
    }
  });

  test('an unknown HTTP filter rejects the listener unless optional or observe-only', () => {
    const s = base();
    const hcm = s.listeners[0]!.filterChains![0]!.filters![0]!.typedConfig as { httpFilters: Array<Record<string, unknown>> };
    hcm.httpFilters.unshift({ name: 'istio.stats', typedConfig: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct' } });
    assert.ok(compileSnapshot(s).issues.some((i) => i.code === ConfigCode.UnsupportedExtension && i.level === 'warning'));
    hcm.httpFilters.unshift({ name: 'envoy.filters.http.lua', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' } });
    assert.throws(() => compileSnapshot(s), (e: unknown) => e instanceof ProxyConfigError && e.issues.some((i) => i.code === ConfigCode.UnsupportedExtension && i.level === 'error'));
  });

  test('references to missing clusters and route configs are warnings (Envoy answers 503 NC / 404)', () => {
    const s = base();
    s.clusters = [];
    s.routes[0]!.name = 'other';
    const issues = compileSnapshot(s).issues.map((i) => i.code);
    assert.deepEqual(issues, [ConfigCode.UnknownReference, ConfigCode.UnknownReference]);
  });
});
