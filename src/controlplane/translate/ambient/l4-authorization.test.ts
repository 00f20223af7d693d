// AuthorizationPolicy as the node proxy enforces it: converted to Istio's `istio.security.Authorization` (through the
// real protobuf encoding, as ztunnels receive it) and evaluated with ztunnel's rules for sample connections.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadText } from '../../../config/loader.js';
import { authorize, type L4Connection } from '../../../proxy/ztunnel/l4-policy.js';
import { decodeToJson, encodeJson } from '../../../xds/codec.js';
import type { Authorization } from '../../../xds/istio/workload.js';
import { TypeUrl } from '../../../xds/resource.js';
import { authorizationPolicyYaml, pushContextOf } from '../testing.js';
import { wdsAuthorizations } from './l4-authorization.js';

const productpage = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
const sleep = 'spiffe://cluster.local/ns/other/sa/sleep';

/** The policies of `yaml`, as a ztunnel decodes them from the wire. */
function policies(yaml: string): Authorization[] {
  const { resources, errors } = loadText(yaml, 'policies.yaml');
  assert.deepEqual(errors, []);
  return wdsAuthorizations(pushContextOf(resources)).map((a) => decodeToJson(TypeUrl.Authorization, encodeJson(TypeUrl.Authorization, a as Record<string, unknown>)) as Authorization);
}

const conn = (o: Partial<L4Connection>): L4Connection => ({ sourcePrincipal: productpage, sourceIp: '10.200.0.7', destinationIp: '10.200.0.4', destinationPort: 9080, ...o });

const policy = (name: string, spec: string, namespace = 'default') => authorizationPolicyYaml(name, spec, { namespace });

test('scopes: root namespace without a selector is GLOBAL, another namespace NAMESPACE, a selector WORKLOAD_SELECTOR; targetRefs, AUDIT and CUSTOM are not the node proxy\'s', () => {
  const list = policies(
    policy('mesh', 'action: DENY\nrules: [{}]', 'istio-system') +
      policy('ns', 'action: ALLOW\nrules: [{}]') +
      policy('selected', 'selector: {matchLabels: {app: reviews}}\naction: ALLOW\nrules: [{}]') +
      policy('waypoint', 'targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\naction: ALLOW\nrules: [{}]') +
      policy('audit', 'action: AUDIT\nrules: [{}]') +
      policy('custom', 'action: CUSTOM\nprovider: {name: x}\nrules: [{}]'),
  );
  assert.deepEqual(
    list.map((p) => [p.namespace, p.name, p.scope ?? 'GLOBAL', p.action ?? 'ALLOW']),
    [
      ['default', 'ns', 'NAMESPACE', 'ALLOW'],
      ['default', 'selected', 'WORKLOAD_SELECTOR', 'ALLOW'],
      ['istio-system', 'mesh', 'GLOBAL', 'DENY'],
    ],
  );
});

test('principals, namespaces, ipBlocks and ports decide; not- forms exclude; DENY wins over ALLOW', () => {
  const list = policies(
    policy('allow', 'action: ALLOW\nrules:\n- from: [{source: {principals: ["cluster.local/ns/default/sa/bookinfo-productpage"]}}, {source: {namespaces: ["oth*"], notIpBlocks: ["10.9.0.0/16"]}}]\n  to: [{operation: {ports: ["9080"]}}]') +
      policy('deny', 'action: DENY\nrules: [{from: [{source: {ipBlocks: ["10.200.0.66/32"]}}]}]'),
  );
  assert.deepEqual(authorize(list, conn({})), { allowed: true, policy: 'default/allow' });
  assert.deepEqual(authorize(list, conn({ sourcePrincipal: sleep, sourceIp: '10.200.0.9' })), { allowed: true, policy: 'default/allow' });
  assert.deepEqual(authorize(list, conn({ sourcePrincipal: sleep, sourceIp: '10.9.1.1' })), { allowed: false }, 'notIpBlocks excludes');
  assert.deepEqual(authorize(list, conn({ destinationPort: 9081 })), { allowed: false }, 'another port');
  assert.deepEqual(authorize(list, conn({ sourcePrincipal: undefined })), { allowed: false }, 'plaintext has no principal');
  assert.deepEqual(authorize(list, conn({ sourceIp: '10.200.0.66' })), { allowed: false, policy: 'default/deny' });
});

test('HTTP fields: an ALLOW rule that needs them matches nothing; a DENY rule drops them and denies what its L4 fields name', () => {
  const allow = policies(policy('allow-get', 'action: ALLOW\nrules: [{to: [{operation: {methods: [GET]}}]}]'));
  assert.deepEqual(allow[0]!.rules ?? [], [], 'the rule is gone, the policy stays');
  assert.deepEqual(authorize(allow, conn({})), { allowed: false });
  const deny = policies(policy('deny-post', 'action: DENY\nrules: [{from: [{source: {principals: ["cluster.local/ns/default/sa/bookinfo-productpage"]}}], to: [{operation: {methods: [POST], ports: ["9080"]}}]}]'));
  assert.deepEqual(authorize(deny, conn({})), { allowed: false, policy: 'default/deny-post' }, 'every method is denied at L4');
  assert.deepEqual(authorize(deny, conn({ sourcePrincipal: sleep })), { allowed: true }, 'the principal still narrows it');
  const when = policies(policy('deny-header', 'action: DENY\nrules: [{when: [{key: "request.headers[x-user]", values: [bob]}, {key: destination.port, values: ["9080"]}]}]'));
  assert.deepEqual(authorize(when, conn({})), { allowed: false, policy: 'default/deny-header' });
  assert.deepEqual(authorize(when, conn({ destinationPort: 15020 })), { allowed: true });
});

test('an empty rule matches everything; an ALLOW policy without rules allows nothing; dry-run policies are not enforced', () => {
  assert.equal(authorize(policies(policy('all', 'action: ALLOW\nrules: [{}]')), conn({ sourcePrincipal: undefined })).allowed, true);
  assert.equal(authorize(policies(policy('none', 'action: ALLOW')), conn({})).allowed, false);
  const dry = policies(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: dry, annotations: {istio.io/dry-run: "true"}}
spec: {action: DENY, rules: [{}]}
`);
  assert.equal(dry[0]!.dryRun, true);
  assert.equal(authorize(dry, conn({})).allowed, true);
});

test('serviceAccounts name principals by suffix; source.namespace and destination.ip conditions; IPv6 blocks', () => {
  const list = policies(policy('sa', 'action: ALLOW\nrules:\n- from: [{source: {serviceAccounts: ["other/sleep"]}}]\n- when: [{key: source.namespace, values: [default]}, {key: destination.ip, values: ["fd00:1::/64"]}]'));
  assert.equal(authorize(list, conn({ sourcePrincipal: sleep })).allowed, true);
  assert.equal(authorize(list, conn({ destinationIp: 'fd00:1::4' })).allowed, true);
  assert.equal(authorize(list, conn({ destinationIp: 'fd00:2::4' })).allowed, false);
});
