// Tests of proxy selection from the environment: scheme-specific variables, lower case first, NO_PROXY forms.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bypassesProxy, proxyFor } from './proxy-env.js';

const u = (s: string): URL => new URL(s);

test('HTTP_PROXY/http_proxy for http, HTTPS_PROXY for https, ALL_PROXY as fallback', () => {
  assert.equal(proxyFor(u('http://reviews:9080/'), { HTTP_PROXY: 'http://127.0.0.1:15001' })?.host, '127.0.0.1:15001');
  assert.equal(proxyFor(u('http://reviews:9080/'), { http_proxy: '127.0.0.1:1', HTTP_PROXY: 'http://127.0.0.1:2' })?.port, '1');
  assert.equal(proxyFor(u('https://x/'), { HTTP_PROXY: 'http://p:1' }), undefined);
  assert.equal(proxyFor(u('https://x/'), { HTTPS_PROXY: 'http://p:1' })?.hostname, 'p');
  assert.equal(proxyFor(u('http://x/'), { ALL_PROXY: 'http://all:3' })?.hostname, 'all');
  assert.equal(proxyFor(u('http://x/'), {}), undefined);
});

test('NO_PROXY: names, subdomains, leading dots, wildcards, ports, IPs and CIDRs', () => {
  assert.ok(bypassesProxy(u('http://details:9080/'), 'details'));
  assert.ok(bypassesProxy(u('http://details.bookinfo.svc.cluster.local/'), '.cluster.local'));
  assert.ok(bypassesProxy(u('http://a.example.com/'), '*.example.com'));
  assert.ok(bypassesProxy(u('http://example.com/'), 'example.com'));
  assert.ok(!bypassesProxy(u('http://notexample.com/'), 'example.com'));
  assert.ok(bypassesProxy(u('http://anything/'), '*'));
  assert.ok(bypassesProxy(u('http://h:8080/'), 'h:8080'));
  assert.ok(!bypassesProxy(u('http://h:9090/'), 'h:8080'));
  assert.ok(bypassesProxy(u('http://10.1.2.3/'), '10.0.0.0/8'));
  assert.ok(!bypassesProxy(u('http://11.1.2.3/'), '10.0.0.0/8'));
  assert.ok(bypassesProxy(u('http://[::1]:80/'), 'localhost, ::1'));
  assert.equal(proxyFor(u('http://details:9080/'), { HTTP_PROXY: 'http://p:1', no_proxy: 'details' }), undefined);
});
