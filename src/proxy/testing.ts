// Test helpers for the proxy: Envoy-JSON builders, real upstream servers on port 0, an HTTP client that never uses the environment's proxy.

import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Any, Cluster, ClusterLoadAssignment, EnvoySnapshot, HttpConnectionManager, Listener, Route, RouteConfiguration, VirtualHost } from '../xds/envoy/index.js';
import { typed, TYPE } from '../xds/envoy/index.js';
import { TrellisProxy, type ProxyOptions } from './proxy.js';
import type { HttpRequestRecord } from './records.js';

export const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcp: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
};

/** The HTTP filters Istio puts on every listener, in its order (CORS, fault, router). */
export function defaultHttpFilters() {
  return [
    { name: 'envoy.filters.http.cors', typedConfig: { '@type': T.cors } },
    { name: 'envoy.filters.http.fault', typedConfig: { '@type': T.fault } },
    { name: 'envoy.filters.http.router', typedConfig: { '@type': T.router } },
  ];
}

export function httpListener(name: string, routes: string | RouteConfiguration, hcm: Partial<HttpConnectionManager> = {}, address = '127.0.0.1', port = 0): Listener {
  const config: HttpConnectionManager = {
    statPrefix: name,
    ...(typeof routes === 'string' ? { rds: { routeConfigName: routes, configSource: { ads: {} } } } : { routeConfig: routes }),
    httpFilters: defaultHttpFilters(),
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    ...hcm,
  };
  return {
    name,
    address: { socketAddress: { address, portValue: port } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: typed(TYPE.hcm, config) }] }],
  };
}

export function tcpListener(name: string, cluster: string | Array<{ name: string; weight: number }>, extra: Record<string, unknown> = {}, address = '127.0.0.1'): Listener {
  const tcp = typeof cluster === 'string' ? { cluster } : { weightedClusters: { clusters: cluster } };
  return {
    name,
    address: { socketAddress: { address, portValue: 0 } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: name, ...tcp, ...extra } }] }],
  };
}

export function routeConfig(name: string, virtualHosts: VirtualHost[], extra: Partial<RouteConfiguration> = {}): RouteConfiguration {
  return { name, virtualHosts, ...extra };
}

export function vhost(name: string, domains: string[], routes: Route[], extra: Partial<VirtualHost> = {}): VirtualHost {
  return { name, domains, routes, ...extra };
}

export function routeTo(cluster: string, match: Route['match'] = { prefix: '/' }, action: Record<string, unknown> = {}, extra: Partial<Route> = {}): Route {
  return { match, route: { cluster, timeout: '0s', ...action }, ...extra };
}

export function edsCluster(name: string, extra: Partial<Cluster> = {}): Cluster {
  return { name, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: name } as Cluster['edsClusterConfig'], connectTimeout: '1s', ...extra };
}

export function http2Options() {
  return { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': T.httpOptions, explicitHttpConfig: { http2ProtocolOptions: {} } } };
}

export function cla(clusterName: string, endpoints: Array<{ port: number; address?: string; weight?: number; health?: string; priority?: number }>): ClusterLoadAssignment {
  const byPriority = new Map<number, typeof endpoints>();
  for (const e of endpoints) {
    const p = e.priority ?? 0;
    if (!byPriority.has(p)) byPriority.set(p, []);
    byPriority.get(p)!.push(e);
  }
  return {
    clusterName,
    endpoints: [...byPriority.entries()].map(([priority, eps]) => ({
      priority,
      lbEndpoints: eps.map((e) => ({
        endpoint: { address: { socketAddress: { address: e.address ?? '127.0.0.1', portValue: e.port } } },
        ...(e.weight ? { loadBalancingWeight: e.weight } : {}),
        ...(e.health ? { healthStatus: e.health as 'HEALTHY' } : {}),
      })),
    })),
  };
}

// ---------------------------------------------------------------- upstream servers

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  port: number;
  name: string;
  requests: SeenRequest[];
  server: http.Server | http2.Http2Server;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: SeenRequest, res: http.ServerResponse, count: number) => void | Promise<void>;

/** A real HTTP/1.1 (or h2c) server on port 0 that records requests; the default answer is 200 with the upstream's name. */
export async function startUpstream(name: string, handler?: UpstreamHandler, opts: { host?: string; h2?: boolean } = {}): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      try {
        if (handler) await handler(seen, res, requests.length);
        else {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
          res.end(name);
        }
      } catch {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    });
  };
  const server: http.Server | http2.Http2Server = opts.h2
    ? http2.createServer(onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
    : http.createServer({ keepAliveTimeout: 5_000 }, onRequest);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, opts.host ?? '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    name,
    requests,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- client

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  trailers: NodeJS.Dict<string>;
}

const agent = new http.Agent({ keepAlive: false });

/** One HTTP/1.1 request to 127.0.0.1:`port` (or `host`), never through an environment proxy. */
export function request(
  port: number,
  opts: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; host?: string; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: opts.host ?? '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent ?? agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), trailers: res.trailers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.end(opts.body);
  });
}

/** Waits for `cond` to hold, polling; fails after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** HTTP request records, filled by `proxy.observe({ onHttpRequest: (r) => records.push(r) })`; `nth(n)` waits for the n-th (from 1). */
export function requestRecords(): { records: HttpRequestRecord[]; nth(n: number): Promise<HttpRequestRecord> } {
  const records: HttpRequestRecord[] = [];
  return {
    records,
    nth: async (n) => {
      await waitFor(() => records.length >= n, 2000, 'request record');
      return records[n - 1]!;
    },
  };
}

/** A proxy with `snapshot` applied; `port(name)` gives a listener's bound port. */
export async function startProxy(snapshot: EnvoySnapshot, opts: ProxyOptions = {}): Promise<{ proxy: TrellisProxy; port: (listener: string) => number }> {
  const proxy = new TrellisProxy(opts);
  await proxy.apply(snapshot);
  return {
    proxy,
    port: (name) => {
      const a = proxy.listenerAddress(name);
      if (!a) throw new Error(`listener ${name} is not bound`);
      return a.port;
    },
  };
}
