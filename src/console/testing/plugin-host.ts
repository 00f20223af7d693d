// A stand-in for the OpenShift console around the plugin, for the browser test (no OpenShift console runs here): it
// serves the host page (web/plugin-host, which loads the plugin as the console does) and does what the console's
// bridge does for a ConsolePlugin — `/api/plugins/<name>/…` from the plugin's backend, `/api/proxy/plugin/<name>/
// <alias>/…` to its proxy endpoint with the user's bearer token.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_BUNDLE } from '../build-web.js';
import { PLUGIN_BASE_PATH, PLUGIN_NAME, PROXY_ALIAS } from '../plugin-metadata.js';

export interface PluginHost {
  url: string;
  close(): Promise<void>;
}

/** The host page's bundle (esbuild), in a temporary directory. */
async function buildHostPage(outDir: string): Promise<void> {
  const { build } = await import('esbuild');
  const entry = fileURLToPath(new URL('../../../src/console/web/plugin-host/host.tsx', import.meta.url));
  const result = await build({ ...BROWSER_BUNDLE, entryPoints: { host: entry }, outdir: outDir });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const js = outputs.find((f) => /^host-.*\.js$/.test(f));
  const css = outputs.find((f) => /^host-.*\.css$/.test(f));
  await writeFile(join(outDir, 'index.html'), `<!doctype html>\n<html><head><meta charset="utf-8"><title>OpenShift console (test host)</title>${css ? `<link rel="stylesheet" href="/host/${css}">` : ''}<script type="module" src="/host/${js}"></script></head><body><div id="root"></div></body></html>\n`);
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.woff2': 'font/woff2', '.svg': 'image/svg+xml' };

/** Forward a request to the Trellis console as the bridge would, streaming the answer back. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL, token: string): void {
  const headers = { ...req.headers, host: target.host, authorization: `Bearer ${token}` };
  delete headers.origin;
  delete headers.cookie;
  const up = http.request(target, { method: req.method, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', (err) => {
    res.writeHead(502);
    res.end(err.message);
  });
  req.pipe(up);
}

export async function startPluginHost(options: { consoleUrl: string; token: string }): Promise<PluginHost> {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-plugin-host-'));
  const hostDir = join(dir, 'host');
  await mkdir(hostDir);
  await buildHostPage(hostDir);
  const consoleUrl = options.consoleUrl.replace(/\/$/, '');
  const plugins = `/api/plugins/${PLUGIN_NAME}/`;
  const proxy = `/api/proxy/plugin/${PLUGIN_NAME}/${PROXY_ALIAS}/`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host.invalid');
    if (url.pathname.startsWith(plugins)) return forward(req, res, new URL(`${consoleUrl}${PLUGIN_BASE_PATH}${url.pathname.slice(plugins.length)}`), options.token);
    if (url.pathname.startsWith(proxy)) return forward(req, res, new URL(`${consoleUrl}/${url.pathname.slice(proxy.length)}${url.search}`), options.token);
    // The host's own files under /host/; every other path is the console's page (the plugin's routes among them).
    const rel = url.pathname.startsWith('/host/') ? normalize(url.pathname.slice('/host/'.length)) : 'index.html';
    const file = join(hostDir, rel.startsWith('..') ? 'index.html' : rel);
    readFile(file).then(
      (data) => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(data);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
