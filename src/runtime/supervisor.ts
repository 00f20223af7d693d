// Runs local processes like a kubelet: each in its own process group, output prefixed with its name and its last
// lines kept (what `kubectl logs --tail` reads), restarted with back-off when it exits (restartPolicy Always), and
// stopped — the whole group — on stop().

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

/** The name (and log prefix) of a pod's container process: `<pod>.<namespace>/<container>`, unique in a run. */
export const podProcess = (namespace: string, pod: string, container: string) => `${pod}.${namespace}/${container}`;

export interface ProcessSpec {
  /** The log prefix and the key: for a pod's container `<pod>.<namespace>/<container>` (local-mesh.ts `podProcess`). */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** One line a process wrote, as `tail()` returns it. */
export interface OutputLine {
  /** When it was read (ms since the epoch). */
  time: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Lines kept per process, across its restarts (a kubelet keeps the current and the previous container's log). */
const KEPT_LINES = 2000;

export interface ProcessStatus {
  name: string;
  pid: number | undefined;
  running: boolean;
  restarts: number;
  lastExit?: string;
}

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  stopping: boolean;
  lastExit?: string;
  exited: Promise<void>;
  output: OutputLine[];
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];

export class Supervisor extends EventEmitter<{ exit: [{ name: string; code: number | null; signal: string | null }] }> {
  private readonly procs = new Map<string, Managed>();

  constructor(private readonly log: (line: string) => void = (l) => process.stdout.write(l + '\n')) {
    super();
  }

  start(spec: ProcessSpec): void {
    if (this.procs.has(spec.name)) throw new Error(`${spec.name} is already running`);
    const m: Managed = { spec, child: undefined, restarts: 0, startedAt: 0, timer: undefined, stopping: false, exited: Promise.resolve(), output: [] };
    this.procs.set(spec.name, m);
    this.launch(m);
  }

  private launch(m: Managed): void {
    const { spec } = m;
    // Only PATH, a few basics and Trellis's own switches pass through: the pod's environment is what its manifest and
    // the runtime give it.
    const base: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_OPTIONS', 'TRELLIS_DEBUG', 'TRELLIS_XDS_CLIENT']) if (process.env[k] !== undefined) base[k] = process.env[k]!;
    const child = spawn(spec.command, spec.args, { env: { ...base, ...spec.env }, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    m.child = child;
    m.startedAt = Date.now();
    let resolveExit!: () => void;
    m.exited = new Promise((r) => (resolveExit = r));
    const forward = (stream: NodeJS.ReadableStream, name: OutputLine['stream']) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          this.keep(m, name, line);
          this.log(`[${spec.name}] ${line}`);
        }
      });
    };
    forward(child.stdout!, 'stdout');
    forward(child.stderr!, 'stderr');
    child.on('error', (err) => this.log(`[${spec.name}] cannot start: ${err.message}`));
    child.on('exit', (code, signal) => {
      resolveExit();
      m.child = undefined;
      m.lastExit = signal ? `signal ${signal}` : `exit ${code}`;
      this.emit('exit', { name: spec.name, code, signal });
      if (m.stopping) return;
      // Back-off like a kubelet: it grows with each quick crash and resets after a healthy run.
      if (Date.now() - m.startedAt > 60_000) m.restarts = 0;
      const delay = BACKOFF_MS[Math.min(m.restarts, BACKOFF_MS.length - 1)]!;
      m.restarts++;
      this.keep(m, 'stderr', `exited (${m.lastExit}); restarting in ${delay / 1000}s`);
      this.log(`[${spec.name}] exited (${m.lastExit}); restarting in ${delay / 1000}s`);
      m.timer = setTimeout(() => this.launch(m), delay);
    });
  }

  private keep(m: Managed, stream: OutputLine['stream'], text: string): void {
    m.output.push({ time: Date.now(), stream, text });
    if (m.output.length > KEPT_LINES) m.output.splice(0, m.output.length - KEPT_LINES);
  }

  /** The last `lines` lines a process wrote (stdout and stderr in the order read), or undefined for an unknown name. */
  tail(name: string, lines: number): OutputLine[] | undefined {
    const m = this.procs.get(name);
    if (!m) return undefined;
    return lines > 0 ? m.output.slice(-lines) : [];
  }

  /** Kill a process as a crash would (tests, chaos); the supervisor restarts it. */
  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const m = this.procs.get(name);
    if (m?.child?.pid) process.kill(-m.child.pid, signal);
  }

  async stop(name: string, graceMs = 5000): Promise<void> {
    const m = this.procs.get(name);
    if (!m) return;
    m.stopping = true;
    clearTimeout(m.timer);
    const child = m.child;
    if (child?.pid) {
      const group = -child.pid;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const killer = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      await m.exited;
      clearTimeout(killer);
      // Anything the process left in its group goes too.
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        /* nothing left */
      }
    }
    this.procs.delete(name);
  }

  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n, graceMs)));
  }

  status(): ProcessStatus[] {
    return [...this.procs.values()].map((m) => ({ name: m.spec.name, pid: m.child?.pid, running: !!m.child, restarts: m.restarts, lastExit: m.lastExit }));
  }

  has(name: string): boolean {
    return this.procs.has(name);
  }
}
