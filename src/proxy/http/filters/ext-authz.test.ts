// envoy.filters.http.ext_authz end to end: a real Trellis proxy in front of a backend asks the ext-authz sample
// server (allows `x-ext-authz: allow`) over raw HTTP and over gRPC envoy.service.auth.v3, through its own clusters.
// Allow with header edits, deny with the service's answer, service down / slow (status_on_error, failure_mode_allow),
// the request body in the check, and Istio's selection of requests by an RBAC shadow rule. The check timeout runs on a
// manual clock.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startExtAuthz, DENY_BODY, type RunningExtAuthz } from '../../../apps/ext-authz.js';
import { ManualClock } from '../../../clock.js';
import { CertificateAuthority, createCsr } from '../../../ca/ca.js';
import type { Any } from '../../../xds/envoy/index.js';
import type { TrellisProxy } from '../../proxy.js';
import type { HttpRequestRecord } from '../../records.js';
import { cla, defaultHttpFilters, edsCluster, http2Options, httpListener, request, routeConfig, routeTo, startProxy, startUpstream, vhost, waitFor, type Upstream } from '../../testing.js';
import { EXT_AUTHZ_TYPE } from './ext-authz-filter.js';

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';

/** An HTTP listener whose chain is [extra filters…, ext_authz, cors, fault, router] in front of the backend. */
function listener(name: string, extAuthz: Record<string, unknown>, before: Array<Record<string, unknown>> = []) {
  const filters = [...before, { name: 'envoy.filters.http.ext_authz', typedConfig: { '@type': EXT_AUTHZ_TYPE, transportApiVersion: 'V3', ...extAuthz } }, ...defaultHttpFilters()];
  return httpListener(name, routeConfig(name, [vhost(name, ['*'], [routeTo('backend')])]), { httpFilters: filters as never });
}

const httpService = (cluster: string, extra: Record<string, unknown> = {}) => ({
  httpService: {
    serverUri: { uri: `http://${cluster}`, cluster, timeout: '2s' },
    authorizationRequest: { allowedHeaders: { patterns: [{ exact: 'x-ext-authz', ignoreCase: true }, { exact: 'x-ext-authz-additional-header-override', ignoreCase: true }] }, headersToAdd: [{ key: 'x-added-by-proxy', value: 'yes' }] },
    authorizationResponse: {
      allowedUpstreamHeaders: { patterns: [{ exact: 'x-ext-authz-check-result', ignoreCase: true }, { exact: 'x-ext-authz-check-received', ignoreCase: true }] },
      allowedClientHeaders: { patterns: [{ exact: 'x-ext-authz-check-result', ignoreCase: true }, { exact: 'content-type', ignoreCase: true }] },
      allowedClientHeadersOnSuccess: { patterns: [{ exact: 'x-ext-authz-additional-header-override', ignoreCase: true }] },
    },
    ...extra,
  },
});

