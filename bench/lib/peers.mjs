// The proxies measured side by side: Trellis (dist/proxy/main.js with a static Envoy-JSON config), nginx and haproxy,
// each as one process (one worker / one thread) so the comparison is per core.
//
// Every starter takes (upstreamPort, options):
//   mode: 'http' (HTTP/1.1 in and out, the default), 'grpc' (HTTP/2 cleartext in and out) or 'tcp' (a byte pipe);
//   downstreamTls: certificates (bench/lib/certs.mjs): the listener terminates TLS and requires a client certificate
//     signed by the mesh root (the server sidecar of a two-hop mTLS path);
//   upstreamTls: certificates: the proxy originates TLS to its upstream with the client certificate and checks the
//     upstream's certificate (the client sidecar).
import { cpSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree, start, stop, tempDir } from './proc.mjs';
import { SERVER_NAME } from './certs.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let distCopy;
/**
 * The Trellis proxy runs from a copy of dist/ taken at the first start, so that a rebuild of the working tree during a
 * long run (others compiling src/) cannot make later rows measure other code than earlier ones. The copy sits next to
 * package.json (ESM) and a link to node_modules, so it resolves its dependencies like the original.
 */
function trellisMain() {
  if (!distCopy) {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-dist-'));
    tempDir(dir);
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.startsWith(join(ROOT, 'dist', 'console')) });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    distCopy = join(dir, 'dist/proxy/main.js');
  }
  return distCopy;
}

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
function running(child, port, removeDir) {
  return {
    port,
    pids: () => processTree(child.pid),
    stop: async () => {
      await stop(child);
      removeDir?.();
    },
  };
}

function workDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: tempDir(dir) };
}

// ---------------------------------------------------------------- Trellis

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const TLS = 'envoy.transport_sockets.tls';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

const file = (filename) => ({ filename });

/**
 * The static snapshot of one bench proxy. TLS is configured as Istio's ISTIO_MUTUAL does it (SPIFFE certificates
 * from the mesh CA, client certificate required on the server side, the server's SPIFFE identity checked on the
 * client side), with the certificates as files instead of SDS (a static config has no agent to fill the secret store).
 */
export function trellisSnapshot(listenPort, upstreamPort, { mode = 'http', downstreamTls, upstreamTls } = {}) {
  const terminal =
    mode === 'tcp'
      ? { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_PROXY, statPrefix: 'bench', cluster: 'upstream' } }
      : {
          name: 'envoy.filters.network.http_connection_manager',
          typedConfig: {
            '@type': HCM,
            statPrefix: 'bench',
            routeConfig: { name: 'bench', virtualHosts: [{ name: 'any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream', timeout: '0s' } }] }] },
            httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
          },
        };
  const chain = { filters: [terminal] };
  if (downstreamTls) {
    chain.transportSocket = {
      name: TLS,
      typedConfig: {
        '@type': DOWNSTREAM_TLS,
        requireClientCertificate: true,
        commonTlsContext: {
          tlsCertificates: [{ certificateChain: file(downstreamTls.server.cert), privateKey: file(downstreamTls.server.key) }],
          validationContext: { trustedCa: file(downstreamTls.root) },
        },
      },
    };
  }
  const cluster = { name: 'upstream', type: 'EDS', connectTimeout: '1s', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: 'upstream' } };
  if (mode === 'grpc') cluster.http2ProtocolOptions = {};
  if (upstreamTls) {
    cluster.transportSocket = {
      name: TLS,
      typedConfig: {
        '@type': UPSTREAM_TLS,
        sni: 'outbound_.80_._.backend.bench.svc.cluster.local',
        commonTlsContext: {
          tlsCertificates: [{ certificateChain: file(upstreamTls.client.cert), privateKey: file(upstreamTls.client.key) }],
          combinedValidationContext: { defaultValidationContext: { matchSubjectAltNames: [{ exact: upstreamTls.server.spiffe }], trustedCa: file(upstreamTls.root) } },
        },
      },
    };
  }
  return {
    listeners: [{ name: `0.0.0.0_${listenPort}`, address: { socketAddress: { address: '127.0.0.1', portValue: listenPort } }, filterChains: [chain] }],
    clusters: [cluster],
    endpoints: [{ clusterName: 'upstream', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: upstreamPort } } } }] }] }],
    routes: [],
  };
}

