// Units of telemetry: expressions, access log formats, the Telemetry API's precedence, span export to a real collector.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadText } from '../config/loader.js';
import type { HttpRequestRecord } from '../proxy/records.js';
import { compileJson, compileText } from './access-log.js';
import { compileExpression, ExpressionError } from './expression.js';
import { IstioMetrics, REQUEST_LABELS, type RequestLabels } from './istio-metrics.js';
import { attributesOf } from './proxy-telemetry.js';
import { effectiveTelemetry, ENVOY_DEFAULT_FORMAT, meshTelemetry, telemetryForHcm } from './telemetry-api.js';
import { injectContext, parseContext, SpanExporter, startSpan } from './tracing.js';
import { PrometheusRunner } from './prometheus-runner.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const record = (over: Partial<HttpRequestRecord> = {}): HttpRequestRecord => ({
  listener: '0.0.0.0_9080', statPrefix: 'outbound_0.0.0.0_9080', routeName: 'default', virtualHost: 'reviews', startTime: Date.UTC(2026, 10, 24, 12, 0, 0), method: 'GET', path: '/reviews/0?x=1',
  authority: 'reviews:9080', protocol: 'HTTP/1.1', requestId: 'abc', userAgent: 'curl/8', xForwardedFor: '', downstreamRemoteAddress: '127.10.0.6:40000', downstreamLocalAddress: '127.10.0.6:15001',
  responseCode: 503, responseFlags: 'UF,URX', responseCodeDetails: 'upstream_reset_before_response_started{connection_failure}', grpcStatus: undefined, upstreamCluster: 'outbound|9080||reviews.default.svc.cluster.local',
  upstreamHost: '127.10.0.3:9080', upstreamTransportFailureReason: '', duration: 12.4, responseDuration: undefined, upstreamServiceTime: undefined, bytesReceived: 0, bytesSent: 91, attempts: 3,
  requestHeaders: { 'user-agent': 'curl/8', 'x-request-id': 'abc', 'end-user': 'jason' }, forwardedHeaders: {}, connectionSecurity: 'none', peerPrincipal: undefined, responseHeaders: { 'content-length': '91' }, websocket: false, ...over,
});

test('expressions: comparisons, &&, ||, !, headers, parentheses; errors name the problem', () => {
  const r = attributesOf(record());
  assert.equal(compileExpression('response.code >= 500')(r), true);
  assert.equal(compileExpression("response.code >= 400 && request.method == 'GET'")(r), true);
  assert.equal(compileExpression("request.headers['end-user'] == 'jason' || response.code < 300")(r), true);
  assert.equal(compileExpression('!(response.code >= 500)')(r), false);
  assert.equal(compileExpression('request.url_path')(r), '/reviews/0');
  assert.throws(() => compileExpression('response.code >= '), ExpressionError);
  assert.throws(() => compileExpression("request.headers[x]"), /needs a quoted key/);
});

test("access logs: Istio's default text format and JSON labels", () => {
  const line = compileText(ENVOY_DEFAULT_FORMAT)(record());
  assert.equal(
    line,
    '[2026-11-24T12:00:00.000Z] "GET /reviews/0?x=1 HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{connection_failure} - "-" 0 91 12 - "-" "curl/8" "abc" "reviews:9080" "127.10.0.3:9080" outbound|9080||reviews.default.svc.cluster.local - 127.10.0.6:15001 127.10.0.6:40000 - default\n',
  );
  assert.deepEqual(JSON.parse(compileJson({ code: '%RESPONSE_CODE%', user: '%REQ(END-USER)%', missing: '%RESP(X-NONE)%' })(record())), { code: 503, user: 'jason', missing: null });
  assert.throws(() => compileText('%NOT_AN_OPERATOR%'), /unknown access log operator %NOT_AN_OPERATOR%/);
});

test('Telemetry API precedence: mesh, then namespace, then workload; providers from the mesh config', () => {
  const { resources } = loadText(`apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    extensionProviders:
    - {name: otel, opentelemetry: {service: collector.obs, port: 4318}}
    - {name: json-log, envoyFileAccessLog: {path: /tmp/x.log, logFormat: {labels: {code: "%RESPONSE_CODE%"}}}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh, namespace: istio-system}
spec:
  tracing: [{providers: [{name: otel}], randomSamplingPercentage: 10}]
  accessLogging: [{providers: [{name: envoy}]}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ns, namespace: shop}
spec:
  accessLogging: [{providers: [{name: json-log}], filter: {expression: "response.code >= 400"}}]
  metrics: [{overrides: [{match: {metric: REQUEST_COUNT}, tagOverrides: {request_protocol: {operation: REMOVE}}}]}]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  tracing: [{randomSamplingPercentage: 100}]
  metrics: [{overrides: [{match: {metric: REQUEST_SIZE, mode: SERVER}, disabled: true}]}]
`, 'telemetry.yaml');
  const mesh = meshTelemetry(resources, 'istio-system');
  const other = effectiveTelemetry(resources, mesh, 'istio-system', 'default', { app: 'x' });
  assert.equal(other.tracing!.sampling, 10);
  assert.equal(other.accessLogging[0]!.provider.name, 'envoy');
  const cart = effectiveTelemetry(resources, mesh, 'istio-system', 'shop', { app: 'cart' });
  assert.equal(cart.tracing!.sampling, 100, 'the workload scope wins');
  assert.equal(cart.tracing!.providers[0]!.name, 'otel', 'and inherits the providers');
  assert.deepEqual(cart.accessLogging.map((a) => [a.provider.name, a.filter]), [['json-log', 'response.code >= 400']]);
  assert.deepEqual(cart.metricOverrides.map((o) => [o.metric, o.mode, !!o.disabled]), [['REQUEST_COUNT', 'CLIENT_AND_SERVER', false], ['REQUEST_SIZE', 'SERVER', true]]);
  const server = telemetryForHcm(cart, 'SERVER');
  assert.equal((server.filters.head[0] as { name: string }).name, 'trellis.tracing');
  assert.deepEqual((server.filters.head[0] as { typedConfig: { value: { collectors: unknown } } }).typedConfig.value.collectors, [{ kind: 'otlp', url: 'http://collector.obs:4318/v1/traces' }]);
  assert.equal((server.accessLog[0] as { typedConfig: { path: string } }).typedConfig.path, '/tmp/x.log');
  const client = telemetryForHcm(cart, 'CLIENT');
  assert.equal((client.filters.beforeRouter[0] as { typedConfig: { value: { overrides: unknown[] } } }).typedConfig.value.overrides.length, 1, 'SERVER-only overrides stay off the client side');
});

