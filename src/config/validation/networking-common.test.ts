// Unit tests of the shared networking rules: host names and wildcards, the RE2 approximation, header values and namespace/host entries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fqdnProblem, hostsOverlap, hostSubsetOf, namespacedHostProblems, wildcardDomainProblem } from './networking-hosts.js';
import { headerValueProblem, regexProblem } from './networking-matching.js';

test('host names: wildcards only as the whole first label, lower case, no all-digit top-level domain', () => {
  for (const ok of ['*', '*.example.com', '*-foo.example.com', 'reviews', 'reviews.default.svc.cluster.local', 'istio.io.']) assert.equal(wildcardDomainProblem(ok), undefined, ok);
  for (const bad of ['', 'a.*.com', 'Reviews', 'a..b', 'host.123', 'under_score.com', `${'a'.repeat(64)}.com`]) assert.ok(wildcardDomainProblem(bad), bad);
  assert.ok(fqdnProblem('*.example.com'), 'a fully qualified name has no wildcard');
  assert.equal(fqdnProblem('api.example.com'), undefined);
});

test('host overlap and subset follow Istio wildcard semantics', () => {
  const overlaps: Array<[string, string, boolean]> = [
    ['a.com', 'a.com', true],
    ['a.com', 'b.com', false],
    ['*.a.com', 'x.a.com', true],
    ['*.a.com', '*.b.a.com', true],
    ['*.a.com', 'a.com', false],
    ['*', 'anything.io', true],
  ];
  for (const [a, b, expected] of overlaps) {
    assert.equal(hostsOverlap(a, b), expected, `${a} ~ ${b}`);
    assert.equal(hostsOverlap(b, a), expected, `${b} ~ ${a}`);
  }
  assert.equal(hostSubsetOf('x.a.com', '*.a.com'), true);
  assert.equal(hostSubsetOf('*.x.a.com', '*.a.com'), true);
  assert.equal(hostSubsetOf('*.a.com', 'x.a.com'), false);
  assert.equal(hostSubsetOf('*.a.com', '*.x.a.com'), false);
});

test('RE2 approximation accepts RE2-only syntax and rejects what RE2 cannot do', () => {
  for (const ok of ['(?i)^/api', '(?P<id>[0-9]+)', 'abc\\z', '[[:alpha:]]+', '\\Qa.b(c\\E', '[]a]', '(?s:.*)', '^/v[0-9]+/.*$']) assert.equal(regexProblem(ok), undefined, ok);
  assert.match(regexProblem('(?=admin)')!, /lookahead/);
  assert.match(regexProblem('(a)\\1')!, /backreferences/);
  assert.match(regexProblem('/api/(v1')!, /invalid regular expression/);
  assert.match(regexProblem('[[:letters:]]')!, /invalid character class/);
  assert.match(regexProblem('a'.repeat(1025))!, /too long/);
});

test('header values: %VARIABLE% expressions and %% escapes', () => {
  for (const ok of ['plain', '%HOSTNAME%', '100%%', 'pre %DOWNSTREAM_REMOTE_ADDRESS% post', '%REQ(x-request-id)%', '%START_TIME(%s.%3f)%', 'tab\there']) assert.equal(headerValueProblem(ok), undefined, ok);
  assert.match(headerValueProblem('100%')!, /un-escaped/);
  assert.match(headerValueProblem('%HOSTNAME')!, /unterminated/);
  assert.match(headerValueProblem('a\nb')!, /control characters/);
});

test('namespace/host entries for sidecars and gateways', () => {
  for (const ok of ['./*', '*/*', '~/*', 'istio-system/*', 'prod/*.example.com', '*/reviews.default.svc.cluster.local']) assert.deepEqual(namespacedHostProblems(ok, false), [], ok);
  assert.deepEqual(namespacedHostProblems('*.example.com', true), [], 'a gateway host may omit the namespace');
  assert.deepEqual(namespacedHostProblems('10.0.0.1', true), [], 'a gateway host may be an IP');
  assert.equal(namespacedHostProblems('a.example.com', false).length, 1, 'a sidecar host needs a namespace');
  assert.equal(namespacedHostProblems('~/a.example.com', true).length, 1, 'gateways take no "~" namespace');
  assert.equal(namespacedHostProblems('/a.example.com', false).length, 1);
  assert.ok(namespacedHostProblems('ns/a*.example.com', false).some((p) => p.includes('partial wildcard')));
});
