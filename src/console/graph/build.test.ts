// The graph builder on vectors shaped like Prometheus's answers to Kiali's queries for Bookinfo.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../sources.js';
import { buildGraph, type GraphInput } from './build.js';
import { KIALI_DEFAULT_HEALTH, ratesHealth } from './health.js';
import { graphQueries } from './queries.js';
import type { Graph, GraphType } from './types.js';

interface Hop {
  src: [ns: string, workload: string, app: string, version: string];
  dst: [ns: string, service: string, workload: string, app: string, version: string];
}

function labels(h: Hop): Record<string, string> {
  const [sns, swl, sapp, sver] = h.src;
  const [dns, dsvc, dwl, dapp, dver] = h.dst;
  return {
    source_workload_namespace: sns,
    source_workload: swl,
    source_app: sapp,
    source_version: sver,
    destination_service_namespace: dns,
    destination_service: `${dsvc}.${dns}.svc.cluster.local`,
    destination_service_name: dsvc,
    destination_workload_namespace: dns,
    destination_workload: dwl,
    destination_app: dapp,
    destination_version: dver,
  };
}

function req(h: Hop, rate: number, code = '200', extra: Record<string, string> = {}): Sample {
  return { metric: { ...labels(h), request_protocol: 'http', response_code: code, grpc_response_status: '', response_flags: '-', ...extra }, value: rate };
}

function sec(h: Hop, rate: number, policy: 'mutual_tls' | 'none'): Sample {
  const l = labels(h);
  return {
    metric: { ...l, source_principal: policy === 'mutual_tls' ? `spiffe://cluster.local/ns/${l.source_workload_namespace}/sa/bookinfo-${l.source_app}` : 'unknown', destination_principal: policy === 'mutual_tls' ? `spiffe://cluster.local/ns/${l.destination_service_namespace}/sa/bookinfo-${l.destination_app}` : 'unknown', connection_security_policy: policy },
    value: rate,
  };
}

function rt(h: Hop, ms: number): Sample {
  const { destination_service: _d, ...l } = labels(h);
  return { metric: l, value: ms };
}

const ns = 'bookinfo';
const unknownSrc: Hop['src'] = ['unknown', 'unknown', 'unknown', 'unknown'];
const productpage: Hop['src'] = [ns, 'productpage-v1', 'productpage', 'v1'];
const reviews = (v: string): Hop['src'] => [ns, `reviews-${v}`, 'reviews', v];
const toProductpage: Hop['dst'] = [ns, 'productpage', 'productpage-v1', 'productpage', 'v1'];
const toReviews = (v: string): Hop['dst'] => [ns, 'reviews', `reviews-${v}`, 'reviews', v];
const toRatings: Hop['dst'] = [ns, 'ratings', 'ratings-v1', 'ratings', 'v1'];
const toDetails: Hop['dst'] = [ns, 'details', 'details-v1', 'details', 'v1'];

/** Bookinfo under load: 3 rps into productpage, split evenly over reviews v1/v2/v3; v2 and v3 call ratings. */
function bookinfo(): GraphInput {
  const hops = {
    ingress: { src: unknownSrc, dst: toProductpage },
    details: { src: productpage, dst: toDetails },
    r1: { src: productpage, dst: toReviews('v1') },
    r2: { src: productpage, dst: toReviews('v2') },
    r3: { src: productpage, dst: toReviews('v3') },
    rat2: { src: reviews('v2'), dst: toRatings },
    rat3: { src: reviews('v3'), dst: toRatings },
  };
  return {
    requests: [
      // query 1 (unknown source, destination-reported)
      req(hops.ingress, 3),
      // query 3 (sources in the namespace, source-reported)
      req(hops.details, 3),
      req(hops.r1, 1),
      req(hops.r2, 1),
      req(hops.r3, 0.9),
      req(hops.r3, 0.1, '503', { response_flags: 'UH' }),
      req(hops.rat2, 0.95),
      req(hops.rat2, 0.05, '500'),
      req(hops.rat3, 1),
      // a series with no traffic in the window: no edge from it
      req({ src: productpage, dst: toReviews('v4') }, 0),
    ],
    tcp: [],
    responseTime: [rt(hops.ingress, 48), rt(hops.details, 4.75), rt(hops.r1, 9.5), rt(hops.r2, 24), rt(hops.r3, 30), rt(hops.rat2, 2.4), rt(hops.rat3, 2.5), { metric: rt(hops.r1, 0).metric, value: NaN }],
    security: [
      sec(hops.ingress, 3, 'none'),
      sec(hops.details, 3, 'none'),
      sec(hops.r1, 1, 'mutual_tls'),
      sec(hops.r2, 1, 'mutual_tls'),
      sec(hops.r3, 1, 'mutual_tls'),
      sec(hops.rat2, 1, 'mutual_tls'),
      sec(hops.rat3, 0.5, 'mutual_tls'),
      sec(hops.rat3, 0.5, 'none'),
    ],
  };
}

