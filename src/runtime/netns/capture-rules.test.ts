// Istio's istio-iptables rules as Trellis writes them: the default capture, the pod annotations that narrow it, and the
// DNAT rules of pods without a sidecar. Loaded into a real namespace by netns.e2e.test.ts; here, what they say.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ambientRules, CaptureAnnotationError, captureOptionsOf, captureRules, serviceDnatRules } from './capture-rules.js';

const rules = (annotations: Record<string, string>, family: 4 | 6 = 4, dnsCapture = false) => captureRules(captureOptionsOf(annotations, { dnsCapture, extraInboundExclusions: [15000] }), family).split('\n');

test('by default every inbound port but the proxy\'s own goes to 15006, all outbound TCP to 15001, the proxy\'s uid excluded', () => {
  const r = rules({});
  assert.ok(r.includes('-A PREROUTING -p tcp -j ISTIO_INBOUND'));
  for (const p of [15008, 15090, 15021, 15020, 15000]) assert.ok(r.includes(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`), `inbound ${p} excluded`);
  assert.ok(r.includes('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT'));
  assert.ok(r.includes('-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006'));
  assert.ok(r.includes('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN'));
  assert.ok(r.includes('-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN'), 'the inbound passthrough source is never captured');
  assert.ok(r.includes('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'));
  assert.ok(r.includes('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001'));
  // The uid exclusion comes before the catch-all redirect, or the proxy would capture its own upstream connections.
  assert.ok(r.indexOf('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN') < r.indexOf('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'));
  assert.ok(!r.some((l) => l.includes('15053')), 'no DNS capture unless asked');
});

test('traffic.sidecar.istio.io annotations: includeOutboundIPRanges, excludeOutboundPorts, excludeInboundPorts', () => {
  const r = rules({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12, fd00:1::/64', 'traffic.sidecar.istio.io/excludeOutboundPorts': '5432', 'traffic.sidecar.istio.io/excludeInboundPorts': '9090,9091' });
  assert.ok(r.includes('-A ISTIO_OUTPUT -d 10.96.0.0/12 -j ISTIO_REDIRECT'));
  assert.ok(!r.includes('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'), 'only the listed ranges');
  assert.ok(!r.some((l) => l.includes('fd00:1::/64')), 'IPv6 ranges go to ip6tables only');
  assert.ok(rules({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12, fd00:1::/64' }, 6).includes('-A ISTIO_OUTPUT -d fd00:1::/64 -j ISTIO_REDIRECT'));
  assert.ok(r.indexOf('-A ISTIO_OUTPUT -p tcp --dport 5432 -j RETURN') < r.indexOf('-A ISTIO_OUTPUT -d 10.96.0.0/12 -j ISTIO_REDIRECT'));
  assert.ok(r.includes('-A ISTIO_INBOUND -p tcp --dport 9090 -j RETURN') && r.includes('-A ISTIO_INBOUND -p tcp --dport 9091 -j RETURN'));
  assert.ok(rules({ 'traffic.sidecar.istio.io/includeInboundPorts': '9080' }).includes('-A ISTIO_INBOUND -p tcp --dport 9080 -j ISTIO_IN_REDIRECT'));
  assert.equal(rules({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '' }).filter((l) => l.includes('ISTIO_REDIRECT') && l.startsWith('-A ISTIO_OUTPUT')).length, 0, 'an empty list captures nothing');
});

test('IPv6 rules use ::1 and ::6; DNS capture sends UDP and TCP 53 to 15053 except the proxy\'s own', () => {
  const r = rules({}, 6, true);
  assert.ok(r.includes('-A ISTIO_OUTPUT -d ::1/128 -j RETURN'));
  assert.ok(r.includes('-A ISTIO_OUTPUT -o lo -s ::6/128 -j RETURN'));
  assert.ok(r.includes('-A OUTPUT -p udp --dport 53 -m owner --uid-owner 1337 -j RETURN'));
  assert.ok(r.includes('-A OUTPUT -p udp --dport 53 -j REDIRECT --to-ports 15053'));
  assert.ok(r.includes('-A ISTIO_OUTPUT -p tcp --dport 53 -m owner ! --uid-owner 1337 -j REDIRECT --to-ports 15053'));
});

test('a bad annotation is an error naming it', () => {
  assert.throws(() => rules({ 'traffic.sidecar.istio.io/excludeOutboundPorts': '80,http' }), (e: Error) => e instanceof CaptureAnnotationError && /excludeOutboundPorts: "http" is not a port/.test(e.message));
  assert.throws(() => rules({ 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8;rm' }), /includeOutboundIPRanges: "10.0.0.0\/8;rm" is not a CIDR/);
});

test('pods without a sidecar: each ClusterIP:port DNATs to its endpoints with equal chances', () => {
  const r = serviceDnatRules([{ address: '10.200.16.1', port: 9080, endpoints: [{ address: '10.200.0.4', port: 9080 }, { address: '10.200.0.5', port: 9080 }, { address: 'fd00::5', port: 9080 }] }], 4).split('\n');
  assert.deepEqual(r.filter((l) => l.includes('DNAT')), [
    '-A TRELLIS_SERVICES -d 10.200.16.1/32 -p tcp --dport 9080 -m statistic --mode random --probability 0.50000 -j DNAT --to-destination 10.200.0.4:9080',
    '-A TRELLIS_SERVICES -d 10.200.16.1/32 -p tcp --dport 9080 -j DNAT --to-destination 10.200.0.5:9080',
  ]);
});

test("ambient pods: Istio's in-pod nat rules send outbound TCP to the node proxy's 15001, inbound (not HBONE) to 15006, the proxy's mark and lo excluded", () => {
  const v4 = ambientRules(4);
  assert.match(v4, /^\*nat\n/);
  assert.ok(v4.includes('-A ISTIO_PRERT -m mark --mark 0x539/0xfff -j ACCEPT'));
  assert.ok(v4.includes('-A ISTIO_PRERT ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -j REDIRECT --to-ports 15006'));
  assert.ok(v4.includes('-A ISTIO_OUTPUT -m mark --mark 0x539/0xfff -j ACCEPT'));
  assert.ok(v4.includes('-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -j ACCEPT'));
  assert.ok(v4.includes('-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -p tcp -j REDIRECT --to-ports 15001'));
  assert.ok(!v4.includes('TRELLIS_SERVICES'), 'no DNAT: the node proxy balances services');
  assert.ok(ambientRules(6).includes('! -d ::1/128 -p tcp -j REDIRECT --to-ports 15001'));
});
