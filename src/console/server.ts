// The console's HTTP server (the Kiali role): serves the web bundle and the JSON API under /api/.
//
// Request lifecycle for /api/ (each step names the status it can fail with):
//   route        → 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED
//   host check   → 403 HOST_NOT_ALLOWED   (loopback binding: the Host header must be a loopback name)
//   credentials  → 401 UNAUTHORIZED       (non-loopback binding: bearer token or session cookie; not for public routes)
//   write checks → 403 VIEW_ONLY, 415 UNSUPPORTED_MEDIA_TYPE, 403 CROSS_SITE
//   capability   → 503 ISTIO_API_DISABLED, 503 METRICS_UNAVAILABLE
//   handler      → 200, or 4xx from validation (422 VALIDATION_FAILED …), 502 PROMETHEUS_ERROR / CONTROL_PLANE_ERROR, 500 INTERNAL

import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Auth } from './api/auth.js';
import { ApiError } from './api/errors.js';
import { meshRoutes } from './api/mesh-routes.js';
import { metricsRoutes } from './api/metrics-routes.js';
import { podRoutes } from './api/pod-routes.js';
import { isRaw, Router, type ApiRequest, type ConsoleContext } from './api/router.js';
import { sessionRoutes, writeRoutes } from './api/write-routes.js';
import { PrometheusError } from './metrics/prometheus.js';
import { PORTS } from '../ports.js';
import { PLUGIN_BASE_PATH } from './plugin-metadata.js';
import type { MeshSource, MetricsSource } from './sources.js';

export const DEFAULT_CONSOLE_PORT = PORTS.console;
const MAX_BODY = 1024 * 1024;

export interface ConsoleServerOptions {
  mesh: MeshSource;
  /** Prometheus; without it the graph, health and charts say so and the rest works. */
  metrics?: MetricsSource;
  /** Default 127.0.0.1. Anything but a loopback address requires a token. */
  host?: string;
  /** Default 20001; 0 picks a free port. */
  port?: number;
  /** Kiali's `deployment.view_only_mode`: no writes offered, and the API refuses them. */
  viewOnlyMode?: boolean;
  /** Kiali's `external_services.istio.istio_api_enabled`: false when the control plane's API is not reachable. */
  istioApiEnabled?: boolean;
  /** Token for non-loopback bindings; generated when omitted (read it from `server.token`). */
  token?: string;
  /** Where the built web bundle is (default: `web/` next to this module, i.e. dist/console/web). */
  webDir?: string;
  /** The built OpenShift console plugin (dist/console/plugin), served under /plugin/ for the console's bridge. */
  pluginDir?: string;
  log?: (line: string) => void;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
  '.yaml': 'application/yaml',
};

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // PatternFly and the topology set inline styles; nothing else comes from anywhere but the console itself.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

export class ConsoleServer {
  private readonly server: http.Server;
  private readonly router: Router;
  private readonly ctx: ConsoleContext;
  private readonly webDir: string;
  private readonly pluginDir: string | undefined;
  private readonly log: (line: string) => void;
  readonly host: string;