export async function startTrellis(upstreamPort, opts = {}) {
  const { dir, remove } = workDir('trellis-bench-proxy-');
  const port = await freePort();
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify(trellisSnapshot(port, upstreamPort, opts)));
  // "applied" only once the snapshot was accepted; a rejected one is logged as errors and fails the start.
  // --concurrency N: N worker processes share the listener (the primary logs "applied" once every worker has it).
  const workers = opts.concurrency ? ['--concurrency', String(opts.concurrency)] : [];
  const { child, match, output } = await start(process.execPath, [trellisMain(), '--config', cfg, '--admin-port', '0', '--drain-time-s', '1', ...workers], { ready: /applied .*|cannot apply.*|\berror\b.*/i });
  if (!/^applied/.test(match[0])) {
    await stop(child);
    remove();
    throw new Error(`Trellis rejected the bench config:\n${output().slice(-2000)}`);
  }
  await waitForPort(port);
  return running(child, port, remove);
}

// ---------------------------------------------------------------- nginx

const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export function nginxHasStream() {
  return existsSync(NGINX_STREAM_MODULE);
}

export async function startNginx(upstreamPort, { mode = 'http', downstreamTls, upstreamTls } = {}) {
  const { dir, remove } = workDir('trellis-bench-nginx-');
  const port = await freePort();
  const head = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }`;
  let conf;
  if (mode === 'tcp') {
    if (!nginxHasStream()) throw new Error(`nginx stream module missing (${NGINX_STREAM_MODULE}); apt-get install libnginx-mod-stream`);
    conf = `load_module ${NGINX_STREAM_MODULE};
${head}
stream {
  upstream up { server 127.0.0.1:${upstreamPort}; }
  server { listen 127.0.0.1:${port}; proxy_pass up; }
}`;
  } else {
    const listen = downstreamTls
      ? `listen 127.0.0.1:${port} ssl${mode === 'grpc' ? ' http2' : ''};
    ssl_certificate ${downstreamTls.dnsServer.cert}; ssl_certificate_key ${downstreamTls.dnsServer.key};
    ssl_client_certificate ${downstreamTls.root}; ssl_verify_client on; ssl_protocols TLSv1.2 TLSv1.3; # 1.22's default stops at 1.2`
      : `listen 127.0.0.1:${port}${mode === 'grpc' ? ' http2' : ''};`;
    const pass =
      mode === 'grpc'
        ? `grpc_pass grpc://up;`
        : upstreamTls
          ? `proxy_pass https://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_certificate ${upstreamTls.client.cert}; proxy_ssl_certificate_key ${upstreamTls.client.key};
      proxy_ssl_trusted_certificate ${upstreamTls.root}; proxy_ssl_verify on; proxy_ssl_name ${SERVER_NAME}; proxy_ssl_server_name on; proxy_ssl_session_reuse on;
      proxy_ssl_protocols TLSv1.2 TLSv1.3;`
          : `proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";`;
    conf = `${head}
http {
  access_log off;
  keepalive_requests 1000000; # nginx closes a client connection (HTTP/2 too) after 1000 requests by default
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; keepalive_requests 1000000; }
  server {
    ${listen}
    location / { ${pass} }
  }
}`;
  }
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = (await start('nginx', ['-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { ready: null })).child;
  await waitForPort(port, child);
  return running(child, port, remove);
}

// ---------------------------------------------------------------- haproxy

export async function startHaproxy(upstreamPort, { mode = 'http', downstreamTls, upstreamTls } = {}) {
  const { dir, remove } = workDir('trellis-bench-haproxy-');
  const port = await freePort();
  const bind = [`bind 127.0.0.1:${port}`];
  if (downstreamTls) bind.push(`ssl crt ${downstreamTls.dnsServer.both} ca-file ${downstreamTls.root} verify required`);
  if (mode === 'grpc') bind.push(downstreamTls ? 'alpn h2' : 'proto h2');
  const server = [`server s1 127.0.0.1:${upstreamPort}`];
  if (upstreamTls) server.push(`ssl crt ${upstreamTls.client.both} ca-file ${upstreamTls.root} verify required sni str(${SERVER_NAME}) verifyhost ${SERVER_NAME}`);
  if (mode === 'grpc') server.push(upstreamTls ? 'alpn h2' : 'proto h2');
  const conf = `
global
  nbthread 1
  maxconn 4096
defaults
  mode ${mode === 'tcp' ? 'tcp' : 'http'}
  timeout connect 5s
  timeout client 30s
  timeout server 30s
${mode === 'tcp' ? '' : '  http-reuse always\n'}frontend fe
  ${bind.join(' ')}
  default_backend be
backend be
  ${server.join(' ')}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), conf);
  const child = (await start('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { ready: null })).child;
  await waitForPort(port, child);
  return running(child, port, remove);
}

export const PEERS = { trellis: startTrellis, nginx: startNginx, haproxy: startHaproxy };

async function waitForPort(port, child, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`the proxy exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`nothing listens on 127.0.0.1:${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
