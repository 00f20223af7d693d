// AuthorizationPolicy end to end: each policy is translated by the control plane's translator and enforced by a real
// Trellis proxy whose inbound port accepts mutual TLS (clients with mesh certificates of different identities) and
// plaintext (PERMISSIVE), with real requests from different source addresses. A matrix of every field, action and
// the evaluation order; then who a policy applies to; then TCP ports.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, createCsr } from '../../ca/ca.js';
import { loadText } from '../../config/loader.js';
import type { Resource } from '../../config/resource.js';
import type { Listener, TypedExtension } from '../../xds/envoy/index.js';
import { cla, defaultHttpFilters, edsCluster, request, routeConfig, routeTo, startProxy, startUpstream, T, vhost, type Upstream } from '../../proxy/testing.js';
import type { TrellisProxy } from '../../proxy/proxy.js';
import { authorizationFiltersOf, authorizationPolicyYaml } from './testing.js';
import { policyApplies } from './policy-index.js';

type Json = Record<string, unknown>;
const TLS = 'envoy.transport_sockets.tls';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const SERVER = { namespace: 'default', labels: { app: 'reviews', version: 'v1' } };

function policies(yaml: string): Resource[] {
  const { resources, errors } = loadText(yaml, 'policy.yaml');
  assert.deepEqual(errors, []);
  return resources;
}

/** A listener like a sidecar's inbound port in PERMISSIVE mode: mTLS when the client sends TLS, else plaintext. */
function inbound(name: string, filters: TypedExtension[], kind: 'http' | 'tcp'): Listener {
  const terminal =
    kind === 'http'
      ? { name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': T.hcm, statPrefix: name, routeConfig: routeConfig(name, [vhost(name, ['*'], [routeTo('inbound|9080||')])]), httpFilters: [...filters, ...defaultHttpFilters()] } }
      : { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: name, cluster: 'inbound|9081||' } };
  const chain = (tls: boolean) => ({
    filterChainMatch: { transportProtocol: tls ? 'tls' : 'raw_buffer' },
    filters: kind === 'tcp' ? [...filters, terminal] : [terminal],
    ...(tls ? { transportSocket: { name: TLS, typedConfig: { '@type': DOWNSTREAM_TLS, commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } }, requireClientCertificate: true } } } : {}),
  });
  return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [chain(true), chain(false)] } as Listener;
}

type Who = 'productpage' | 'sleep' | 'plaintext';
const IDENTITIES = { productpage: { namespace: 'default', serviceAccount: 'bookinfo-productpage' }, sleep: { namespace: 'foo', serviceAccount: 'sleep' } };

let dir: string;
let ca: CertificateAuthority;
const creds: Record<string, { cert: string; key: string }> = {};
let app: Upstream;
let echo: net.Server;
let echoPort: number;
let proxy: TrellisProxy;
let port: (name: string) => number;

interface Call {
  who?: Who;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** Source address of the client (any 127.0.0.0/8 address is loopback here). */
  from?: string;
}

/** One request to listener `name`; the status, or 0 when the connection was refused or reset. */
function call(name: string, c: Call = {}): Promise<number> {
  const who = c.who ?? 'productpage';
  const opts = { method: c.method ?? 'GET', path: c.path ?? '/', headers: { host: 'reviews.default.svc.cluster.local:9080', ...c.headers }, localAddress: c.from ?? '127.0.0.1' };
  if (who === 'plaintext') return plain(name, c);
  return new Promise((resolve) => {
    const req = https.request(
      { host: '127.0.0.1', port: port(name), ...opts, ...creds[who]!, ca: ca.trustBundle(), rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A plaintext HTTP/1.1 request over a raw socket (so it can come from any loopback source address). */
function plain(name: string, c: Call): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: port(name), localAddress: c.from ?? '127.0.0.1' }, () => {
      const h = Object.entries({ host: 'reviews.default.svc.cluster.local:9080', ...c.headers, connection: 'close' }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(`${c.method ?? 'GET'} ${c.path ?? '/'} HTTP/1.1\r\n${h}\r\n`);
    });
    let data = '';
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)));
    s.on('error', () => undefined);
  });
}