test('metrics: Istio names, labels and buckets in the exposition; a disabled metric stops counting; extra tags become labels', async () => {
  const m = new IstioMetrics();
  const labels = Object.fromEntries(REQUEST_LABELS.map((l) => [l, 'x'])) as RequestLabels;
  m.recordRequest({ ...labels, reporter: 'destination', response_code: '200' }, 3, 10, 200);
  m.recordRequest({ ...labels, reporter: 'destination', response_code: '200' }, 700, 10, 200, new Set(['istio_request_bytes']));
  const text = await m.render();
  assert.match(text, /# TYPE istio_requests_total counter/);
  assert.match(text, /istio_requests_total\{reporter="destination",source_workload="x",[^}]*response_code="200"[^}]*\} 2/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="0.5"[^}]*\} 0/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="5"[^}]*\} 1/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{le="3600000"[^}]*\} 2/);
  assert.match(text, /istio_request_bytes_count\{[^}]*\} 1/);
  m.recordRequest({ ...labels, reporter: 'source', request_host: 'reviews:9080' } as RequestLabels & Record<string, string>, 1, 1, 1);
  assert.match(await m.render(), /istio_requests_total\{[^}]*reporter="source"[^}]*request_host="reviews:9080"\} 1/);
});

test('trace context: traceparent and B3 in, both out; children keep the trace; spans reach Zipkin and OTLP collectors', async () => {
  assert.deepEqual(parseContext({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' }), { traceId: '80f198ee56343ba864fe8b2a57d3eff7', spanId: 'e457b5a2e4d86bd1', sampled: true });
  const parent = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  const child = startSpan(parent, 0);
  assert.equal(child.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(child.parentId, 'b7ad6b7169203331');
  assert.equal(child.sampled, true, 'an upstream decision wins over the local rate');
  const h: Record<string, string> = {};
  injectContext(h, child);
  assert.equal(h['x-b3-parentspanid'], 'b7ad6b7169203331');
  assert.match(h.traceparent!, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  assert.equal(startSpan({}, 0).sampled, false);

  const got: Record<string, unknown[]> = {};
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      (got[req.url!] ??= []).push(JSON.parse(b));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const exporter = new SpanExporter({ flushMs: 10 });
    const span = { traceId: child.traceId, id: child.spanId, parentId: child.parentId, name: 'reviews:9080/*', kind: 'SERVER' as const, timestamp: 1_700_000_000_000_000, duration: 1500, serviceName: 'reviews.default', tags: { 'http.status_code': '200' } };
    exporter.export({ kind: 'zipkin', url: `http://127.0.0.1:${port}/api/v2/spans` }, span);
    exporter.export({ kind: 'otlp', url: `http://127.0.0.1:${port}/v1/traces` }, span);
    await exporter.flush();
    const z = (got['/api/v2/spans']![0] as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual([z.traceId, z.parentId, z.kind, (z.localEndpoint as { serviceName: string }).serviceName], [child.traceId, child.parentId, 'SERVER', 'reviews.default']);
    const o = got['/v1/traces']![0] as { resourceSpans: Array<{ resource: { attributes: unknown[] }; scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
    const os = o.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.deepEqual([os.traceId, os.parentSpanId, os.kind, os.startTimeUnixNano], [child.traceId, child.parentId, 2, '1700000000000000000']);
  } finally {
    server.close();
  }
});

test('bring your own Prometheus: the scrape config and the file-SD targets it follows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-prom-'));
  try {
    const ext = PrometheusRunner.writeExternal({ stateDir: dir, scrapeInterval: '15s', staticJobs: [{ job: 'trellis-controlplane', target: '127.0.0.1:15014', path: '/metrics' }] });
    const config = readFileSync(ext.config, 'utf8');
    assert.match(config, /job_name: envoy-stats\n  metrics_path: \/stats\/prometheus\n  file_sd_configs:/);
    assert.match(config, /scrape_interval: 15s/);
    ext.targets([{ address: '127.10.0.3:15020', labels: { namespace: 'default', pod: 'reviews-v1-x' } }]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'prometheus-targets.json'), 'utf8')), [{ targets: ['127.10.0.3:15020'], labels: { namespace: 'default', pod: 'reviews-v1-x' } }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