function build(graphType: GraphType, input = bookinfo(), extra: Partial<Parameters<typeof buildGraph>[1]> = {}): Graph {
  return buildGraph(input, { graphType, namespaces: [ns], duration: 60, timestamp: 1000, ...extra });
}

const node = (g: Graph, id: string) => g.elements.nodes.find((n) => n.data.id === id)?.data;
const edge = (g: Graph, from: string, to: string) => g.elements.edges.find((e) => e.data.source === from && e.data.target === to)?.data;
const close = (a: number | undefined, b: number, msg?: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} ≈ ${b}`);

test('versioned-app graph: productpage → reviews v1/v2/v3 → ratings through service nodes', () => {
  const g = build('versionedApp');
  const ids = g.elements.nodes.map((n) => n.data.id).sort();
  assert.deepEqual(ids, [
    'svc_bookinfo_details',
    'svc_bookinfo_productpage',
    'svc_bookinfo_ratings',
    'svc_bookinfo_reviews',
    'unknown_unknown',
    'vapp_bookinfo_details-v1',
    'vapp_bookinfo_productpage-v1',
    'vapp_bookinfo_ratings-v1',
    'vapp_bookinfo_reviews-v1',
    'vapp_bookinfo_reviews-v2',
    'vapp_bookinfo_reviews-v3',
  ]);
  const pp = node(g, 'vapp_bookinfo_productpage-v1')!;
  assert.equal(pp.nodeType, 'app');
  assert.equal(pp.app, 'productpage');
  assert.equal(pp.version, 'v1');
  assert.equal(pp.workload, 'productpage-v1');
  assert.equal(node(g, 'unknown_unknown')!.nodeType, 'unknown');
  assert.equal(node(g, 'unknown_unknown')!.isRoot, true);

  // productpage → reviews service carries all three versions' traffic; one hop per version behind it.
  const toSvc = edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_reviews')!;
  close(toSvc.rps, 3);
  close(toSvc.errorRate, (0.1 / 3) * 100);
  for (const v of ['v1', 'v2', 'v3']) close(edge(g, 'svc_bookinfo_reviews', `vapp_bookinfo_reviews-${v}`)!.rps, 1, v);
  close(edge(g, 'vapp_bookinfo_reviews-v2', 'svc_bookinfo_ratings')!.rps, 1);
  close(edge(g, 'vapp_bookinfo_reviews-v3', 'svc_bookinfo_ratings')!.rps, 1);
  close(edge(g, 'svc_bookinfo_ratings', 'vapp_bookinfo_ratings-v1')!.rps, 2);
  assert.equal(edge(g, 'vapp_bookinfo_reviews-v1', 'svc_bookinfo_ratings'), undefined, 'reviews v1 does not call ratings');
  assert.deepEqual(edge(g, 'svc_bookinfo_reviews', 'vapp_bookinfo_reviews-v3')!.responses, { '200': { '-': 0.9 }, '503': { UH: 0.1 } });
  assert.deepEqual(toSvc.hosts, ['reviews.bookinfo.svc.cluster.local']);
});

test('mTLS: the percentage of each edge that was mutual TLS, absent where none was', () => {
  const g = build('versionedApp');
  close(edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_reviews')!.isMTLS, 100);
  close(edge(g, 'svc_bookinfo_reviews', 'vapp_bookinfo_reviews-v1')!.isMTLS, 100);
  close(edge(g, 'vapp_bookinfo_reviews-v3', 'svc_bookinfo_ratings')!.isMTLS, 50);
  assert.equal(edge(g, 'unknown_unknown', 'svc_bookinfo_productpage')!.isMTLS, undefined);
  assert.equal(edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_details')!.isMTLS, undefined);
  assert.equal(edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_reviews')!.destPrincipal, 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews');
});

test('response time: on the service → workload hop, as Kiali sets it; NaN quantiles are skipped', () => {
  const g = build('versionedApp');
  assert.equal(edge(g, 'svc_bookinfo_reviews', 'vapp_bookinfo_reviews-v2')!.responseTimeMs, 24);
  assert.equal(edge(g, 'svc_bookinfo_reviews', 'vapp_bookinfo_reviews-v1')!.responseTimeMs, 9.5);
  assert.equal(edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_reviews')!.responseTimeMs, undefined);
  // Without service nodes the time lands on the direct edge.
  const direct = build('versionedApp', bookinfo(), { injectServiceNodes: false });
  assert.equal(edge(direct, 'vapp_bookinfo_productpage-v1', 'vapp_bookinfo_reviews-v3')!.responseTimeMs, 30);
  assert.equal(direct.elements.nodes.some((n) => n.data.nodeType === 'service'), false);
});

test('health: Kiali default tolerances per node and edge', () => {
  const g = build('versionedApp');
  // 5% 5xx into ratings from v2: any 5xx degrades, 10% fails.
  assert.equal(edge(g, 'vapp_bookinfo_reviews-v2', 'svc_bookinfo_ratings')!.health, 'Degraded');
  assert.equal(node(g, 'vapp_bookinfo_reviews-v2')!.health, 'Degraded', 'outbound errors count for the caller');
  assert.match(node(g, 'vapp_bookinfo_reviews-v2')!.healthReason!, /outbound 5xx 5\.00%/);
  assert.equal(node(g, 'vapp_bookinfo_reviews-v1')!.health, 'Healthy');
  assert.equal(node(g, 'vapp_bookinfo_details-v1')!.health, 'Healthy');
  assert.equal(node(g, 'svc_bookinfo_ratings')!.health, 'Degraded');
  assert.equal(node(g, 'unknown_unknown')!.health, 'NA');

  const rates = (total: number, e4: number, e5: number) => ({ total, err4xx: e4, err5xx: e5, grpcErr: 0 });
  assert.equal(ratesHealth(rates(100, 0, 0)).status, 'Healthy');
  assert.equal(ratesHealth(rates(10000, 0, 1)).status, 'Degraded', '0.01% 5xx');
  assert.equal(ratesHealth(rates(100, 0, 10)).status, 'Degraded', 'exactly 10% 5xx is not yet Failure');
  assert.equal(ratesHealth(rates(100, 0, 11)).status, 'Failure');
  assert.equal(ratesHealth(rates(100, 10, 0)).status, 'Healthy', '4xx up to 10% tolerated');
  assert.equal(ratesHealth(rates(100, 15, 0)).status, 'Degraded');
  assert.equal(ratesHealth(rates(100, 25, 0)).status, 'Failure');
  assert.equal(ratesHealth(rates(0, 0, 0)).status, 'NA');
  assert.equal(ratesHealth({ total: 10, err4xx: 0, err5xx: 0, grpcErr: 2 }, KIALI_DEFAULT_HEALTH).status, 'Failure');
});

test('app graph: one node per app, versions folded together', () => {
  const g = build('app');
  assert.ok(node(g, 'app_bookinfo_reviews'));
  assert.equal(node(g, 'app_bookinfo_reviews')!.version, undefined);
  assert.equal(g.elements.nodes.filter((n) => n.data.id.startsWith('vapp_')).length, 0);
  close(edge(g, 'svc_bookinfo_reviews', 'app_bookinfo_reviews')!.rps, 3);
  close(edge(g, 'app_bookinfo_reviews', 'svc_bookinfo_ratings')!.rps, 2);
  // Slowest version wins when versions fold into one edge.
  assert.equal(edge(g, 'svc_bookinfo_reviews', 'app_bookinfo_reviews')!.responseTimeMs, 30);
});

test('workload graph: workload nodes', () => {
  const g = build('workload');
  const wl = node(g, 'wl_bookinfo_reviews-v3')!;
  assert.equal(wl.nodeType, 'workload');
  assert.equal(wl.workload, 'reviews-v3');
  close(edge(g, 'svc_bookinfo_reviews', 'wl_bookinfo_reviews-v3')!.rps, 1);
});

test('service graph: services only, workloads reduced away', () => {
  const g = build('service');
  assert.deepEqual(g.elements.nodes.map((n) => n.data.id).sort(), ['svc_bookinfo_details', 'svc_bookinfo_productpage', 'svc_bookinfo_ratings', 'svc_bookinfo_reviews', 'unknown_unknown']);
  close(edge(g, 'unknown_unknown', 'svc_bookinfo_productpage')!.rps, 3);
  close(edge(g, 'svc_bookinfo_productpage', 'svc_bookinfo_reviews')!.rps, 3);
  close(edge(g, 'svc_bookinfo_reviews', 'svc_bookinfo_ratings')!.rps, 2);
  close(edge(g, 'svc_bookinfo_reviews', 'svc_bookinfo_ratings')!.isMTLS, 75);
  assert.equal(edge(g, 'svc_bookinfo_reviews', 'svc_bookinfo_ratings')!.responseTimeMs, 2.5);
});

test('gateways, other namespaces and duplicate series', () => {
  const gw: Hop = { src: ['istio-system', 'istio-ingressgateway', 'istio-ingressgateway', 'unknown'], dst: toProductpage };
  const input = bookinfo();
  input.requests.push(req(gw, 2), req(gw, 2)); // the same series from two namespaces' queries counts once
  const g = build('versionedApp', input);
  const gwNode = node(g, 'vapp_istio-system_istio-ingressgateway')!;
  assert.equal(gwNode.isGateway, true);
  assert.equal(gwNode.isOutside, true);
  assert.equal(gwNode.isRoot, true);
  close(edge(g, 'vapp_istio-system_istio-ingressgateway', 'svc_bookinfo_productpage')!.rps, 2);
  close(edge(g, 'svc_bookinfo_productpage', 'vapp_bookinfo_productpage-v1')!.rps, 5);
});

test('ambient workloads carry the badge on their nodes, services and others do not', () => {
  const g = build('versionedApp', bookinfo(), { isAmbient: (_ns, workload) => workload.startsWith('reviews-') });
  assert.equal(node(g, 'vapp_bookinfo_reviews-v2')!.isAmbient, true);
  assert.equal(node(g, 'vapp_bookinfo_productpage-v1')!.isAmbient, undefined);
  assert.equal(node(g, 'svc_bookinfo_reviews')!.isAmbient, undefined);
});

test('ambient: a waypoint is its own node between the client and the service; the node proxy is an infrastructure node', () => {
  // The node proxy reports productpage → the waypoint (TCP, on the way to reviews); the waypoint reports the requests
  // it passed on to reviews (reporter="waypoint"), the client known by its certificate only.
  const toWaypoint: Hop['dst'] = [ns, 'reviews', 'waypoint', 'waypoint', ''];
  const viaWaypoint = (code: string, rate: number): Sample => ({
    metric: { ...req({ src: [ns, 'unknown', 'unknown', 'unknown'], dst: [ns, 'reviews', 'unknown', 'unknown', 'unknown'] }, rate, code).metric, source_principal: `spiffe://cluster.local/ns/${ns}/sa/bookinfo-productpage`, connection_security_policy: 'mutual_tls' },
    value: rate,
  });
  const input: GraphInput = {
    requests: [],
    tcp: [{ metric: { ...labels({ src: productpage, dst: toWaypoint }), response_flags: '-' }, value: 500 }],
    responseTime: [],
    security: [],
    waypointRequests: [viaWaypoint('200', 2), viaWaypoint('403', 0.5)],
  };
  const ambient = {
    isAmbient: (_ns: string, workload: string) => workload === 'productpage-v1',
    isWaypoint: (_ns: string, workload: string) => workload === 'waypoint',
    waypointOf: (n: string, service: string) => (service === 'reviews' ? { namespace: n, workload: 'waypoint' } : undefined),
    nodeProxy: { namespace: 'istio-system', workload: 'ztunnel' },
  };
  const g = build('versionedApp', input, ambient);
  assert.equal(node(g, 'vapp_bookinfo_waypoint')!.isWaypoint, true);
  assert.equal(edge(g, 'vapp_bookinfo_productpage-v1', 'vapp_bookinfo_waypoint')!.tcpBps, 500);
  assert.equal(edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_reviews'), undefined, 'no service node in front of the waypoint');
  const passed = edge(g, 'vapp_bookinfo_waypoint', 'svc_bookinfo_reviews')!;
  assert.equal(passed.protocol, 'http');
  close(passed.rps, 2.5);
  close(passed.err4xx, 0.5);
  assert.equal(passed.isMTLS, 100);
  assert.equal(passed.sourcePrincipal, `spiffe://cluster.local/ns/${ns}/sa/bookinfo-productpage`);
  assert.ok(!g.elements.nodes.some((n) => n.data.nodeType === 'unknown'), 'the waypoint\'s series make no unknown client node');
  const ztunnel = node(g, 'wl_istio-system_ztunnel')!;
  assert.equal(ztunnel.isZtunnel, true);
  assert.equal(ztunnel.isOutside, true);
  assert.ok(!g.elements.edges.some((e) => e.data.source === ztunnel.id || e.data.target === ztunnel.id), 'infrastructure: no traffic edges');
  // No ambient workload in the graph: no node proxy; no waypoint for the service: its series are not drawn.
  assert.equal(node(build('versionedApp', input, { ...ambient, isAmbient: () => false }), 'wl_istio-system_ztunnel'), undefined);
  const { waypointOf: _w, ...noWaypoint } = ambient;
  assert.equal(edge(build('versionedApp', input, noWaypoint), 'vapp_bookinfo_waypoint', 'svc_bookinfo_reviews'), undefined);
});

