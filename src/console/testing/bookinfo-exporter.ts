// Test stand-in for Bookinfo's proxies: serves Istio-shaped metrics (counters that grow) and a /debug/syncz.
//
// Until `trellis up` runs Bookinfo behind real sidecars, the browser tests need a real Prometheus scraping
// something shaped like the mesh: this process is that something. The series carry Istio's standard labels,
// both reporters, mTLS where sidecars talk to sidecars, a few 5xx, and a latency histogram. The productpage →
// reviews split follows the reviews VirtualService in the config directory (even when there is none), so a
// traffic-shifting wizard's result shows in the graph. The real end-to-end test replaces it once the runtime lands.
//
// Usage: node dist/console/testing/bookinfo-exporter.js --config-dir DIR [--port N] [--namespace default]

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { loadPaths } from '../../config/loader.js';

interface Peer {
  ns: string;
  workload: string;
  app: string;
  version: string;
  sa: string;
}

interface Flow {
  from: Peer | 'unknown';
  to: Peer;
  service: string;
  rps: number;
  /** Share of requests answered 503. */
  errors: number;
  mtls: boolean;
  /** Mean latency (ms) of the exponential the histogram is drawn from. */
  latencyMs: number;
}

const BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

function peer(ns: string, workload: string, app: string, version: string, sa: string): Peer {
  return { ns, workload, app, version, sa };
}

/** Weights of the reviews versions: the reviews VirtualService's default route, or an even split (no VS). */
async function reviewsSplit(configDir: string, ns: string): Promise<Record<string, number>> {
  const even = { v1: 1 / 3, v2: 1 / 3, v3: 1 / 3 };
  const { resources } = await loadPaths([configDir]);
  const vs = resources.filter((r) => r.kind === 'VirtualService' && r.metadata.namespace === ns && ((r.spec.hosts as string[] | undefined) ?? []).some((h) => h === 'reviews' || h.startsWith(`reviews.${ns}`))).pop();
  if (!vs) return even;
  const http = (vs.spec.http as Array<{ match?: unknown; route?: Array<{ destination?: { subset?: string }; weight?: number }> }> | undefined) ?? [];
  const route = http.find((h) => !h.match)?.route ?? http[0]?.route;
  if (!route?.length) return even;
  const dr = resources.filter((r) => r.kind === 'DestinationRule' && r.metadata.namespace === ns && String(r.spec.host ?? '').startsWith('reviews')).pop();
  const subsets = new Map(((dr?.spec.subsets as Array<{ name: string; labels?: Record<string, string> }> | undefined) ?? []).map((s) => [s.name, s.labels?.version ?? s.name]));
  const out: Record<string, number> = { v1: 0, v2: 0, v3: 0 };
  const total = route.reduce((a, r) => a + (r.weight ?? (route.length === 1 ? 100 : 0)), 0) || 1;
  for (const r of route) {
    const version = subsets.get(r.destination?.subset ?? '') ?? r.destination?.subset ?? 'v1';
    out[version] = (out[version] ?? 0) + (r.weight ?? (route.length === 1 ? 100 : 0)) / total;
  }
  return out;
}

function flows(ns: string, split: Record<string, number>): Flow[] {
  const gw = peer('istio-system', 'istio-ingressgateway', 'istio-ingressgateway', 'unknown', 'istio-ingressgateway-service-account');
  const pp = peer(ns, 'productpage-v1', 'productpage', 'v1', 'bookinfo-productpage');
  const details = peer(ns, 'details-v1', 'details', 'v1', 'bookinfo-details');
  const rv = (v: string) => peer(ns, `reviews-${v}`, 'reviews', v, 'bookinfo-reviews');
  const ratings = peer(ns, 'ratings-v1', 'ratings', 'v1', 'bookinfo-ratings');
  const pageRps = 4;
  return [
    { from: gw, to: pp, service: 'productpage', rps: 3.6, errors: 0, mtls: true, latencyMs: 40 },
    { from: 'unknown', to: pp, service: 'productpage', rps: 0.4, errors: 0, mtls: false, latencyMs: 38 },
    { from: pp, to: details, service: 'details', rps: pageRps, errors: 0, mtls: false, latencyMs: 4 },
    ...(['v1', 'v2', 'v3'] as const).map((v) => ({ from: pp, to: rv(v), service: 'reviews', rps: pageRps * (split[v] ?? 0), errors: 0, mtls: true, latencyMs: v === 'v1' ? 8 : 20 })),
    { from: rv('v2'), to: ratings, service: 'ratings', rps: pageRps * (split.v2 ?? 0), errors: 0.03, mtls: true, latencyMs: 2 },
    { from: rv('v3'), to: ratings, service: 'ratings', rps: pageRps * (split.v3 ?? 0), errors: 0, mtls: true, latencyMs: 2 },
  ];
}

