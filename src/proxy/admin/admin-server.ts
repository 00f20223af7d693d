// The admin port (Envoy's 15000): /config_dump, /clusters, /listeners, /stats, /ready, /server_info, /logging, /quitquitquit.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PORTS } from '../../ports.js';
import { VERSION } from '../../version.js';
import { allLoggers, LEVELS, setLevel, log } from '../log.js';
import type { TrellisProxy } from '../proxy.js';
import { proxyTarget, type AdminTarget } from './admin-target.js';
import { clustersJson, clustersText } from './clusters-text.js';

const logger = log('admin');

export interface AdminOptions {
  /** Bound to loopback by default: the admin API can reconfigure logging and stop the proxy. */
  address?: string;
  port?: number;
  /** What /quitquitquit does after answering; the default drains the proxy (the program then exits). */
  onQuit?: () => void;
}

type Handler = (url: URL, req: http.IncomingMessage) => { status?: number; type?: string; body: string } | Promise<{ status?: number; type?: string; body: string }>;

interface Endpoint {
  help: string;
  mutates: boolean;
  handler: Handler;
}

function json(v: unknown): { type: string; body: string } {
  return { type: 'application/json', body: JSON.stringify(v, null, 2) + '\n' };
}

function duration(ms: number): string {
  return `${Math.floor(ms / 1000)}s`;
}

export class AdminServer {
  private readonly server: http.Server;
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(proxy: TrellisProxy | AdminTarget, private readonly opts: AdminOptions = {}) {
    const target = 'clusterList' in proxy ? proxyTarget(proxy) : proxy;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.register('/', 'admin home page', false, () => this.helpText());
    this.register('/help', 'print out list of admin commands', false, () => this.helpText());
    this.register('/config_dump', 'dump current Envoy configs (?include_eds, ?resource=, ?name_regex=)', false, async (u) => {
      const nr = u.searchParams.get('name_regex');
      if (nr) new RegExp(nr); // a bad expression is the caller's 400, before any other process is asked
      return json(await target.configDump({ includeEds: u.searchParams.has('include_eds'), resource: u.searchParams.get('resource') ?? undefined, nameRegex: nr ?? undefined }));
    });
    this.register('/clusters', 'upstream cluster status (?format=json)', false, async (u) => {
      const clusters = await target.clusters();
      return u.searchParams.get('format') === 'json' ? json(clustersJson(clusters)) : { body: clustersText(clusters) };
    });
    this.register('/listeners', 'print listener info (?format=json)', false, async (u) => {
      const ls = await target.listeners();
      if (u.searchParams.get('format') === 'json') {
        return json({ listenerStatuses: ls.map((l) => ({ name: l.name, localAddress: { socketAddress: { address: l.address, portValue: l.port } } })) });
      }
      return { body: ls.map((l) => `${l.name}::${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}\n`).join('') };
    });
    this.register('/stats', 'print server stats (?filter=regex, ?usedonly, ?format=json)', false, async (u) => {
      const f = u.searchParams.get('filter');
      const re = f ? new RegExp(f) : undefined;
      const used = u.searchParams.has('usedonly');
      const entries = (await target.stats()).filter(([n, v]) => (!re || re.test(n)) && (!used || v !== 0));
      if (u.searchParams.get('format') === 'json') return json({ stats: entries.map(([name, value]) => ({ name, value })) });
      return { body: entries.map(([n, v]) => `${n}: ${v}\n`).join('') };
    });
    this.register('/ready', 'print server state, return 200 if LIVE, otherwise return 503', false, () => ({ status: target.ready ? 200 : 503, body: `${target.state}\n` }));
    this.register('/server_info', 'print server version/status information', false, () =>
      json({
        version: `trellis/${VERSION}/Clean/RELEASE/BoringSSL`,
        state: target.state === 'LIVE' ? 'LIVE' : target.state === 'DRAINING' ? 'DRAINING' : 'PRE_INITIALIZING',
        hotRestartVersion: 'disabled',
        commandLineOptions: { serviceNode: target.options.nodeId ?? '', serviceCluster: target.options.serviceCluster ?? '', drainTime: duration(target.options.listenerDrainMs) },
        node: { id: target.options.nodeId ?? '', cluster: target.options.serviceCluster ?? '', userAgentName: 'trellis', userAgentBuildVersion: { version: VERSION } },
        uptimeCurrentEpoch: duration(Date.now() - target.startedAt),
        uptimeAllEpochs: duration(Date.now() - target.startedAt),
      }),
    );
    this.register('/logging', 'query/change logging levels (POST ?level=debug or ?<logger>=<level>)', false, (u, req) => {
      if (req.method === 'POST') {
        for (const [k, v] of u.searchParams) {
          const ok = k === 'level' ? setLevel(v) : setLevel(v, k);
          if (!ok) return { status: 404, body: `error: unknown logger or level ${k}=${v}; levels: ${LEVELS.join(', ')}\n` };
          target.loggingChanged?.(v, k === 'level' ? undefined : k);
        }
      }
      return { body: 'active loggers:\n' + allLoggers().map((l) => `  ${l.name}: ${l.level}\n`).join('') };
    });
    this.register('/memory', 'print current allocation/heap usage', false, () => {
      const m = process.memoryUsage();
      return json({ allocated: String(m.heapUsed), heapSize: String(m.heapTotal), pageheapUnmapped: '0', pageheapFree: '0', totalThreadCache: '0', totalPhysicalBytes: String(m.rss) });
    });
    this.register('/runtime', 'print runtime values', false, () => json({ layers: [], entries: {} }));
    this.register('/drain_listeners', 'drain listeners (POST)', true, async () => {
      target.drainListeners();
      return { body: 'OK\n' };
    });
    this.register('/quitquitquit', 'exit the server (POST): drain, then stop', true, () => {
      setImmediate(() => (this.opts.onQuit ? this.opts.onQuit() : target.drainListeners()));
      return { body: 'OK\n' };
    });
  }

  register(path: string, help: string, mutates: boolean, handler: Handler): void {
    this.endpoints.set(path, { help, mutates, handler });
  }

  private helpText(): { body: string } {
    return { body: 'admin commands are:\n' + [...this.endpoints.entries()].filter(([p]) => p !== '/').map(([p, e]) => `  ${p}: ${e.help}\n`).join('') };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const ep = this.endpoints.get(url.pathname);
    let out: { status?: number; type?: string; body: string };
    if (!ep) out = { status: 404, body: `invalid path: ${url.pathname}\n` + this.helpText().body };
    else if (ep.mutates && req.method !== 'POST') out = { status: 405, body: 'This endpoint requires POST\n' };
    else {
      try {
        out = await ep.handler(url, req);
      } catch (err) {
        logger.warn(`admin ${url.pathname}: ${(err as Error).message}`);
        out = { status: 400, body: `error: ${(err as Error).message}\n` };
      }
    }
    res.writeHead(out.status ?? 200, { 'content-type': out.type ?? 'text/plain; charset=UTF-8', 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
    res.end(out.body);
  }

  async start(): Promise<{ address: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? PORTS.proxyAdmin, this.opts.address ?? '127.0.0.1', () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    const a = this.server.address() as AddressInfo;
    return { address: a.address, port: a.port };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
