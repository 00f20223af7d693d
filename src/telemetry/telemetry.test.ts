// Units of telemetry: expressions, access log formats, the Telemetry API's precedence, span export to a real collector.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadText } from '../config/loader.js';
import { meshModelOf } from '../config/mesh-config.js';
import { PolicyIndex } from '../controlplane/translate/policy-index.js';
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
  const mesh = meshTelemetry(meshModelOf(resources).config);
  const policies = new PolicyIndex(resources, 'istio-system');
  const other = effectiveTelemetry(policies.telemetriesFor({ namespace: 'default', labels: { app: 'x' } }), mesh);
  assert.equal(other.tracing!.sampling, 10);
  assert.equal(other.accessLogging[0]!.provider.name, 'envoy');
  const cart = effectiveTelemetry(policies.telemetriesFor({ namespace: 'shop', labels: { app: 'cart' } }), mesh);
  assert.equal(cart.tracing!.sampling, 100, 'the workload scope wins');
  assert.equal(cart.tracing!.providers[0]!.name, 'otel', 'and inherits the providers');
  assert.deepEqual(cart.accessLogging.map((a) => [a.provider.name, a.filter]), [['json-log', 'response.code >= 400']]);
  assert.deepEqual(cart.metricOverrides.map((o) => [o.metric, o.mode, !!o.disabled]), [['REQUEST_COUNT', 'CLIENT_AND_SERVER', false], ['REQUEST_SIZE', 'SERVER', true]]);
  const server = telemetryForHcm(cart, 'SERVER');
  assert.equal((server.head[0] as { name: string }).name, 'trellis.tracing');
  assert.deepEqual((server.head[0] as { typedConfig: { value: { collectors: unknown } } }).typedConfig.value.collectors, [{ kind: 'otlp', url: 'http://collector.obs:4318/v1/traces' }]);
  assert.equal((server.accessLog[0] as { typedConfig: { path: string } }).typedConfig.path, '/tmp/x.log');
  const client = telemetryForHcm(cart, 'CLIENT');
  assert.equal((client.beforeRouter[0] as { typedConfig: { value: { overrides: unknown[] } } }).typedConfig.value.overrides.length, 1, 'SERVER-only overrides stay off the client side');
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