function labelsOf(f: Flow, reporter: 'source' | 'destination', code: string): Record<string, string> {
  const src = f.from === 'unknown' ? undefined : f.from;
  const td = 'cluster.local';
  return {
    reporter,
    source_workload: src?.workload ?? 'unknown',
    source_workload_namespace: src?.ns ?? 'unknown',
    source_principal: src && f.mtls ? `spiffe://${td}/ns/${src.ns}/sa/${src.sa}` : 'unknown',
    source_app: src?.app ?? 'unknown',
    source_version: src?.version ?? 'unknown',
    source_canonical_service: src?.app ?? 'unknown',
    source_canonical_revision: src?.version ?? 'latest',
    destination_workload: f.to.workload,
    destination_workload_namespace: f.to.ns,
    destination_principal: f.mtls ? `spiffe://${td}/ns/${f.to.ns}/sa/${f.to.sa}` : 'unknown',
    destination_app: f.to.app,
    destination_version: f.to.version,
    destination_service: `${f.service}.${f.to.ns}.svc.cluster.local`,
    destination_service_name: f.service,
    destination_service_namespace: f.to.ns,
    destination_canonical_service: f.to.app,
    destination_canonical_revision: f.to.version,
    request_protocol: 'http',
    response_code: code,
    grpc_response_status: '',
    response_flags: code === '503' ? 'UF' : '-',
    // As Istio reports it: the source proxy does not know the policy the destination applied.
    connection_security_policy: reporter === 'source' ? 'unknown' : f.mtls ? 'mutual_tls' : 'none',
  };
}

function render(labels: Record<string, string>, extra: Record<string, string> = {}): string {
  return Object.entries({ ...labels, ...extra })
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
}

class Exporter {
  /** Requests so far per series key (labels rendered), and the histogram parameters of each. */
  private readonly counts = new Map<string, { labels: Record<string, string>; count: number; latencyMs: number }>();
  private last = Date.now();
  private split: Record<string, number> = { v1: 1 / 3, v2: 1 / 3, v3: 1 / 3 };
  private splitReadAt = 0;
  readonly started = new Date();

  constructor(private readonly configDir: string, private readonly ns: string) {}

  private async refreshSplit(): Promise<void> {
    if (Date.now() - this.splitReadAt < 500) return;
    this.splitReadAt = Date.now();
    try {
      this.split = await reviewsSplit(this.configDir, this.ns);
    } catch {
      // keep the previous split: a half-written file must not stop the metrics
    }
  }

  async metrics(): Promise<string> {
    await this.refreshSplit();
    const now = Date.now();
    const dt = (now - this.last) / 1000;
    this.last = now;
    for (const f of flows(this.ns, this.split)) {
      const reporters: Array<'source' | 'destination'> = f.from === 'unknown' ? ['destination'] : ['source', 'destination'];
      for (const reporter of reporters) {
        for (const [code, share] of [['200', 1 - f.errors], ['503', f.errors]] as const) {
          const labels = labelsOf(f, reporter, code);
          const key = render(labels);
          const e = this.counts.get(key) ?? { labels, count: 0, latencyMs: f.latencyMs };
          // Series are created on first traffic and then kept, as a proxy's stats are.
          if (share > 0 && f.rps > 0) e.count += f.rps * share * dt;
          if (e.count > 0 || this.counts.has(key)) this.counts.set(key, e);
        }
      }
    }
    const lines: string[] = ['# TYPE istio_requests_total counter'];
    for (const [key, e] of this.counts) lines.push(`istio_requests_total{${key}} ${e.count.toFixed(3)}`);
    lines.push('# TYPE istio_request_duration_milliseconds histogram');
    for (const [, e] of this.counts) {
      const base = render(e.labels);
      for (const le of BUCKETS) lines.push(`istio_request_duration_milliseconds_bucket{${base},le="${le}"} ${(e.count * (1 - Math.exp(-le / e.latencyMs))).toFixed(3)}`);
      lines.push(`istio_request_duration_milliseconds_bucket{${base},le="+Inf"} ${e.count.toFixed(3)}`);
      lines.push(`istio_request_duration_milliseconds_sum{${base}} ${(e.count * e.latencyMs).toFixed(3)}`);
      lines.push(`istio_request_duration_milliseconds_count{${base}} ${e.count.toFixed(3)}`);
    }
    return lines.join('\n') + '\n';
  }