/** The cases of the matrix: a policy set, and requests with the status each must get. */
interface Case {
  name: string;
  yaml: string;
  expect: Array<[Call, number]>;
}

const policy = (name: string, spec: string, extra = '') => authorizationPolicyYaml(name, spec, { metadata: extra });

const PP = 'cluster.local/ns/default/sa/bookinfo-productpage';
const CASES: Case[] = [
  { name: 'no-policy', yaml: '', expect: [[{}, 200], [{ who: 'sleep' }, 200], [{ who: 'plaintext' }, 200]] },
  { name: 'allow-nothing', yaml: policy('allow-nothing', '{}'), expect: [[{}, 403], [{ who: 'sleep' }, 403], [{ who: 'plaintext' }, 403]] },
  { name: 'allow-all', yaml: policy('allow-all', 'rules: [{}]'), expect: [[{}, 200], [{ who: 'plaintext' }, 200]] },
  { name: 'deny-without-rules', yaml: policy('deny', 'action: DENY'), expect: [[{}, 200], [{ who: 'plaintext' }, 200]] },
  { name: 'principals', yaml: policy('p', `rules: [{from: [{source: {principals: ["${PP}"]}}]}]`), expect: [[{}, 200], [{ who: 'sleep' }, 403], [{ who: 'plaintext' }, 403]] },
  { name: 'not-principals', yaml: policy('p', `rules: [{from: [{source: {notPrincipals: ["${PP}"]}}]}]`), expect: [[{}, 403], [{ who: 'sleep' }, 200], [{ who: 'plaintext' }, 200]] },
  { name: 'principals-any', yaml: policy('p', 'rules: [{from: [{source: {principals: ["*"]}}]}]'), expect: [[{}, 200], [{ who: 'sleep' }, 200], [{ who: 'plaintext' }, 403]] },
  { name: 'principals-suffix', yaml: policy('p', 'rules: [{from: [{source: {principals: ["*/sa/sleep"]}}]}]'), expect: [[{}, 403], [{ who: 'sleep' }, 200]] },
  { name: 'principals-prefix', yaml: policy('p', 'rules: [{from: [{source: {principals: ["cluster.local/ns/default/*"]}}]}]'), expect: [[{}, 200], [{ who: 'sleep' }, 403]] },
  { name: 'namespaces', yaml: policy('p', 'rules: [{from: [{source: {namespaces: ["foo"]}}]}]'), expect: [[{}, 403], [{ who: 'sleep' }, 200], [{ who: 'plaintext' }, 403]] },
  { name: 'namespaces-glob', yaml: policy('p', 'rules: [{from: [{source: {namespaces: ["def*"]}}]}]'), expect: [[{}, 200], [{ who: 'sleep' }, 403]] },
  { name: 'not-namespaces', yaml: policy('p', 'rules: [{from: [{source: {notNamespaces: ["foo"]}}]}]'), expect: [[{}, 200], [{ who: 'sleep' }, 403]] },
  { name: 'service-accounts', yaml: policy('p', 'rules: [{from: [{source: {serviceAccounts: ["foo/sleep", "bookinfo-details"]}}]}]'), expect: [[{}, 403], [{ who: 'sleep' }, 200]] },
  { name: 'ip-blocks', yaml: policy('p', 'rules: [{from: [{source: {ipBlocks: ["127.0.0.2/32"]}}]}]'), expect: [[{ from: '127.0.0.2' }, 200], [{ from: '127.0.0.1' }, 403], [{ who: 'sleep', from: '127.0.0.2' }, 200]] },
  { name: 'not-ip-blocks', yaml: policy('p', 'rules: [{from: [{source: {notIpBlocks: ["127.0.0.2"]}}]}]'), expect: [[{ from: '127.0.0.2' }, 403], [{ from: '127.0.0.3' }, 200]] },
  { name: 'remote-ip-blocks', yaml: policy('p', 'rules: [{from: [{source: {remoteIpBlocks: ["10.1.0.0/16"]}}]}]'), expect: [[{ headers: { 'x-forwarded-for': '10.1.2.3' } }, 200], [{ headers: { 'x-forwarded-for': '10.2.2.3' } }, 403], [{}, 403]] },
  { name: 'not-remote-ip-blocks', yaml: policy('p', 'rules: [{from: [{source: {notRemoteIpBlocks: ["10.1.0.0/16"]}}]}]'), expect: [[{ headers: { 'x-forwarded-for': '10.1.2.3' } }, 403], [{}, 200]] },
  { name: 'source-and', yaml: policy('p', 'rules: [{from: [{source: {namespaces: ["foo"], ipBlocks: ["127.0.0.2"]}}]}]'), expect: [[{ who: 'sleep', from: '127.0.0.2' }, 200], [{ who: 'sleep' }, 403], [{ from: '127.0.0.2' }, 403]] },
  { name: 'froms-or', yaml: policy('p', `rules: [{from: [{source: {namespaces: ["foo"]}}, {source: {principals: ["${PP}"]}}]}]`), expect: [[{ who: 'sleep' }, 200], [{}, 200], [{ who: 'plaintext' }, 403]] },
  { name: 'methods', yaml: policy('p', 'rules: [{to: [{operation: {methods: ["GET", "HEAD"]}}]}]'), expect: [[{}, 200], [{ method: 'POST' }, 403]] },
  { name: 'not-methods', yaml: policy('p', 'rules: [{to: [{operation: {notMethods: ["DELETE"]}}]}]'), expect: [[{}, 200], [{ method: 'DELETE' }, 403]] },
  {
    name: 'paths',
    yaml: policy('p', 'rules: [{to: [{operation: {paths: ["/ratings", "/api/*", "*.png", "/books/{*}/reviews", "/static/{**}/x"]}}]}]'),
    expect: [[{ path: '/ratings' }, 200], [{ path: '/ratings/1' }, 403], [{ path: '/ratings?x=1' }, 200], [{ path: '/api/v1/x' }, 200], [{ path: '/img/a.png' }, 200], [{ path: '/books/7/reviews' }, 200], [{ path: '/books/7/8/reviews' }, 403], [{ path: '/static/a/b/x' }, 200], [{ path: '/' }, 403]],
  },
  { name: 'not-paths', yaml: policy('p', 'rules: [{to: [{operation: {notPaths: ["/admin*"]}}]}]'), expect: [[{ path: '/admin/x' }, 403], [{ path: '/x' }, 200]] },
  {
    name: 'hosts',
    yaml: policy('p', 'rules: [{to: [{operation: {hosts: ["reviews.default.svc.cluster.local", "*.example.com"]}}]}]'),
    expect: [[{}, 200], [{ headers: { host: 'REVIEWS.default.svc.cluster.local' } }, 200], [{ headers: { host: 'a.example.com' } }, 200], [{ headers: { host: 'other' } }, 403]],
  },
  { name: 'not-hosts', yaml: policy('p', 'rules: [{to: [{operation: {notHosts: ["other"]}}]}]'), expect: [[{}, 200], [{ headers: { host: 'other' } }, 403]] },
  { name: 'ports', yaml: policy('p', 'rules: [{to: [{operation: {ports: ["1"]}}]}]'), expect: [[{}, 403]] },
  { name: 'not-ports', yaml: policy('p', 'rules: [{to: [{operation: {notPorts: ["1"]}}]}]'), expect: [[{}, 200]] },
  { name: 'operation-and', yaml: policy('p', 'rules: [{to: [{operation: {methods: ["GET"], paths: ["/a"]}}]}]'), expect: [[{ path: '/a' }, 200], [{ path: '/a', method: 'POST' }, 403], [{ path: '/b' }, 403]] },
  { name: 'from-and-to', yaml: policy('p', 'rules: [{from: [{source: {namespaces: ["foo"]}}], to: [{operation: {paths: ["/a"]}}]}]'), expect: [[{ who: 'sleep', path: '/a' }, 200], [{ who: 'sleep', path: '/b' }, 403], [{ path: '/a' }, 403]] },
  { name: 'rules-or', yaml: policy('p', 'rules: [{to: [{operation: {paths: ["/a"]}}]}, {from: [{source: {namespaces: ["foo"]}}]}]'), expect: [[{ path: '/a' }, 200], [{ who: 'sleep', path: '/b' }, 200], [{ path: '/b' }, 403]] },
  { name: 'when-header', yaml: policy('p', 'rules: [{when: [{key: "request.headers[X-Token]", values: ["admin", "ops-*"]}]}]'), expect: [[{ headers: { 'x-token': 'admin' } }, 200], [{ headers: { 'x-token': 'ops-1' } }, 200], [{ headers: { 'x-token': 'guest' } }, 403], [{}, 403]] },
  { name: 'when-header-not', yaml: policy('p', 'rules: [{when: [{key: "request.headers[x-token]", notValues: ["guest"]}]}]'), expect: [[{ headers: { 'x-token': 'guest' } }, 403], [{ headers: { 'x-token': 'x' } }, 200]] },
  { name: 'when-source-namespace', yaml: policy('p', 'rules: [{when: [{key: source.namespace, values: ["foo"]}]}]'), expect: [[{ who: 'sleep' }, 200], [{}, 403]] },
  { name: 'when-source-principal', yaml: policy('p', `rules: [{when: [{key: source.principal, values: ["${PP}"]}]}]`), expect: [[{}, 200], [{ who: 'sleep' }, 403]] },
  { name: 'when-source-service-account', yaml: policy('p', 'rules: [{when: [{key: source.serviceAccount, values: ["foo/sleep"]}]}]'), expect: [[{ who: 'sleep' }, 200], [{}, 403], [{ who: 'plaintext' }, 403]] },
  { name: 'when-source-ip', yaml: policy('p', 'rules: [{when: [{key: source.ip, values: ["127.0.0.2"]}]}]'), expect: [[{ from: '127.0.0.2' }, 200], [{}, 403]] },
  { name: 'when-remote-ip', yaml: policy('p', 'rules: [{when: [{key: remote.ip, notValues: ["10.9.9.9"]}]}]'), expect: [[{ headers: { 'x-forwarded-for': '10.9.9.9' } }, 403], [{}, 200]] },
  { name: 'when-destination-port', yaml: policy('p', 'rules: [{when: [{key: destination.port, notValues: ["1"]}]}]'), expect: [[{}, 200]] },
  { name: 'when-destination-ip', yaml: policy('p', 'rules: [{when: [{key: destination.ip, values: ["127.0.0.0/8"]}]}]'), expect: [[{}, 200]] },
  { name: 'when-and', yaml: policy('p', 'rules: [{when: [{key: source.namespace, values: ["foo"]}, {key: "request.headers[x-a]", values: ["1"]}]}]'), expect: [[{ who: 'sleep', headers: { 'x-a': '1' } }, 200], [{ who: 'sleep' }, 403]] },
  // Without RequestAuthentication no request carries a request principal or claims: those rules never match.
  { name: 'request-principals', yaml: policy('p', 'rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]'), expect: [[{}, 403]] },
  { name: 'when-claims', yaml: policy('p', 'rules: [{when: [{key: "request.auth.claims[groups]", values: ["admins"]}]}]'), expect: [[{}, 403]] },
  // Fail closed: a condition Trellis cannot evaluate makes an ALLOW rule match nothing and a DENY rule match more.
  { name: 'unknown-key-allow', yaml: policy('p', 'rules: [{when: [{key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["x"]}]}]'), expect: [[{}, 403], [{ who: 'sleep' }, 403]] },
  { name: 'unknown-key-deny', yaml: policy('p', 'action: DENY\nrules: [{to: [{operation: {paths: ["/x"]}}], when: [{key: experimental.foo, values: ["x"]}]}]'), expect: [[{ path: '/x' }, 403], [{ path: '/y' }, 200]] },
  { name: 'bad-ip-allow', yaml: policy('p', 'rules: [{from: [{source: {ipBlocks: ["not-an-ip"]}}]}]'), expect: [[{}, 403]] },
  // Order: DENY beats ALLOW; AUDIT and dry-run never change the outcome.
  { name: 'deny-over-allow', yaml: policy('allow', 'rules: [{}]') + policy('deny', 'action: DENY\nrules: [{to: [{operation: {paths: ["/admin"]}}]}]'), expect: [[{ path: '/admin' }, 403], [{ path: '/' }, 200]] },
  { name: 'deny-same-principal', yaml: policy('allow', `rules: [{from: [{source: {principals: ["${PP}"]}}]}]`) + policy('deny', `action: DENY\nrules: [{from: [{source: {principals: ["${PP}"]}}], to: [{operation: {methods: ["POST"]}}]}]`), expect: [[{}, 200], [{ method: 'POST' }, 403], [{ who: 'sleep' }, 403]] },
  { name: 'two-allow-policies-or', yaml: policy('a', 'rules: [{to: [{operation: {paths: ["/a"]}}]}]') + policy('b', 'rules: [{to: [{operation: {paths: ["/b"]}}]}]'), expect: [[{ path: '/a' }, 200], [{ path: '/b' }, 200], [{ path: '/c' }, 403]] },
  { name: 'audit', yaml: policy('audit', 'action: AUDIT\nrules: [{}]'), expect: [[{}, 200], [{ who: 'plaintext' }, 200]] },
  { name: 'dry-run', yaml: policy('deny-all', 'action: DENY\nrules: [{}]', ', annotations: {"istio.io/dry-run": "true"}'), expect: [[{}, 200]] },
  { name: 'dry-run-beside-enforced', yaml: policy('deny-all', 'action: DENY\nrules: [{}]', ', annotations: {"istio.io/dry-run": "true"}') + policy('deny-a', 'action: DENY\nrules: [{to: [{operation: {paths: ["/a"]}}]}]'), expect: [[{}, 200], [{ path: '/a' }, 403]] },
];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-authz-'));
  ca = await CertificateAuthority.open({ stateDir: dir });
  const issue = async (namespace: string, serviceAccount: string) => {
    const id = { trustDomain: 'cluster.local', namespace, serviceAccount };
    const { keyPem, csrPem } = await createCsr(id);
    return { cert: (await ca.sign(csrPem, id, 3600_000)).join(''), key: keyPem };
  };
  for (const [who, id] of Object.entries(IDENTITIES)) creds[who] = await issue(id.namespace, id.serviceAccount);
  app = await startUpstream('reviews');
  echo = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
  await new Promise((r) => echo.once('listening', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  const listeners: Listener[] = [];
  for (const c of CASES) listeners.push(inbound(c.name, authorizationFiltersOf(policies(c.yaml), SERVER, 'http'), 'http'));
  for (const c of TCP_CASES) listeners.push(inbound(`tcp-${c.name}`, authorizationFiltersOf(policies(c.yaml), SERVER, 'tcp'), 'tcp'));
  const started = await startProxy({
    listeners,
    clusters: [edsCluster('inbound|9080||'), edsCluster('inbound|9081||')],
    endpoints: [cla('inbound|9080||', [{ port: app.port }]), cla('inbound|9081||', [{ port: echoPort }])],
  });
  proxy = started.proxy;
  port = started.port;
  const server = await issue('default', 'bookinfo-reviews');
  proxy.secrets.set('default', { certChain: server.cert, privateKey: server.key });
  proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
});

