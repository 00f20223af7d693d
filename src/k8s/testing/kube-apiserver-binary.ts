// Finds a genuine kube-apiserver for the Kubernetes-mode tests: $KUBE_APISERVER, the prebuilt one in the shared folder
// beside the clone (unpacked once into the user's cache), one built earlier, or one built now from Debian's source
// package by scripts/build-kube-apiserver.sh. The binary never enters the repository; it lives in the cache.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDir } from '../../samples.js';

export const KUBE_APISERVER_VERSION = 'v1.20.2';
const BINARY = `kube-apiserver-${KUBE_APISERVER_VERSION}-linux-amd64`;
const BUILD_SCRIPT = fileURLToPath(new URL('../../../scripts/build-kube-apiserver.sh', import.meta.url));
/** A build takes 8-13 minutes on 2 cores; a waiter gives up well after that. */
const BUILD_WAIT_MS = 40 * 60_000;

export type ApiserverBinary = { path: string; source: 'KUBE_APISERVER' | 'shared' | 'cache' | 'built' } | { unavailable: string };

/** `${XDG_CACHE_HOME:-~/.cache}/trellis-k8s`: where the unpacked or built binary is kept, outside any clone. */
export function k8sCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'trellis-k8s');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The shared folder's prebuilt binary (.xz) and its expected sha256, when the folder is there. */
function sharedPrebuilt(): { xz: string; sha256: string } | undefined {
  const dir = join(sharedDir(), 'k8s');
  const xz = join(dir, `${BINARY}.xz`);
  const sums = join(dir, 'SHA256SUMS');
  if (!existsSync(xz) || !existsSync(sums)) return undefined;
  const line = readFileSync(sums, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+\*?/))
    .find(([, name]) => name === BINARY);
  return line?.[0] ? { xz, sha256: line[0] } : undefined;
}

/** Unpack `xz` into `target` atomically (several test files may start at once) and check its sha256. */
async function unpack(xz: string, target: string, want: string): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  const r = spawnSync('sh', ['-c', 'xz -dc "$1" > "$2"', 'unpack', xz, tmp], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unpacking ${xz} failed: ${r.stderr || r.error?.message}`);
  const got = await sha256(tmp);
  if (got !== want) {
    rmSync(tmp, { force: true });
    throw new Error(`${xz} unpacked to sha256 ${got}, SHA256SUMS says ${want}`);
  }
  spawnSync('chmod', ['755', tmp]);
  renameSync(tmp, target);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Build with the repository's script, one builder at a time: others wait for its lock to go and use its result. */
async function build(target: string, log: (line: string) => void): Promise<void> {
  const lock = `${target}.build-lock`;
  const deadline = Date.now() + BUILD_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSync(join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (holder && !processAlive(holder)) rmSync(lock, { recursive: true, force: true }); // a crashed builder's lock
      if (executable(target)) return;
      if (Date.now() > deadline) throw new Error(`waited ${BUILD_WAIT_MS / 60_000} min for another process building ${target}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    if (executable(target)) return;
    log(`building kube-apiserver ${KUBE_APISERVER_VERSION} from Debian's source package into ${target} (about 8-13 min on 2 cores; once per machine)`);
    const child = spawn('bash', [BUILD_SCRIPT, target], { stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    child.stderr.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0 || !executable(target)) throw new Error(`scripts/build-kube-apiserver.sh failed (${code}):\n${tail}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function canBuild(): string | undefined {
  if (process.getuid?.() !== 0) return 'building kube-apiserver needs root (apt-get)';
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status !== 0) return 'building kube-apiserver needs Debian (apt-get)';
  return undefined;
}

let found: Promise<ApiserverBinary> | undefined;

/**
 * The kube-apiserver to test against, in this order: $KUBE_APISERVER; the shared folder's prebuilt binary (unpacked into
 * the cache and checked against its SHA256SUMS); a binary in the cache from an earlier build; a build now, when `build`
 * is allowed (root on Debian). Otherwise it says why none can be had. Memoised per process.
 */
export function kubeApiserverBinary(options: { build?: boolean; log?: (line: string) => void } = {}): Promise<ApiserverBinary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  found ??= (async (): Promise<ApiserverBinary> => {
    const fromEnv = process.env.KUBE_APISERVER;
    if (fromEnv) return executable(fromEnv) ? { path: fromEnv, source: 'KUBE_APISERVER' } : { unavailable: `KUBE_APISERVER=${fromEnv} is not an executable file` };
    const target = join(k8sCacheDir(), BINARY);
    const shared = sharedPrebuilt();
    if (shared) {
      if (executable(target) && (await sha256(target)) === shared.sha256) return { path: target, source: 'shared' };
      log(`unpacking ${shared.xz} into ${k8sCacheDir()}`);
      await unpack(shared.xz, target, shared.sha256);
      return { path: target, source: 'shared' };
    }
    if (executable(target)) return { path: target, source: 'cache' };
    const why = options.build === false ? 'building is turned off' : canBuild();
    if (why) return { unavailable: `no kube-apiserver: none in ${join(sharedDir(), 'k8s')} or ${target}, and ${why}` };
    await build(target, log);
    return { path: target, source: 'built' };
  })().catch((err: Error) => ({ unavailable: err.message }));
  return found;
}