test('tcp traffic and requests to unknown hosts', () => {
  const input = bookinfo();
  input.tcp.push({ metric: { ...labels({ src: [ns, 'ratings-v2', 'ratings', 'v2'], dst: [ns, 'mongodb', 'mongodb-v1', 'mongodb', 'v1'] }), response_flags: '-' }, value: 2048 });
  input.requests.push({
    metric: { ...labels({ src: productpage, dst: [ns, '', '', '', ''] }), destination_service: 'www.example.com', destination_service_name: '', destination_service_namespace: '', destination_workload_namespace: '', request_protocol: 'http', response_code: '502', response_flags: 'NR' },
    value: 0.5,
  });
  const g = build('versionedApp', input);
  const tcp = edge(g, 'svc_bookinfo_mongodb', 'vapp_bookinfo_mongodb-v1')!;
  assert.equal(tcp.protocol, 'tcp');
  assert.equal(tcp.tcpBps, 2048);
  assert.equal(node(g, 'vapp_bookinfo_mongodb-v1')!.health, 'Healthy');
  const ext = edge(g, 'vapp_bookinfo_productpage-v1', 'svc_bookinfo_www.example.com')!;
  assert.equal(ext.errorRate, 100);
  assert.equal(node(g, 'svc_bookinfo_www.example.com')!.health, 'Failure');
});