after(async () => {
  await proxy?.close();
  await app?.close();
  echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuthorizationPolicy on an HTTP port: every field, action and the evaluation order', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      for (const [req, want] of c.expect) {
        const got = await call(c.name, req);
        assert.equal(got, want, `${c.name}: ${JSON.stringify(req)} got ${got}, want ${want}`);
      }
    });
  }

  test('a denied request gets Envoy\'s body and never reaches the workload', async () => {
    const before = app.requests.length;
    const res = await request(port('allow-nothing'), { path: '/secret' });
    assert.equal(res.status, 403);
    assert.equal(res.body, 'RBAC: access denied');
    assert.equal(app.requests.length, before);
  });
});

/** Open a TCP connection through listener `name` and send a line; true when it echoes back. */
function tcpEcho(name: string, who: Who): Promise<boolean> {
  return new Promise((resolve) => {
    const onConnect = () => s.write('ping\n');
    const s: net.Socket =
      who === 'plaintext'
        ? net.connect({ host: '127.0.0.1', port: port(name) }, onConnect)
        : (tls.connect({ host: '127.0.0.1', port: port(name), ...creds[who]!, rejectUnauthorized: false }, onConnect) as unknown as net.Socket);
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('ping')) (s.destroy(), resolve(true));
    });
    s.on('close', () => resolve(got.includes('ping')));
    s.on('error', () => resolve(false));
  });
}

