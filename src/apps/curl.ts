// A curl-like CLI (stands in for docker.io/curlimages/curl): one transfer per URL, curl's output options, -w variables and exit codes, honouring HTTP_PROXY/NO_PROXY.

import { readFileSync, writeFileSync } from 'node:fs';
import { HttpClientError, httpRequest, type FailureKind, type HttpResponse } from './lib/http-client.js';
import { isMain, type Env } from './lib/serve.js';
import { CurlUsageError, parseCurlArgs, type CurlOptions, type DataPart } from './curl-args.js';

/** The version the upstream sample manifests pin; shown in User-Agent like the real image. */
export const CURL_VERSION = '8.16.0';

/** curl's exit code for each failure kind. */
const EXIT: Record<FailureKind, number> = {
  'resolve-proxy': 5,
  resolve: 6,
  connect: 7,
  timeout: 28,
  tls: 35,
  'empty-reply': 52,
  recv: 56,
  other: 1,
};

export interface CurlIo {
  stdout: (chunk: string | Buffer) => void;
  stderr: (chunk: string) => void;
  env: Env;
  readStdin?: () => Buffer;
}

/** What -w can report about one transfer. */
interface TransferInfo {
  url: string;
  method: string;
  response?: HttpResponse;
  exitCode: number;
  errorMessage: string;
  redirects: number;
  totalMs: number;
}

function readData(part: DataPart, io: CurlIo): string {
  const fromFile = (name: string): Buffer => (name === '-' ? io.readStdin?.() ?? Buffer.alloc(0) : readFileSync(name));
  switch (part.kind) {
    case 'raw':
      return part.value;
    case 'binary':
      return part.value.startsWith('@') ? fromFile(part.value.slice(1)).toString('latin1') : part.value;
    case 'ascii':
      return part.value.startsWith('@') ? fromFile(part.value.slice(1)).toString('utf8').replace(/[\r\n]/g, '') : part.value;
    case 'urlencode': {
      const v = part.value;
      const at = v.indexOf('@');
      const eq = v.indexOf('=');
      if (eq >= 0 && (at < 0 || eq < at)) return `${v.slice(0, eq)}${eq > 0 ? '=' : ''}${encodeURIComponent(v.slice(eq + 1))}`;
      if (at >= 0) {
        const content = encodeURIComponent(fromFile(v.slice(at + 1)).toString('utf8'));
        return at > 0 ? `${v.slice(0, at)}=${content}` : content;
      }
      return encodeURIComponent(v);
    }
  }
}

/** Adds http:// when the URL has no scheme, as curl does. */
export function normaliseUrl(raw: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
}

/** Builds the header list: curl's defaults, then -H lines (`Name:` removes a header, `Name;` sends it empty). */
function requestHeaders(o: CurlOptions, hasBody: boolean): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    ['User-Agent', o.userAgent ?? `curl/${CURL_VERSION}`],
    ['Accept', '*/*'],
  ];
  if (o.user !== undefined) headers.push(['Authorization', `Basic ${Buffer.from(o.user.includes(':') ? o.user : `${o.user}:`).toString('base64')}`]);
  if (o.cookie !== undefined && o.cookie.includes('=')) headers.push(['Cookie', o.cookie]);
  if (hasBody) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  for (const line of o.headers) {
    const semi = /^([^:;]+);\s*$/.exec(line);
    if (semi) {
      headers.push([semi[1]!.trim(), '']);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const existing = headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (existing >= 0 && ['user-agent', 'accept', 'content-type', 'authorization', 'cookie'].includes(name.toLowerCase())) {
      headers.splice(existing, 1);
    }
    if (value === '') {
      // "Host:" / "Accept:" with nothing after the colon removes curl's own header.
      for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toLowerCase() === name.toLowerCase()) headers.splice(i, 1);
      continue;
    }
    headers.push([name, value]);
  }
  return headers;
}

function statusLine(r: HttpResponse): string {
  return `HTTP/${r.httpVersion} ${r.status}${r.statusMessage ? ` ${r.statusMessage}` : ''}`;
}

function headerBlock(r: HttpResponse): string {
  let out = `${statusLine(r)}\r\n`;
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) out += `${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}\r\n`;
  return `${out}\r\n`;
}

