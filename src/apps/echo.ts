// An echo server in the roles of httpbin (mccutchen/go-httpbin's endpoints) and of the Gateway API conformance echo backend (any other path).

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readBody, send } from './lib/http-util.js';
import { bindAddress, isMain, listen, programPort, runUntilSignal, type Env, type RunningApp, type StartOptions } from './lib/serve.js';
import { clientOrigin, headerMap, parseBody, requestUrl, valuesMap } from './echo-request.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
/** go-httpbin's defaults: 10 s longest delay, 1 MiB largest body. */
const MAX_DELAY_MS = 10_000;
const MAX_BODY = 1024 * 1024;

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed' };

class BadRequest extends Error {}

function writeJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, `${JSON.stringify(value, null, 2)}\n`, JSON_TYPE, headers);
}

function writeError(res: http.ServerResponse, status: number, detail?: string): void {
  writeJson(res, status, { status_code: status, error: STATUS_TEXT[status] ?? http.STATUS_CODES[status] ?? '', ...(detail ? { detail } : {}) });
}

/** `3`, `1.5` (seconds) or Go durations such as `500ms`, `2s`, `1m`. */
export function parseDelay(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched = re.lastIndex;
  }
  if (!text || matched !== text.length) throw new BadRequest(`invalid duration: ${text}`);
  return total;
}

/** `418`, or a weighted list such as `200:0.7,500:0.3` (equal weights when omitted). */
export function pickStatus(text: string, random: () => number = Math.random): number {
  const choices = text.split(',').map((part) => {
    const [codeText, weightText] = part.split(':');
    const code = Number(codeText);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!/^\d{3}$/.test(codeText ?? '') || code < 100 || code > 599 || !(weight >= 0)) throw new BadRequest(`invalid status: ${part}`);
    return { code, weight };
  });
  const total = choices.reduce((a, c) => a + c.weight, 0);
  let r = random() * total;
  for (const c of choices) {
    if (r < c.weight) return c.code;
    r -= c.weight;
  }
  return choices[choices.length - 1]!.code;
}

/** Deterministic bytes for /bytes?seed= (mulberry32). */
function seededBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