test('metrics: the hand-written exposition says what prom-client says for the same requests, alone and summed over workers', async () => {
  const client = (await import('prom-client')).default;
  const { DURATION_BUCKETS, SIZE_BUCKETS, TCP_LABELS } = await import('./istio-metrics.js');
  const { renderFamilies, sumFamilies } = await import('./exposition.js');
  // The reference: Istio's metrics declared on prom-client, recorded the straightforward way.
  const reference = (extra: string[]) => {
    const registry = new client.Registry();
    const r = [registry];
    const labelNames = [...REQUEST_LABELS, ...extra];
    const tcpNames = [...TCP_LABELS, ...extra];
    return {
      registry,
      requests: new client.Counter({ name: 'istio_requests_total', help: 'Total requests.', labelNames, registers: r }),
      duration: new client.Histogram({ name: 'istio_request_duration_milliseconds', help: 'Request duration in milliseconds.', labelNames, buckets: DURATION_BUCKETS, registers: r }),
      req: new client.Histogram({ name: 'istio_request_bytes', help: 'Request body sizes in bytes.', labelNames, buckets: SIZE_BUCKETS, registers: r }),
      res: new client.Histogram({ name: 'istio_response_bytes', help: 'Response body sizes in bytes.', labelNames, buckets: SIZE_BUCKETS, registers: r }),
      sent: new client.Counter({ name: 'istio_tcp_sent_bytes_total', help: 'Bytes sent during a TCP connection.', labelNames: tcpNames, registers: r }),
      received: new client.Counter({ name: 'istio_tcp_received_bytes_total', help: 'Bytes received during a TCP connection.', labelNames: tcpNames, registers: r }),
      opened: new client.Counter({ name: 'istio_tcp_connections_opened_total', help: 'TCP connections opened.', labelNames: tcpNames, registers: r }),
      closed: new client.Counter({ name: 'istio_tcp_connections_closed_total', help: 'TCP connections closed.', labelNames: tcpNames, registers: r }),
    };
  };
  const base = Object.fromEntries(REQUEST_LABELS.map((l) => [l, `v-${l}`])) as RequestLabels;
  const tcpBase = Object.fromEntries(TCP_LABELS.map((l) => [l, `t-${l}`]));
  // Requests over several label sets (one with a quote, a backslash and a newline in a value), durations and sizes
  // on and between bucket bounds and above the last, one metric disabled for some requests; TCP connections.
  const requests = Array.from({ length: 200 }, (_, i) => ({
    labels: { ...base, response_code: String([200, 503, 404][i % 3]), source_workload: i % 7 === 0 ? 'we"ird\\name\nx' : 'productpage-v1', destination_version: `v${1 + (i % 3)}` },
    duration: [0.5, 0.7, 5, 2500.1, 4_000_000, 12.25][i % 6]!,
    reqBytes: [0, 1, 100, 20_000_000][i % 4]!,
    resBytes: i * 731,
    disabled: i % 5 === 0 ? new Set(['istio_request_bytes']) : undefined,
  }));
  const tcps = Array.from({ length: 12 }, (_, i) => ({ labels: { ...tcpBase, destination_app: `app-${i % 3}` }, sent: i * 100, received: i, close: i % 4 !== 0 }));
  const feed = (mine: IstioMetrics, ref: ReturnType<typeof reference>, slice: (i: number) => boolean) => {
    requests.forEach((q, i) => {
      if (!slice(i)) return;
      mine.recordRequest(q.labels, q.duration, q.reqBytes, q.resBytes, q.disabled);
      ref.requests.inc(q.labels);
      ref.duration.observe(q.labels, q.duration);
      if (!q.disabled) ref.req.observe(q.labels, q.reqBytes);
      ref.res.observe(q.labels, q.resBytes);
    });
    tcps.forEach((c, i) => {
      if (!slice(i)) return;
      mine.recordTcpOpen(c.labels);
      ref.opened.inc(c.labels);
      if (!c.close) return;
      mine.recordTcpClose(c.labels, c.sent, c.received);
      ref.closed.inc(c.labels);
      ref.sent.inc(c.labels, c.sent);
      ref.received.inc(c.labels, c.received);
    });
  };
  // Samples by name and labels, so the comparison does not depend on the order series were created in; sums may
  // differ in the last bit (floating-point additions in another order).
  const samples = (text: string) => {
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const byKey = new Map(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))] as const));
    assert.equal(byKey.size, lines.length, 'no sample twice');
    return new Map([...byKey].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, Math.round(v * 1e6) / 1e6]));
  };
  const mine = new IstioMetrics();
  const ref = reference([]);
  feed(mine, ref, () => true);
  const expected = await ref.registry.metrics();
  assert.deepEqual(samples(await mine.render()), samples(expected));
  assert.deepEqual(samples(renderFamilies(mine.toJson())), samples(expected));
  assert.match(await mine.render(), /source_workload="we\\"ird\\\\name\\nx"/);
  // Two workers, each with part of the traffic: their sum is what one process that saw everything says.
  const w1 = new IstioMetrics();
  const w2 = new IstioMetrics();
  feed(w1, reference([]), (i) => i % 2 === 0);
  feed(w2, reference([]), (i) => i % 2 === 1);
  assert.deepEqual(samples(renderFamilies(sumFamilies([w1.toJson(), w2.toJson()]))), samples(expected));
  // An extra tag (a Telemetry override adding request_host) becomes a label of every metric from then on.
  const tagged = new IstioMetrics();
  const refTagged = reference(['request_host']);
  tagged.recordRequest({ ...base }, 1, 1, 1);
  const withHost = { ...base, request_host: 'reviews:9080' };
  tagged.recordRequest(withHost, 3, 10, 20);
  tagged.recordRequest(withHost, 4, 10, 20);
  for (const d of [3, 4]) {
    refTagged.requests.inc(withHost);
    refTagged.duration.observe(withHost, d);
    refTagged.req.observe(withHost, 10);
    refTagged.res.observe(withHost, 20);
  }
  assert.deepEqual(samples(await tagged.render()), samples(await refTagged.registry.metrics()));
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

test("the mesh config's accessLogFile logs every proxy (Istio's JSON fields with accessLogEncoding: JSON) unless a Telemetry configures logging", () => {
  const cm = (mesh: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    ${mesh}\n`;
  const json = loadText(cm('{accessLogFile: /tmp/mesh.log, accessLogEncoding: JSON}'), 'mesh.yaml').resources;
  const logs = effectiveTelemetry([], meshTelemetry(meshModelOf(json).config)).accessLogging;
  assert.equal(logs.length, 1);
  assert.equal(logs[0]!.provider.envoyFileAccessLog?.path, '/tmp/mesh.log');
  assert.equal(logs[0]!.provider.envoyFileAccessLog?.logFormat?.labels?.response_code, '%RESPONSE_CODE%');
  const text = loadText(cm('{accessLogFile: /dev/stdout, accessLogFormat: "%RESPONSE_CODE%"}'), 'mesh.yaml').resources;
  const [log] = telemetryForHcm(effectiveTelemetry([], meshTelemetry(meshModelOf(text).config)), 'CLIENT').accessLog;
  assert.deepEqual((log!.typedConfig as { logFormat: unknown }).logFormat, { textFormatSource: { inlineString: '%RESPONSE_CODE%\n' } });
  const off = effectiveTelemetry([{ accessLogging: [{ disabled: true }] }], meshTelemetry(meshModelOf(text).config));
  assert.deepEqual(off.accessLogging, [], 'a Telemetry that turns logging off wins');
  assert.deepEqual(effectiveTelemetry([], meshTelemetry(meshModelOf([]).config)).accessLogging, [], 'no accessLogFile: no log');
});