const grpcService = (cluster: string, timeout = '2s') => ({ grpcService: { envoyGrpc: { clusterName: cluster, authority: 'ext-authz.foo.svc.cluster.local' }, timeout } });

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('ext_authz', () => {
  let authz: RunningExtAuthz;
  let backend: Upstream;
  let silent: Upstream;
  let silentH2: Upstream;
  const clock = new ManualClock();
  let proxy: TrellisProxy;
  let port: (name: string) => number;
  const records: HttpRequestRecord[] = [];
  const allow = { 'x-ext-authz': 'allow' };

  before(async () => {
    authz = await startExtAuthz({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', env: { EXT_AUTHZ_QUIET: 'true' } });
    backend = await startUpstream('backend');
    // An authorization service that accepts the check and never answers: only the timeout ends it.
    silent = await startUpstream('silent', () => new Promise<void>(() => undefined));
    silentH2 = await startUpstream('silent-h2', () => new Promise<void>(() => undefined), { h2: true });
    const down = await closedPort();
    const body = (max: number, partial: boolean) => ({ withRequestBody: { maxRequestBytes: max, allowPartialMessage: partial } });
    const started = await startProxy({
      listeners: [
        listener('http', httpService('authz-http')),
        listener('grpc', grpcService('authz-grpc')),
        listener('http-down', httpService('authz-down')),
        listener('grpc-down', { ...grpcService('authz-down'), statusOnError: { code: 'ServiceUnavailable' } }),
        listener('fail-open', { ...grpcService('authz-down'), failureModeAllow: true, failureModeAllowHeaderAdd: true }),
        listener('slow', { ...httpService('authz-silent', { serverUri: { uri: 'http://silent', cluster: 'authz-silent', timeout: '0.2s' } }) }),
        listener('slow-grpc', { ...grpcService('authz-silent-h2', '0.2s'), statusOnError: { code: 504 } }),
        listener('body-http', { ...httpService('authz-http'), ...body(16, false) }),
        listener('body-grpc', { ...grpcService('authz-grpc'), ...body(16, true) }),
        listener('no-cluster', grpcService('nowhere')),
        // Istio's CUSTOM selection: an RBAC filter with only shadow rules records the matching policy, and
        // ext_authz runs only when that policy's name starts with istio-ext-authz.
        listener(
          'selective',
          {
            ...grpcService('authz-grpc'),
            filterEnabledMetadata: { filter: 'envoy.filters.http.rbac', path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }], value: { stringMatch: { prefix: 'istio-ext-authz' } } },
          },
          [
            {
              name: 'envoy.filters.http.rbac',
              typedConfig: {
                '@type': RBAC_TYPE,
                shadowRules: { action: 'ALLOW', policies: { 'istio-ext-authz-ns[foo]-policy[ext-authz]-rule[0]': { permissions: [{ urlPath: { path: { exact: '/headers' } } }], principals: [{ any: true }] } } },
                shadowRulesStatPrefix: 'istio_ext_authz_',
              },
            },
          ],
        ),
      ],
      clusters: [
        edsCluster('backend'),
        edsCluster('authz-http'),
        edsCluster('authz-grpc', { typedExtensionProtocolOptions: http2Options() as unknown as Record<string, Any> }),
        edsCluster('authz-down'),
        edsCluster('authz-silent'),
        edsCluster('authz-silent-h2'),
      ],
      endpoints: [
        cla('backend', [{ port: backend.port }]),
        cla('authz-http', [{ port: authz.httpPort }]),
        cla('authz-grpc', [{ port: authz.grpcPort }]),
        cla('authz-down', [{ port: down }]),
        cla('authz-silent', [{ port: silent.port }]),
        cla('authz-silent-h2', [{ port: silentH2.port }]),
      ],
    }, { clock });
    proxy = started.proxy;
    port = started.port;
    proxy.observe({ onHttpRequest: (r) => records.push(r) });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([authz.close(), backend.close(), silent.close(), silentH2.close()]);
  });

  const lastRecord = async (n: number) => {
    await waitFor(() => records.length > n, 2000, 'request record');
    return records[records.length - 1]!;
  };
  const backendSaw = () => backend.requests[backend.requests.length - 1]!;

  test('HTTP service: an allowed request reaches the backend with the allowed upstream headers', async () => {
    const seen = backend.requests.length;
    const r = await request(port('http'), { path: '/headers?q=1', headers: { ...allow, host: 'httpbin.foo:8000', 'x-ext-authz-additional-header-override': 'from-client' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'backend');
    // allowed_client_headers_on_success: the service's header goes back to the client
    assert.equal(r.headers['x-ext-authz-additional-header-override'], 'from-client');
    assert.equal(backend.requests.length, seen + 1);
    const h = backendSaw().headers;
    assert.equal(h['x-ext-authz-check-result'], 'allowed');
    // The service saw the original method, host and path (with query), our headers_to_add, and only allowed headers.
    const received = String(h['x-ext-authz-check-received']);
    assert.match(received, /^GET httpbin\.foo:8000\/headers\?q=1, headers: /);
    assert.match(received, /x-added-by-proxy:\[yes\]/);
    assert.match(received, /x-ext-authz:\[allow\]/);
    assert.doesNotMatch(received, /x-request-id/);
  });

  test('HTTP service: a denied request gets the service\'s status, body and allowed client headers', async () => {
    const seen = backend.requests.length;
    const n = records.length;
    const r = await request(port('http'), { path: '/headers', headers: { 'x-ext-authz': 'deny' } });
    assert.equal(r.status, 403);
    assert.equal(r.body, DENY_BODY);
    assert.equal(r.headers['x-ext-authz-check-result'], 'denied');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    // allowed_client_headers narrows what the client sees
    assert.equal(r.headers['x-ext-authz-check-received'], undefined);
    assert.equal(backend.requests.length, seen);
    const rec = await lastRecord(n);
    assert.equal(rec.responseFlags, 'UAEX');
    assert.equal(rec.responseCodeDetails, 'ext_authz_denied');
  });

  test('gRPC service: allowed with ok_response headers; the CheckRequest carries the request attributes', async () => {
    const r = await request(port('grpc'), { method: 'POST', path: '/headers?x=y', headers: { ...allow, host: 'httpbin.foo:8000', 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(r.status, 200);
    const h = backendSaw().headers;
    assert.equal(h['x-ext-authz-check-result'], 'allowed');
    assert.equal(h['x-ext-authz-additional-header-override'], 'grpc-additional-header-override-value');
    assert.equal(backendSaw().body, 'hello');
    const attrs = JSON.parse(String(h['x-ext-authz-check-received'])) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const req = attrs.request.http;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/headers?x=y');
    assert.equal(req.host, 'httpbin.foo:8000');
    assert.equal(req.scheme, 'http');
    assert.equal(req.protocol, 'HTTP/1.1');
    assert.equal(req.headers['x-ext-authz'], 'allow');
    assert.equal(req.headers[':method'], 'POST');
    assert.ok(req.id, 'the request id');
    assert.equal(attrs.source.address.socket_address.address, '127.0.0.1');
    assert.ok(Number(attrs.source.address.socket_address.port_value) > 0);
    assert.equal(Number(attrs.destination.address.socket_address.port_value), port('grpc'));
    // plaintext downstream: no principals
    assert.equal(attrs.source.principal, '');
  });

  test('gRPC service: denied_response gives the status, body and headers', async () => {
    const seen = backend.requests.length;
    const r = await request(port('grpc'), { path: '/headers' });
    assert.equal(r.status, 403);
    assert.equal(r.body, DENY_BODY);
    assert.equal(r.headers['x-ext-authz-check-result'], 'denied');
    assert.equal(backend.requests.length, seen);
  });

  test('gRPC downstream requests get a trailers-only PERMISSION_DENIED', async () => {
    const client = http2.connect(`http://127.0.0.1:${port('grpc')}`);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const s = client.request({ ':method': 'POST', ':path': '/pkg.Svc/Method', 'content-type': 'application/grpc', te: 'trailers' });
        s.on('response', resolve);
        s.on('error', reject);
        s.end(Buffer.alloc(5));
      });
      assert.equal(headers[':status'], 200);
      assert.equal(headers['grpc-status'], '7');
    } finally {
      client.close();
    }
  });

  test('service down: 403 by default, status_on_error when set, failure_mode_allow lets the request through', async () => {
    const n = records.length;
    const down = await request(port('http-down'), { headers: allow });
    assert.equal(down.status, 403);
    const rec = await lastRecord(n);
    assert.equal(rec.responseFlags, 'UAEX');
    assert.equal(rec.responseCodeDetails, 'ext_authz_error');
    assert.equal((await request(port('grpc-down'), { headers: allow })).status, 503);
    const open = await request(port('fail-open'), { headers: allow });
    assert.equal(open.status, 200);
    assert.equal(backendSaw().headers['x-envoy-auth-failure-mode-allowed'], 'true');
    // a cluster missing from the snapshot is an error too (fails closed)
    assert.equal((await request(port('no-cluster'), { headers: allow })).status, 403);
  });

  test('a service slower than the timeout is an error', async () => {
    const errors = () => (proxy.stats.get('http.slow.ext_authz.error') ?? 0) + (proxy.stats.get('http.slow-grpc.ext_authz.error') ?? 0);
    const before = errors();
    const denied = request(port('slow'), { headers: allow });
    const unavailable = request(port('slow-grpc'), { headers: allow });
    await waitFor(() => silent.requests.length >= 1 && silentH2.requests.length >= 1, 2000, 'the silent services saw the checks');
    clock.advance(199);
    assert.equal(errors(), before, 'no error before the 200 ms timeout');
    clock.advance(1);
    assert.equal(errors(), before + 2);
    assert.equal((await denied).status, 403);
    assert.equal((await unavailable).status, 504);
  });

  test('with_request_body: the body goes to the service; too large is 413 unless partial messages are allowed', async () => {
    const small = await request(port('body-http'), { method: 'POST', headers: allow, body: 'payload' });
    assert.equal(small.status, 200);
    assert.match(String(backendSaw().headers['x-ext-authz-check-received']), /body: \[payload\]/);
    assert.equal(backendSaw().body, 'payload');
    const exact = await request(port('body-http'), { method: 'POST', headers: allow, body: 'x'.repeat(16) });
    assert.equal(exact.status, 200);
    const seen = backend.requests.length;
    const big = await request(port('body-http'), { method: 'POST', headers: allow, body: 'y'.repeat(17) });
    assert.equal(big.status, 413);
    assert.equal(backend.requests.length, seen);
    // chunked (no content-length): the limit is found while buffering
    const chunked = await request(port('body-http'), { method: 'POST', headers: { ...allow, 'transfer-encoding': 'chunked' }, body: 'z'.repeat(1000) });
    assert.equal(chunked.status, 413);
    // gRPC service with allow_partial_message: the first 16 bytes are checked, the whole body is forwarded
    const long = 'abcdefghijklmnopqrstuvwxyz'.repeat(40);
    const partial = await request(port('body-grpc'), { method: 'PUT', headers: allow, body: long });
    assert.equal(partial.status, 200);
    assert.equal(backendSaw().body, long);
    const attrs = JSON.parse(String(backendSaw().headers['x-ext-authz-check-received'])) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(attrs.request.http.body, long.slice(0, 16));
    assert.equal(attrs.request.http.headers['x-envoy-auth-partial-body'], 'true');
  });

  test('Istio selection: only requests matching the CUSTOM policy\'s shadow rule are checked', async () => {
    const n = records.length;
    // /headers matches the shadow rule: checked, and denied without the header
    assert.equal((await request(port('selective'), { path: '/headers' })).status, 403);
    assert.equal((await request(port('selective'), { path: '/headers', headers: allow })).status, 200);
    // other paths are not checked at all
    assert.equal((await request(port('selective'), { path: '/ip' })).status, 200);
    await lastRecord(n + 2);
    assert.equal(proxy.stats.get('http.selective.ext_authz.disabled'), 1);
    assert.equal(proxy.stats.get('http.selective.ext_authz.denied'), 1);
    assert.equal(proxy.stats.get('http.selective.ext_authz.ok'), 1);
  });
});

describe('ext_authz on a mutual TLS port: principals and the peer certificate', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let authz: RunningExtAuthz;
  let backend: Upstream;
  let proxy: TrellisProxy;
  let tlsPort: number;
  const client: Record<string, { cert: string; key: string }> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-ext-authz-'));
    ca = await CertificateAuthority.open({ stateDir: dir });
    const issue = async (namespace: string, serviceAccount: string) => {
      const id = { trustDomain: 'cluster.local', namespace, serviceAccount };
      const { keyPem, csrPem } = await createCsr(id);
      return { cert: (await ca.sign(csrPem, id, 3600_000)).join(''), key: keyPem };
    };
    // The sample server allows, without the header, callers whose principal ends with /sa/<allowServiceAccount>.
    authz = await startExtAuthz({ httpPort: 0, grpcPort: 0, host: '127.0.0.1', allowServiceAccount: 'a', env: { EXT_AUTHZ_QUIET: 'true' } });
    backend = await startUpstream('backend');
    client.a = await issue('foo', 'a');
    client.b = await issue('foo', 'b');
    const l = listener('mtls', { ...grpcService('authz-grpc'), includePeerCertificate: true });
    l.filterChains![0]!.transportSocket = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } },
        requireClientCertificate: true,
      },
    } as never;
    const started = await startProxy({
      listeners: [l],
      clusters: [edsCluster('backend'), edsCluster('authz-grpc', { typedExtensionProtocolOptions: http2Options() as unknown as Record<string, Any> })],
      endpoints: [cla('backend', [{ port: backend.port }]), cla('authz-grpc', [{ port: authz.grpcPort }])],
    });
    proxy = started.proxy;
    const server = await issue('default', 'httpbin');
    proxy.secrets.set('default', { certChain: server.cert, privateKey: server.key });
    proxy.secrets.set('ROOTCA', { trustedCa: ca.trustBundle() });
    tlsPort = started.port('mtls');
  });

  after(async () => {
    await proxy?.close();
    await Promise.all([authz?.close(), backend?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (who: 'a' | 'b') =>
    new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: tlsPort, path: '/headers', ...client[who]!, ca: ca.trustBundle(), rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  test('the CheckRequest carries the peer\'s and the proxy\'s SPIFFE identities and the peer certificate', async () => {
    assert.equal(await call('a'), 200);
    const attrs = JSON.parse(String(backend.requests[backend.requests.length - 1]!.headers['x-ext-authz-check-received'])) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(attrs.source.principal, 'spiffe://cluster.local/ns/foo/sa/a');
    assert.equal(attrs.destination.principal, 'spiffe://cluster.local/ns/default/sa/httpbin');
    assert.equal(attrs.request.http.scheme, 'https');
    assert.match(decodeURIComponent(String(attrs.source.certificate)), /^-----BEGIN CERTIFICATE-----\n/);
    // another identity is not allowed by the sample server
    assert.equal(await call('b'), 403);
  });
});