const INDEX_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>httpbin (trellis echo)</title></head>
<body>
<h1>httpbin: HTTP request and response service</h1>
<p>An httpbin-compatible echo server. Endpoints:</p>
<ul>
<li><code>/get</code>, <code>/post</code>, <code>/put</code>, <code>/patch</code>, <code>/delete</code>, <code>/anything</code></li>
<li><code>/headers</code>, <code>/ip</code>, <code>/user-agent</code>, <code>/uuid</code>, <code>/cookies</code></li>
<li><code>/status/:code</code>, <code>/delay/:seconds</code>, <code>/bytes/:n</code>, <code>/response-headers?k=v</code></li>
<li><code>/redirect/:n</code>, <code>/redirect-to?url=</code></li>
<li>any other path: the request echoed as JSON (path, host, method, headers, namespace, pod)</li>
</ul>
</body></html>
`;

export function createEchoServer(env: Env): http.Server {
  const context = {
    namespace: env.NAMESPACE ?? env.POD_NAMESPACE ?? '',
    ingress: env.INGRESS_NAME ?? '',
    service: env.SERVICE_NAME ?? '',
    pod: env.POD_NAME ?? env.HOSTNAME ?? '',
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const body = await readBody(req, MAX_BODY);

    const noBody = (): Record<string, unknown> => ({
      args: valuesMap(url.searchParams),
      headers: headerMap(req, true),
      method,
      origin: clientOrigin(req),
      url: requestUrl(req),
    });
    const withBody = (): Record<string, unknown> => {
      const parsed = parseBody(body, req.headers['content-type']);
      return { ...noBody(), data: parsed.data, files: parsed.files, form: parsed.form, json: parsed.json };
    };
    const only = (...methods: string[]): boolean => {
      if (methods.includes(method) || (method === 'HEAD' && methods.includes('GET'))) return true;
      writeError(res, 405);
      return false;
    };

    if (path === '/' && String(req.headers.accept ?? '').includes('text/html')) {
      send(res, 200, INDEX_HTML, HTML_TYPE);
      return;
    }
    if (path === '/get') {
      if (only('GET')) writeJson(res, 200, noBody());
      return;
    }
    const bodyMethod = /^\/(post|put|patch|delete)$/.exec(path);
    if (bodyMethod) {
      if (only(bodyMethod[1]!.toUpperCase())) writeJson(res, 200, withBody());
      return;
    }
    if (path === '/anything' || path.startsWith('/anything/')) {
      writeJson(res, 200, method === 'HEAD' ? noBody() : withBody());
      return;
    }
    if (path === '/headers') return writeJson(res, 200, { headers: headerMap(req, true) });
    if (path === '/ip') return writeJson(res, 200, { origin: clientOrigin(req) });
    if (path === '/user-agent') return writeJson(res, 200, { 'user-agent': req.headers['user-agent'] ?? '' });
    if (path === '/uuid') return writeJson(res, 200, { uuid: randomUUID() });
    if (path === '/hostname') return writeJson(res, 200, { hostname: context.pod || 'go-httpbin' });
    if (path === '/cookies') {
      const cookies: Record<string, string> = {};
      for (const part of String(req.headers.cookie ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0) cookies[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
      }
      return writeJson(res, 200, cookies);
    }
    const status = /^\/status\/([^/]+)$/.exec(path);
    if (status) {
      const code = pickStatus(decodeURIComponent(status[1]!));
      const special: Record<number, { headers: Record<string, string>; body?: string }> = {
        301: { headers: { location: '/redirect/1' } },
        302: { headers: { location: '/redirect/1' } },
        303: { headers: { location: '/redirect/1' } },
        305: { headers: { location: '/redirect/1' } },
        307: { headers: { location: '/redirect/1' } },
        401: { headers: { 'www-authenticate': 'Basic realm="Fake Realm"' } },
        407: { headers: { 'proxy-authenticate': 'Basic realm="Fake Realm"' } },
        418: { headers: { 'x-more-info': 'http://tools.ietf.org/html/rfc2324' }, body: "I'm a teapot!" },
      };
      const s = special[code];
      const noContent = code === 204 || code === 304 || code < 200;
      if (noContent) {
        res.writeHead(code, s?.headers ?? {});
        res.end();
      } else {
        send(res, code, s?.body ?? '', TEXT_TYPE, s?.headers ?? {});
      }
      return;
    }
    const delay = /^\/delay\/([^/]+)$/.exec(path);
    if (delay) {
      const ms = parseDelay(decodeURIComponent(delay[1]!));
      if (ms > MAX_DELAY_MS) throw new BadRequest(`invalid duration: ${delay[1]} not in range [0, 10s]`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        res.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed || res.writableEnded) return;
      writeJson(res, 200, method === 'HEAD' ? noBody() : withBody(), { 'server-timing': `initial_delay;dur=${ms};desc="initial delay"` });
      return;
    }
    const bytes = /^\/bytes\/([^/]+)$/.exec(path);
    if (bytes) {
      const n = Number(bytes[1]);
      if (!Number.isInteger(n) || n < 0 || n > MAX_BODY) throw new BadRequest(`invalid byte count: ${bytes[1]}`);
      const seedText = url.searchParams.get('seed');
      const seed = seedText === null ? Math.floor(Math.random() * 2 ** 32) : Number(seedText);
      if (!Number.isFinite(seed)) throw new BadRequest(`invalid seed: ${seedText}`);
      send(res, 200, seededBytes(n, seed), 'application/octet-stream');
      return;
    }
    if (path === '/response-headers') {
      const values = valuesMap(url.searchParams);
      const ctKey = Object.keys(values).find((k) => k.toLowerCase() === 'content-type');
      if (!ctKey) values['Content-Type'] = [JSON_TYPE];
      const headers: Record<string, string[]> = {};
      for (const [k, vs] of Object.entries(values)) headers[k] = vs;
      const text = `${JSON.stringify(values, null, 2)}\n`;
      res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
      res.end(method === 'HEAD' ? undefined : text);
      return;
    }
    const redirect = /^\/(?:relative-)?redirect\/(\d+)$/.exec(path);
    if (redirect) {
      const n = Number(redirect[1]);
      if (n < 1) throw new BadRequest('redirect count must be > 0');
      res.writeHead(302, { location: n === 1 ? '/get' : `/relative-redirect/${n - 1}`, 'content-length': '0' });
      res.end();
      return;
    }
    if (path === '/redirect-to') {
      const to = url.searchParams.get('url');
      if (!to) throw new BadRequest('missing required query parameter: url');
      const code = Number(url.searchParams.get('status_code') ?? 302);
      if (!(code >= 300 && code <= 399)) throw new BadRequest(`invalid status code: ${code}`);
      res.writeHead(code, { location: to, 'content-length': '0' });
      res.end();
      return;
    }
    echoAnything(req, res, url, body, context);
  };

  return http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof BadRequest) writeError(res, 400, err.message);
      else writeError(res, 500, err instanceof Error ? err.message : String(err));
    });
  });
}

/**
 * The Gateway API echo backend's answer: what arrived (path, host, method, protocol,
 * headers) and where it landed (namespace, service, pod), plus query and body.
 * `X-Echo-Set-Header: name: value, name2: value2` adds response headers, as that backend does.
 */
function echoAnything(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  body: Buffer,
  context: Record<string, string>,
): void {
  const extra: Record<string, string> = {};
  const setHeader = req.headers['x-echo-set-header'];
  if (typeof setHeader === 'string') {
    for (const item of setHeader.split(',')) {
      const colon = item.indexOf(':');
      if (colon > 0) extra[item.slice(0, colon).trim()] = item.slice(colon + 1).trim();
    }
  }
  const answer = {
    path: req.url ?? '/',
    host: req.headers.host ?? '',
    method: req.method ?? 'GET',
    proto: `HTTP/${req.httpVersion}`,
    headers: headerMap(req, false),
    ...context,
    query: valuesMap(url.searchParams),
    body: body.toString('utf8'),
  };
  send(res, 200, JSON.stringify(answer), 'application/json', extra);
}

export function startEcho(opts: StartOptions = {}): Promise<RunningApp> {
  const env = opts.env ?? process.env;
  return listen(createEchoServer(env), opts.port ?? 8080, opts.host ?? bindAddress(env));
}

if (isMain(import.meta.url)) {
  runUntilSignal('echo', async () => {
    const app = await startEcho({ port: programPort(process.argv.slice(2), process.env, 8080) });
    return { close: app.close, describe: `listening on ${app.host}:${app.port}` };
  });
}