const TCP_CASES: Array<{ name: string; yaml: string; expect: Array<[Who, boolean]> }> = [
  { name: 'principals', yaml: policy('p', `rules: [{from: [{source: {principals: ["${PP}"]}}]}]`), expect: [['productpage', true], ['sleep', false], ['plaintext', false]] },
  { name: 'deny-namespace', yaml: policy('p', 'action: DENY\nrules: [{from: [{source: {namespaces: ["foo"]}}]}]'), expect: [['productpage', true], ['sleep', false], ['plaintext', true]] },
  // HTTP-only fields on a TCP port: an ALLOW rule with them matches nothing; a DENY rule ignores them and denies more.
  { name: 'allow-http-only', yaml: policy('p', 'rules: [{to: [{operation: {methods: ["GET"]}}]}]'), expect: [['productpage', false], ['plaintext', false]] },
  { name: 'deny-http-only', yaml: policy('p', 'action: DENY\nrules: [{from: [{source: {namespaces: ["foo"]}}], to: [{operation: {paths: ["/admin"]}}]}]'), expect: [['sleep', false], ['productpage', true]] },
  { name: 'ports', yaml: policy('p', 'rules: [{to: [{operation: {notPorts: ["1"]}}]}]'), expect: [['productpage', true], ['plaintext', true]] },
];