  /** The control plane's /debug/syncz shape (see src/xds/ads-server.ts), one sidecar per Bookinfo workload. */
  syncz(): unknown[] {
    const workloads: Array<[string, string, string, string]> = [
      ['productpage-v1', 'productpage', 'v1', 'bookinfo-productpage'],
      ['details-v1', 'details', 'v1', 'bookinfo-details'],
      ['reviews-v1', 'reviews', 'v1', 'bookinfo-reviews'],
      ['reviews-v2', 'reviews', 'v2', 'bookinfo-reviews'],
      ['reviews-v3', 'reviews', 'v3', 'bookinfo-reviews'],
      ['ratings-v1', 'ratings', 'v1', 'bookinfo-ratings'],
    ];
    const types = ['envoy.config.cluster.v3.Cluster', 'envoy.config.listener.v3.Listener', 'envoy.config.endpoint.v3.ClusterLoadAssignment', 'envoy.config.route.v3.RouteConfiguration'];
    return workloads.map(([wl, app, version, sa], i) => {
      const pod = `${wl}-7d9f8c6b5${i}-x${i}k2z`;
      const ip = `127.0.1.${i + 1}`;
      return {
        id: `sidecar~${ip}~${pod}.${this.ns}~${this.ns}.svc.cluster.local`,
        connectionId: String(i + 1),
        mode: 'sotw',
        peer: `${ip}:4${i}000`,
        connectedAt: this.started.toISOString(),
        identity: { role: 'sidecar', ip, podName: pod, namespace: this.ns, domain: `${this.ns}.svc.cluster.local`, labels: { app, version }, serviceAccount: sa, generator: 'envoy', istioVersion: '1.16.0', clusterId: 'Kubernetes' },
        node: { id: `sidecar~${ip}~${pod}.${this.ns}~${this.ns}.svc.cluster.local` },
        types: types.map((t) => ({ typeUrl: `type.googleapis.com/${t}`, subscribed: '*', versionSent: 'v1', nonceSent: 'n1', versionAcked: 'v1', resources: 4, state: 'SYNCED' })),
        certificate: { identity: `spiffe://cluster.local/ns/${this.ns}/sa/${sa}`, notBefore: this.started.toISOString(), notAfter: new Date(this.started.getTime() + 24 * 3600 * 1000).toISOString() },
      };
    });
  }
}

export async function startExporter(configDir: string, port = 0, namespace = 'default'): Promise<{ port: number; close(): Promise<void> }> {
  const exporter = new Exporter(configDir, namespace);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      exporter.metrics().then((text) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(text);
      }, (err) => res.writeHead(500).end(String(err)));
    } else if (path === '/debug/syncz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(exporter.syncz()));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { 'config-dir': { type: 'string' }, port: { type: 'string' }, namespace: { type: 'string' } } });
  if (!values['config-dir']) {
    process.stderr.write('usage: bookinfo-exporter --config-dir DIR [--port N] [--namespace NS]\n');
    process.exit(2);
  }
  startExporter(values['config-dir'], Number(values.port ?? 0), values.namespace ?? 'default').then((e) => {
    process.stdout.write(`listening ${e.port}\n`);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void e.close().then(() => process.exit(0)));
  });
}
