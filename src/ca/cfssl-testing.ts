// Test helpers: a real private PKI run with the `cfssl` binary — a root made with `cfssl gencert -initca` in a
// temporary directory and `cfssl serve` on a port the kernel picks, ready when its info endpoint answers.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

export const cfsslInstalled = spawnSync('cfssl', ['version'], { stdio: 'ignore' }).status === 0;

/** cfssl's `gencert -initca` for `csr` (cfssl's CSR JSON): PEM cert, key (SEC1 / PKCS#1) and CSR. */
export function cfsslInitCa(dir: string, name: string, csr: Record<string, unknown>): { cert: string; key: string; csr: string } {
  const file = join(dir, `${name}-csr.json`);
  writeFileSync(file, JSON.stringify(csr));
  const r = spawnSync('cfssl', ['gencert', '-initca', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cfssl gencert -initca: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { cert: string; key: string; csr: string };
  writeFileSync(join(dir, `${name}.pem`), out.cert);
  writeFileSync(join(dir, `${name}-key.pem`), out.key, { mode: 0o600 });
  return out;
}

/** cfssl's offline `sign`: `csrPem` signed by the CA in `dir/<ca>.pem` under `profile` of `config`. */
export function cfsslSignOffline(dir: string, ca: string, csrPem: string, config: Record<string, unknown>, profile: string): string {
  writeFileSync(join(dir, 'offline-config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'offline.csr'), csrPem);
  const r = spawnSync('cfssl', ['sign', '-ca', join(dir, `${ca}.pem`), '-ca-key', join(dir, `${ca}-key.pem`), '-config', join(dir, 'offline-config.json'), '-profile', profile, join(dir, 'offline.csr')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cfssl sign: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { cert: string }).cert;
}

export const USAGES_LEAF = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
export const INTERMEDIATE_PROFILE = { expiry: '8760h', usages: ['cert sign', 'crl sign'], ca_constraint: { is_ca: true, max_path_len: 0, max_path_len_zero: true } };

export interface RunningCfssl {
  url: string;
  rootPem: string;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `cfssl serve` with a fresh root in `dir` and `config` (cfssl's JSON config: `signing.default`, `signing.profiles`,
 * `auth_keys`). Resolves once `/api/v1/cfssl/info` answers, within `timeoutMs`.
 */
export async function startCfssl(dir: string, config: Record<string, unknown>, timeoutMs = 15_000): Promise<RunningCfssl> {
  const root = cfsslInitCa(dir, 'ca', { CN: 'Example Corp Private Root', key: { algo: 'ecdsa', size: 256 }, names: [{ O: 'Example Corp' }] });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const child = spawn('cfssl', ['serve', '-address', '127.0.0.1', '-port', '0', '-ca', join(dir, 'ca.pem'), '-ca-key', join(dir, 'ca-key.pem'), '-config', join(dir, 'config.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`cfssl serve exited (${child.exitCode}): ${log}`);
      // `-port 0` lets the kernel pick; cfssl logs ":0", so the port is read from the process's listening socket.
      const port = listeningPort(child.pid!);
      if (port && (await infoAnswers(port))) return { url: `http://127.0.0.1:${port}`, rootPem: root.cert, dir, process: child, stop };
      if (Date.now() > deadline) throw new Error(`cfssl serve not ready after ${timeoutMs} ms: ${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The TCP port `pid` listens on (IPv4 or IPv6), from its socket inodes and /proc/net/tcp{,6}. */
function listeningPort(pid: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => !!x),
    );
  } catch {
    return undefined;
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) return parseInt(f[1]!.split(':')[1]!, 16);
    }
  }
  return undefined;
}

function infoAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/api/v1/cfssl/info', method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1_000, () => req.destroy());
    req.end('{}');
  });
}