describe('AuthorizationPolicy on a TCP port: the connection is closed', () => {
  for (const c of TCP_CASES) {
    test(c.name, async () => {
      for (const [who, want] of c.expect) assert.equal(await tcpEcho(`tcp-${c.name}`, who), want, `${c.name}: ${who}`);
    });
  }
});

describe('which workloads a policy applies to', () => {
  const rs = policies(
    policy('ns-wide', 'rules: [{}]') +
      policy('reviews-only', 'selector: {matchLabels: {app: reviews}}\nrules: [{}]') +
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: root-ratings, namespace: istio-system}
spec: {selector: {matchLabels: {app: ratings}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-wide, namespace: istio-system}
spec: {action: DENY, rules: [{to: [{operation: {paths: ["/debug"]}}]}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: other-ns, namespace: foo}
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: gw, namespace: default}
spec: {targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: bookinfo-gateway}]}
`,
  );
  const applied = (namespace: string, labels: Record<string, string>) => rs.filter((r) => policyApplies(r, 'istio-system', { namespace, labels })).map((r) => r.metadata.name).sort();

  test('namespace-wide, selector, root namespace (mesh-wide and selected in every namespace), targetRefs', () => {
    assert.deepEqual(applied('default', { app: 'reviews' }), ['mesh-wide', 'ns-wide', 'reviews-only']);
    assert.deepEqual(applied('default', { app: 'details' }), ['mesh-wide', 'ns-wide']);
    assert.deepEqual(applied('bar', { app: 'ratings' }), ['mesh-wide', 'root-ratings']);
    assert.deepEqual(applied('foo', { app: 'x' }), ['mesh-wide', 'other-ns']);
    // A policy attached to a Gateway applies to that gateway's workload only (and not by its selector).
    assert.deepEqual(applied('default', { 'gateway.networking.k8s.io/gateway-name': 'bookinfo-gateway' }), ['gw', 'mesh-wide', 'ns-wide']);
  });

  test('filters come out DENY before ALLOW, named after the policies', () => {
    const filters = authorizationFiltersOf(rs, { namespace: 'default', labels: { app: 'reviews' } });
    const actions = filters.map((f) => ((f.typedConfig as Json).rules as Json).action);
    assert.deepEqual(actions, ['DENY', 'ALLOW']);
    assert.ok(Object.keys(((filters[0]!.typedConfig as Json).rules as Json).policies as Json).includes('ns[istio-system]-policy[mesh-wide]-rule[0]'));
  });
});