  constructor(private readonly options: ConsoleServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    const auth = new Auth({ bindHost: this.host, ...(options.token ? { token: options.token } : {}) });
    this.ctx = { mesh: options.mesh, viewOnlyMode: options.viewOnlyMode ?? false, istioApiEnabled: options.istioApiEnabled ?? true, auth, ...(options.metrics ? { metrics: options.metrics } : {}) };
    this.router = new Router().add(...sessionRoutes, ...meshRoutes, ...metricsRoutes, ...podRoutes, ...writeRoutes);
    this.webDir = resolve(options.webDir ?? fileURLToPath(new URL('./web/', import.meta.url)));
    this.pluginDir = options.pluginDir ? resolve(options.pluginDir) : undefined;
    this.log = options.log ?? (() => {});
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        this.log(`console: ${(err as Error).stack ?? err}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  /** Whether callers need a token (the server is bound to a non-loopback address). */
  get authRequired(): boolean {
    return this.ctx.auth.required;
  }

  get token(): string {
    return this.ctx.auth.token;
  }

  routes(): ReturnType<Router['list']> {
    return this.router.list();
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolveListen, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? DEFAULT_CONSOLE_PORT, this.host, () => resolveListen());
    });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((done) => {
      this.server.closeAllConnections();
      this.server.close(() => done());
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return this.api(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.sendError(res, new ApiError('METHOD_NOT_ALLOWED'));
    if (this.pluginDir && url.pathname.startsWith(PLUGIN_BASE_PATH)) return this.servePlugin(url.pathname.slice(PLUGIN_BASE_PATH.length), res);
    return this.serveStatic(url.pathname, res);
  }

  /** A file of the built plugin (what the OpenShift console's bridge fetches for `/api/plugins/<name>/…`), or 404. */
  private async servePlugin(rel: string, res: http.ServerResponse): Promise<void> {
    const file = insideDir(this.pluginDir!, rel);
    const data = file ? await readFile(file).catch(() => undefined) : undefined;
    if (!file || !data) return this.sendError(res, new ApiError('NOT_FOUND', rel === 'plugin-manifest.json' ? 'the console plugin is not built: run `npm run build:plugin`' : 'not found'));
    const ext = extname(file);
    res.writeHead(200, {
      'x-content-type-options': 'nosniff',
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      // Chunks are named by content hash; the manifest and the entry name them and must be fresh.
      'cache-control': /-[0-9a-f]{20}\.min\.js$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-length': data.length,
    });
    res.end(data);
  }

  private async api(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    try {
      const found = this.router.match(req.method ?? 'GET', url.pathname);
      if (found === 'not-found') throw new ApiError('NOT_FOUND', `no API route ${url.pathname}`);
      if (found === 'method-not-allowed') throw new ApiError('METHOD_NOT_ALLOWED');
      const { route, params } = found;
      const auth = this.ctx.auth;
      if (route.public) {
        if (!auth.required) auth.check(req);
      } else {
        auth.check(req);
      }
      if (route.write) {
        if (this.ctx.viewOnlyMode) throw new ApiError('VIEW_ONLY');
        auth.checkWrite(req);
      }
      if (route.istioApi && !this.ctx.istioApiEnabled) throw new ApiError('ISTIO_API_DISABLED');
      if (route.metrics && !this.ctx.metrics) throw new ApiError('METRICS_UNAVAILABLE');
      const apiReq: ApiRequest = { method: req.method ?? 'GET', path: url.pathname, params, query: url.searchParams, raw: req, body: () => readBody(req) };
      const out = await route.handler(apiReq, this.ctx);
      if (isRaw(out)) return this.send(res, out.status, out.body, out.headers);
      return this.send(res, 200, out);
    } catch (err) {
      if (err instanceof ApiError) return this.sendError(res, err);
      if (err instanceof PrometheusError) return this.sendError(res, new ApiError('PROMETHEUS_ERROR', err.message));
      this.log(`console: ${req.method} ${url.pathname}: ${(err as Error).stack ?? err}`);
      return this.sendError(res, new ApiError('INTERNAL', (err as Error).message));
    }
  }

  private sendError(res: http.ServerResponse, err: ApiError): void {
    this.send(res, err.status, err.toJSON());
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async serveStatic(pathname: string, res: http.ServerResponse): Promise<void> {
    let file = insideDir(this.webDir, pathname);
    // Paths that are not files (the app's own routes) get the app; nothing outside webDir is ever read.
    if (!file || !(await stat(file).then((s) => s.isFile(), () => false))) file = join(this.webDir, 'index.html');
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      res.end('The console web bundle is not built: run `npm run build`.\n');
      return;
    }
    const ext = extname(file);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      // Bundle files are named by content hash; the page that names them must always be fresh.
      'cache-control': ext === '.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
      'content-length': data.length,
    });
    res.end(data);
  }
}

/** `dir/rel` when it is a file path inside `dir` (no `..` escapes), else undefined. */
function insideDir(dir: string, rel: string): string | undefined {
  let clean: string;
  try {
    clean = normalize(decodeURIComponent(rel)).replace(/^([/\\])+/, '');
  } catch {
    return undefined;
  }
  const file = join(dir, clean);
  return clean !== '' && file.startsWith(dir + sep) ? file : undefined;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError('PAYLOAD_TOO_LARGE'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
