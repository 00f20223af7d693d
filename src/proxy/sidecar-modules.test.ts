// What an in-mesh sidecar loads: the proxy program as a real process with its CA agent and its xDS client (a real CA
// server and control plane here), recording every module it resolves. With the default client stack it must load
// neither @grpc/grpc-js nor protobufjs (their weight is what kept the idle sidecar above 60 MB); with
// TRELLIS_XDS_CLIENT=grpc-js it does, which shows the recording sees them.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { CaServer } from '../ca/ca-api.js';
import { CertificateAuthority } from '../ca/ca.js';
import { WorkloadTokens } from '../ca/token.js';
import { ControlPlane } from '../controlplane/control-plane.js';
import { MemoryStore } from '../controlplane/store/memory-store.js';
import { freePort } from '../free-port.js';
import { request, waitFor } from './testing.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

// Resolve hooks run off the main thread: each resolved URL is appended to the file the hook is given.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, r.url + '\\n');
  return r;
}
`;
const REGISTER = (hooks: string, file: string) => `
import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { file: ${JSON.stringify(file)} } });
`;

let dir: string;
let cp: ControlPlane;
let ca: CaServer;
let xds: string;
let caAddress: string;
let tokens: WorkloadTokens;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-sidecar-modules-'));
  const authority = await CertificateAuthority.open({ stateDir: path.join(dir, 'ca') });
  fs.writeFileSync(path.join(dir, 'root-cert.pem'), authority.trustBundle());
  tokens = WorkloadTokens.open(path.join(dir, 'token-key'));
  ca = new CaServer({ signer: authority, authenticator: tokens, tls: await authority.serverCertificate(['istiod.istio-system.svc']) });
  caAddress = `127.0.0.1:${await ca.listen('127.0.0.1', 0)}`;
  cp = new ControlPlane({ store: new MemoryStore(), debounceMs: 5, log: () => {} });
  xds = `127.0.0.1:${await cp.listen('127.0.0.1', 0)}`;
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), HOOKS);
  fs.writeFileSync(path.join(dir, 'register.mjs'), REGISTER(path.join(dir, 'hooks.mjs'), path.join(dir, 'modules.log')));
});

after(async () => {
  await cp.close();
  await ca.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a sidecar until it has its certificate and its first xDS config; returns the modules it resolved. */
async function modulesOfSidecar(env: Record<string, string>): Promise<string[]> {
  const log = path.join(dir, 'modules.log');
  fs.rmSync(log, { force: true });
  const adminPort = await freePort();
  const args = ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, MAIN, '--xds', xds, '--ca-address', caAddress, '--ca-root', path.join(dir, 'root-cert.pem'), '--admin-port', String(adminPort), '--pod', 'productpage-v1-1', '--namespace', 'default', '--service-account', 'bookinfo-productpage', '--labels', 'app=productpage', '--drain-time-s', '0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TRELLIS_CA_TOKEN: tokens.issue('default', 'bookinfo-productpage'), ...env } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await waitFor(async () => (await request(adminPort, { path: '/ready' }).catch(() => undefined))?.body === 'LIVE\n', 20_000, 'the sidecar to apply its first xDS config');
    assert.match(stderr, /ca: certificate for spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage/);
    return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const heavy = (urls: string[]) => urls.filter((u) => /\/node_modules\/(@grpc\/|protobufjs\/|@protobufjs\/)/.test(u));

test('an in-mesh sidecar (CA agent and xDS client) loads neither @grpc/grpc-js nor protobufjs', async () => {
  const urls = await modulesOfSidecar({ TRELLIS_XDS_CLIENT: 'lean' });
  assert.ok(urls.some((u) => u.endsWith('/xds/client/sidecar-codec.generated.js')), 'the generated codec is loaded (and the recording works)');
  assert.ok(urls.some((u) => u.endsWith('/xds/client/http2-channel.js')));
  assert.deepEqual(heavy(urls), []);
});

test('with TRELLIS_XDS_CLIENT=grpc-js the same sidecar loads both', async () => {
  const loaded = heavy(await modulesOfSidecar({ TRELLIS_XDS_CLIENT: 'grpc-js' }));
  assert.ok(loaded.some((u) => u.includes('/@grpc/grpc-js/')), loaded.join('\n'));
  assert.ok(loaded.some((u) => u.includes('/protobufjs/')), loaded.join('\n'));
});
