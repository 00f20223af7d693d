// The proxies measured side by side: Trellis (dist/proxy/main.js with a static Envoy-JSON config), nginx and haproxy,
// each as one process (one worker / one thread) so the comparison is per core.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree, start, stop } from './proc.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A running proxy process: its listening port, the pids whose CPU counts, and stop(). */
async function running(child, port, dir) {
  return {
    port,
    pids: () => processTree(child.pid),
    stop: async () => {
      await stop(child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- Trellis

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

function trellisSnapshot(listenPort, upstreamPort) {
  return {
    listeners: [
      {
        name: `0.0.0.0_${listenPort}`,
        address: { socketAddress: { address: '127.0.0.1', portValue: listenPort } },
        filterChains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typedConfig: {
                  '@type': HCM,
                  statPrefix: 'bench',
                  routeConfig: { name: 'bench', virtualHosts: [{ name: 'any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream', timeout: '0s' } }] }] },
                  httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
                },
              },
            ],
          },
        ],
      },
    ],
    clusters: [{ name: 'upstream', type: 'EDS', connectTimeout: '1s', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: 'upstream' } }],
    endpoints: [{ clusterName: 'upstream', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstreamPort } } } }] }] }],
    routes: [],
  };
}

export async function startTrellis(upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-proxy-'));
  const port = await freePort();
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(trellisSnapshot(port, upstreamPort)));
  const { child } = await start(process.execPath, [join(ROOT, 'dist/proxy/main.js'), '--config', file, '--admin-port', '0'], { ready: /applied/ });
  await waitForPort(port);
  return running(child, port, dir);
}

// ---------------------------------------------------------------- nginx

export async function startNginx(upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-nginx-'));
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = (await start('nginx', ['-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { ready: null })).child;
  await waitForPort(port);
  return running(child, port, dir);
}

// ---------------------------------------------------------------- haproxy

export async function startHaproxy(upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-haproxy-'));
  const port = await freePort();
  const conf = `
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  server s1 127.0.0.1:${upstreamPort}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), conf);
  const child = (await start('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { ready: null })).child;
  await waitForPort(port);
  return running(child, port, dir);
}

export const PEERS = { trellis: startTrellis, nginx: startNginx, haproxy: startHaproxy };

async function waitForPort(port, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
