// Tests of the curl stand-in run as a child process (dist/apps/curl.js): output options, -w, exit codes, proxy use; plus its argument parser.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEcho } from './echo.js';
import { parseCurlArgs } from './curl-args.js';
import { recordingServer } from './lib/testing.js';
import type { RunningApp } from './lib/serve.js';

const CURL = fileURLToPath(new URL('./curl.js', import.meta.url));
let echo: RunningApp;
let dir: string;

/** Environment for the child without the developer's proxy settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(https?|all|no)_proxy$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function curl(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CURL, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A port with nothing listening. */
async function deadPort(): Promise<number> {
  const s = await recordingServer();
  await s.close();
  return s.port;
}

before(async () => {
  echo = await startEcho({ port: 0, host: '127.0.0.1', env: {} });
  dir = await mkdtemp(join(tmpdir(), 'trellis-curl-'));
});
after(async () => {
  await echo.close();
  await rm(dir, { recursive: true, force: true });
});

test('-s -o /dev/null -w %{http_code} prints only the status code', async () => {
  const ok = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', `${echo.url}/status/200`]);
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '200', '']);
  const bad = await curl(['-so', '/dev/null', '-w', '%{http_code}\\n', `${echo.url}/status/503`]);
  assert.deepEqual([bad.code, bad.stdout], [0, '503\n']);
  const vars = await curl(['-s', '-o', '/dev/null', '-w', '%{response_code} %{method} %{size_download} %{content_type} %{remote_port}', `${echo.url}/bytes/10`]);
  assert.equal(vars.stdout, `200 GET 10 application/octet-stream ${echo.port}`);
});

test('body to stdout, -i with headers, -I for HEAD, -o to a file', async () => {
  const body = await curl(['-s', `${echo.url}/status/418`]);
  assert.equal(body.stdout, "I'm a teapot!");
  const inc = await curl(['-si', `${echo.url}/status/418`]);
  assert.match(inc.stdout, /^HTTP\/1\.1 418 I'm a Teapot\r\n/);
  assert.match(inc.stdout, /x-more-info: http:\/\/tools\.ietf\.org\/html\/rfc2324\r\n/);
  assert.ok(inc.stdout.endsWith("\r\n\r\nI'm a teapot!"));
  const head = await curl(['-sI', `${echo.url}/get`]);
  assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(head.stdout, /"headers"/);
  const file = join(dir, 'out.json');
  const saved = await curl(['-s', '-o', file, `${echo.url}/get`]);
  assert.equal(saved.stdout, '');
  assert.equal((JSON.parse(await readFile(file, 'utf8')) as { method: string }).method, 'GET');
});

test('-X, -H and -d reach the server; -v traces the exchange on stderr', async () => {
  const r = await curl(['-s', '-X', 'PUT', '-H', 'x-ext-authz: allow', '-HContent-Type:application/json', '-d', '{"a":1}', `${echo.url}/anything`]);
  const body = JSON.parse(r.stdout) as { method: string; json: unknown; headers: Record<string, string[]> };
  assert.equal(body.method, 'PUT');
  assert.deepEqual(body.json, { a: 1 });
  assert.deepEqual(body.headers['X-Ext-Authz'], ['allow']);
  assert.deepEqual(body.headers['User-Agent'], ['curl/8.16.0']);
  const v = await curl(['-sv', '-o', '/dev/null', `${echo.url}/get`]);
  assert.match(v.stderr, /^> GET \/get HTTP\/1\.1$/m);
  assert.match(v.stderr, /^< HTTP\/1\.1 200 OK$/m);
});

test('exit 7 when nothing listens, with curl\'s message unless -s; http_code 000', async () => {
  const port = await deadPort();
  const loud = await curl([`http://127.0.0.1:${port}/`]);
  assert.equal(loud.code, 7);
  assert.match(loud.stderr, new RegExp(`curl: \\(7\\) Failed to connect to 127\\.0\\.0\\.1 port ${port} after \\d+ ms: Couldn't connect to server`));
  const quiet = await curl(['-s', '-w', '%{http_code}', `http://127.0.0.1:${port}/`]);
  assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [7, '000', '']);
  const shown = await curl(['-sS', `http://127.0.0.1:${port}/`]);
  assert.match(shown.stderr, /^curl: \(7\)/);
});

test('exit 6 for an unknown host, 28 on --max-time, 22 with -f, 2 for a bad option', async () => {
  const dns = await curl(['-sS', 'http://no-such-host.invalid/']);
  assert.equal(dns.code, 6);
  assert.match(dns.stderr, /Could not resolve host: no-such-host\.invalid/);
  const slow = await curl(['-s', '--max-time', '0.3', '-w', '%{http_code}', `${echo.url}/delay/3`]);
  assert.equal(slow.code, 28);
  assert.equal(slow.stdout, '000');
  assert.ok(slow.ms < 2500, `took ${slow.ms} ms`);
  const fail = await curl(['-sf', `${echo.url}/status/404`]);
  assert.equal(fail.code, 22);
  assert.equal((await curl(['--bogus', echo.url])).code, 2);
});

test('-L follows redirects; --resolve pins a name to an address', async () => {
  const r = await curl(['-sL', '-o', '/dev/null', '-w', '%{http_code} %{num_redirects} %{url_effective}', `${echo.url}/redirect/2`]);
  assert.equal(r.stdout, `200 2 ${echo.url}/get`);
  const pinned = await curl(['-s', '--resolve', `httpbin.example.com:${echo.port}:127.0.0.1`, `http://httpbin.example.com:${echo.port}/headers`]);
  assert.deepEqual((JSON.parse(pinned.stdout) as { headers: Record<string, string[]> }).headers.Host, [`httpbin.example.com:${echo.port}`]);
});

test('HTTP_PROXY sends absolute-form requests to the proxy; NO_PROXY goes direct', async () => {
  const proxy = await recordingServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`proxied ${req.url}`);
  });
  try {
    const r = await curl(['-s', 'http://httpbin:8000/headers'], { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'proxied http://httpbin:8000/headers');
    assert.equal(proxy.requests[0]!.headers.host, 'httpbin:8000');
    const direct = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', `${echo.url}/get`], {
      http_proxy: `http://127.0.0.1:${proxy.port}`,
      NO_PROXY: '127.0.0.1',
    });
    assert.equal(direct.stdout, '200');
    assert.equal(proxy.requests.length, 1);
    const proxyDown = await curl(['-s', 'http://httpbin:8000/'], { HTTP_PROXY: `http://127.0.0.1:${await deadPort()}` });
    assert.equal(proxyDown.code, 7);
  } finally {
    await proxy.close();
  }
});

test('argument parsing: bundled short options, attached values, long options', () => {
  const o = parseCurlArgs(['-sSo', '/dev/null', '-w%{http_code}', '-HHost:a.example', '--max-time', '5', '-XPOST', 'example:80/x']);
  assert.equal(o.silent && o.showError, true);
  assert.equal(o.output, '/dev/null');
  assert.equal(o.writeOut, '%{http_code}');
  assert.deepEqual(o.headers, ['Host:a.example']);
  assert.equal(o.maxTimeS, 5);
  assert.equal(o.method, 'POST');
  assert.deepEqual(o.urls, ['example:80/x']);
  assert.throws(() => parseCurlArgs(['-s']), /no URL/);
});