/** Expands a -w format: %{var}, %header{name}, %%, and \n \r \t escapes. */
export function formatWriteOut(format: string, t: TransferInfo): string {
  const r = t.response;
  const secs = (ms: number | undefined): string => (ms === undefined || ms < 0 ? '0.000000' : (ms / 1000).toFixed(6));
  const vars: Record<string, () => string> = {
    http_code: () => String(r?.status ?? 0).padStart(3, '0'),
    response_code: () => String(r?.status ?? 0).padStart(3, '0'),
    http_version: () => (r ? r.httpVersion.replace(/\.0$/, '') : '0'),
    method: () => t.method,
    url: () => t.url,
    url_effective: () => t.url,
    content_type: () => String(r?.headers['content-type'] ?? ''),
    size_download: () => String(r?.body.length ?? 0),
    size_header: () => String(r ? Buffer.byteLength(headerBlock(r)) : 0),
    size_upload: () => '0',
    num_redirects: () => String(t.redirects),
    remote_ip: () => r?.remoteAddress.replace(/^::ffff:/, '') ?? '',
    remote_port: () => String(r?.remotePort ?? 0),
    exitcode: () => String(t.exitCode),
    errormsg: () => t.errorMessage,
    time_total: () => secs(t.totalMs),
    time_connect: () => secs(r?.timings.connectMs),
    time_namelookup: () => secs(r ? Math.min(r.timings.connectMs, 0.001) : undefined),
    time_pretransfer: () => secs(r?.timings.connectMs),
    time_starttransfer: () => secs(r?.timings.firstByteMs),
    redirect_url: () => (r && r.status >= 300 && r.status < 400 ? String(r.headers.location ?? '') : ''),
  };
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '\\' && i + 1 < format.length) {
      const n = format[i + 1]!;
      const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };
      if (esc[n] !== undefined) {
        out += esc[n];
        i++;
        continue;
      }
    }
    if (c === '%') {
      if (format[i + 1] === '%') {
        out += '%';
        i++;
        continue;
      }
      const v = /^%\{([a-z_]+)\}/.exec(format.slice(i));
      if (v) {
        const fn = vars[v[1]!];
        out += fn ? fn() : '';
        i += v[0].length - 1;
        continue;
      }
      const h = /^%header\{([^}]+)\}/.exec(format.slice(i));
      if (h) {
        const value = r?.headers[h[1]!.toLowerCase()];
        out += Array.isArray(value) ? value.join(', ') : value ?? '';
        i += h[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** One URL, following redirects with -L. Returns curl's exit code. */
async function transfer(rawUrl: string, o: CurlOptions, io: CurlIo, body: string | undefined): Promise<number> {
  const started = performance.now();
  let url = normaliseUrl(rawUrl);
  let method = o.method ?? (o.head ? 'HEAD' : body !== undefined ? 'POST' : 'GET');
  let sendBody = body;
  if (o.getWithData && body !== undefined) {
    url += (url.includes('?') ? '&' : '?') + body;
    sendBody = undefined;
    method = o.method ?? (o.head ? 'HEAD' : 'GET');
  }
  const info: TransferInfo = { url, method, exitCode: 0, errorMessage: '', redirects: 0, totalMs: 0 };
  const tlsFiles = {
    ...(o.cacert ? { ca: readFileSync(o.cacert) } : {}),
    ...(o.cert ? { cert: readFileSync(o.cert) } : {}),
    ...(o.key ? { key: readFileSync(o.key) } : {}),
    insecure: o.insecure,
  };
  const env: Env = o.noProxy !== undefined ? { ...io.env, NO_PROXY: o.noProxy, no_proxy: o.noProxy } : io.env;
  const showErrors = !o.silent || o.showError;
  const finish = (code: number, message: string): number => {
    info.exitCode = code;
    info.errorMessage = message;
    info.totalMs = performance.now() - started;
    if (o.writeOut !== undefined) io.stdout(formatWriteOut(o.writeOut, info));
    if (code !== 0 && showErrors) io.stderr(`curl: (${code}) ${message}\n`);
    return code;
  };

  for (;;) {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish(3, `URL rejected: Malformed input to a URL function`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return finish(1, `Protocol "${target.protocol.replace(/:$/, '')}" not supported`);
    }
    const headers = requestHeaders(o, sendBody !== undefined);
    if (o.verbose) io.stderr(`*   Trying ${target.host}...\n`);
    const remainingMs = o.maxTimeS !== undefined ? Math.max(1, o.maxTimeS * 1000 - (performance.now() - started)) : undefined;
    let res: HttpResponse;
    try {
      res = await httpRequest({
        url,
        method,
        headers,
        ...(sendBody !== undefined ? { body: sendBody } : {}),
        ...(remainingMs !== undefined ? { timeoutMs: remainingMs } : {}),
        ...(o.connectTimeoutS !== undefined ? { connectTimeoutMs: o.connectTimeoutS * 1000 } : {}),
        env,
        ...(o.proxy !== undefined ? { proxy: o.proxy === '' ? null : o.proxy } : {}),
        resolve: o.resolve,
        tls: tlsFiles,
      });
    } catch (err) {
      if (err instanceof HttpClientError) {
        if (err.kind === 'timeout' && o.maxTimeS !== undefined && !err.message.startsWith('Connection')) {
          return finish(28, `Operation timed out after ${Math.round(performance.now() - started)} milliseconds with 0 bytes received`);
        }
        return finish(EXIT[err.kind], err.message);
      }
      return finish(1, err instanceof Error ? err.message : String(err));
    }
    info.response = res;
    info.url = url;
    info.method = method;
    if (o.verbose) {
      io.stderr(`* Connected to ${target.hostname} (${res.remoteAddress}) port ${res.remotePort}\n`);
      io.stderr(`> ${res.sent.requestLine}\n`);
      for (const [n, v] of res.sent.headers) io.stderr(`> ${n}: ${v}\n`);
      io.stderr('> \n');
      for (const line of headerBlock(res).split('\r\n').slice(0, -1)) io.stderr(`< ${line}\n`);
    }
    const location = res.headers.location;
    if (o.location && location && res.status >= 300 && res.status < 400) {
      if (o.include || o.head) io.stdout(headerBlock(res));
      if (info.redirects >= o.maxRedirs) return finish(47, `Maximum (${o.maxRedirs}) redirects followed`);
      info.redirects++;
      url = new URL(location, url).href;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = o.head ? 'HEAD' : 'GET';
        sendBody = undefined;
      }
      continue;
    }
    if (o.fail && res.status >= 400) {
      return finish(22, `The requested URL returned error: ${res.status}`);
    }
    const headerText = o.include || o.head ? headerBlock(res) : '';
    const payload = o.head ? Buffer.from(headerText) : Buffer.concat([Buffer.from(headerText), res.body]);
    if (o.output !== undefined && o.output !== '-') {
      try {
        writeFileSync(o.output, payload);
      } catch (err) {
        return finish(23, `Failure writing output to destination: ${(err as Error).message}`);
      }
    } else {
      io.stdout(payload);
    }
    return finish(0, '');
  }
}

/** Runs curl with `argv` (without the program name) and returns its exit code. */
export async function runCurl(argv: readonly string[], io: CurlIo): Promise<number> {
  let o: CurlOptions;
  try {
    o = parseCurlArgs(argv);
  } catch (err) {
    if (err instanceof CurlUsageError) {
      io.stderr(`curl: ${err.message}\n`);
      if (err.exitCode === 2) io.stderr(`curl: try 'curl --help' for more information\n`);
      return err.exitCode;
    }
    throw err;
  }
  let body: string | undefined;
  try {
    body = o.data.length ? o.data.map((d) => readData(d, io)).join('&') : undefined;
  } catch (err) {
    io.stderr(`curl: (26) Failed to open/read local data: ${(err as Error).message}\n`);
    return 26;
  }
  let code = 0;
  for (const url of o.urls) {
    const c = await transfer(url, o, io, body);
    if (c !== 0) code = c;
  }
  return code;
}

if (isMain(import.meta.url)) {
  runCurl(process.argv.slice(2), {
    stdout: (chunk) => process.stdout.write(chunk),
    stderr: (chunk) => process.stderr.write(chunk),
    env: process.env,
    readStdin: () => readFileSync(0),
  }).then(
    (code) => {
      // Let stdout drain before exiting: exitCode instead of process.exit().
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`curl: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
