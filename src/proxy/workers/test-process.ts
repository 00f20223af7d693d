// For tests: a `trellis proxy` program as a real child process (stderr collected, admin port read from its log), with
// helpers to wait for log lines, read the admin API and check that processes and ports are gone.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { request, waitFor } from '../testing.js';
import type { WorkerStatus } from './pool.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

export class ProxyProcess {
  stderr = '';
  adminPort = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcessByStdio<null, null, Readable>;

  private constructor(args: string[]) {
    this.child = spawn(process.execPath, [MAIN, '--admin-port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r({ code, signal })));
  }

  /** Starts the program and waits for its admin port and the `ready` log line. */
  static async start(args: string[], ready: RegExp, ms = 15_000): Promise<ProxyProcess> {
    const p = new ProxyProcess(args);
    try {
      await p.until(/admin listening on [^\s]+:(\d+)/, ms, 'the admin port');
      p.adminPort = Number(/admin listening on [^\s]+:(\d+)/.exec(p.stderr)![1]);
      await p.until(ready, ms, String(ready));
    } catch (err) {
      p.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n--- proxy stderr ---\n${p.stderr}`);
    }
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  until(re: RegExp, ms = 10_000, what = String(re)): Promise<void> {
    return waitFor(() => re.test(this.stderr), ms, what);
  }

  async admin(p: string, method = 'GET'): Promise<string> {
    const r = await request(this.adminPort, { path: p, method });
    if (r.status !== 200) throw new Error(`admin ${p}: ${r.status} ${r.body}`);
    return r.body;
  }

  async workers(): Promise<WorkerStatus[]> {
    return (await this.pool()).workers;
  }

  /** /workers: the pool's config version and each worker. */
  async pool(): Promise<{ concurrency: number; version: number; workers: WorkerStatus[] }> {
    return JSON.parse(await this.admin('/workers')) as { concurrency: number; version: number; workers: WorkerStatus[] };
  }

  /** A counter from /stats. */
  async stat(name: string): Promise<number> {
    const m = new RegExp(`^${name.replace(/[.|]/g, '\\$&')}: (\\d+)$`, 'm').exec(await this.admin('/stats'));
    return m ? Number(m[1]) : NaN;
  }

  /** Bound port of a listener, from /listeners. */
  async listenerPort(name: string): Promise<number> {
    const m = new RegExp(`^${name}::(?:\\[[^\\]]+\\]|[^:]+):(\\d+)$`, 'm').exec(await this.admin('/listeners'));
    if (!m) throw new Error(`no listener ${name}`);
    return Number(m[1]);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
}

/** True while the process runs. An exited process whose parent has not reaped it yet (a zombie) counts as gone. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** True when nothing accepts connections on host:port. */
export function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}