test("queries: Kiali's three selectors per metric, by namespace and duration", () => {
  const q = graphQueries('bookinfo', 300);
  assert.equal(q.requests.length, 3);
  assert.match(q.requests[0]!, /^sum\(rate\(istio_requests_total\{reporter="destination",source_workload="unknown",destination_workload_namespace="bookinfo"\}\[300s\]\)\) by \(source_workload_namespace,/);
  assert.match(q.requests[1]!, /reporter="source",source_workload_namespace!="bookinfo",source_workload!="unknown",destination_service_namespace="bookinfo"/);
  assert.match(q.requests[2]!, /reporter="source",source_workload_namespace="bookinfo"\}\[300s\]/);
  assert.match(q.requests[2]!, /response_code,grpc_response_status,response_flags\)$/);
  assert.match(q.tcp[0]!, /istio_tcp_sent_bytes_total/);
  assert.match(q.responseTime[2]!, /^histogram_quantile\(0\.95, sum\(rate\(istio_request_duration_milliseconds_bucket\{reporter="source",source_workload_namespace="bookinfo",response_code=~"2\[0-9\]\{2\}"\}\[300s\]\)\) by \(le,/);
  assert.match(q.security[1]!, /connection_security_policy\)/);
  assert.match(q.security[1]!, /reporter="destination",source_workload_namespace="bookinfo"/);
  assert.match(q.waypointRequests[0]!, /istio_requests_total\{reporter="waypoint",destination_service_namespace="bookinfo"\}\[300s\]\)\) by \(.*,source_principal,connection_security_policy\)$/);
});
