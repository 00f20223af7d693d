// The system tools pod networking drives (iproute2's `ip`, iptables-restore): run synchronously, each failure an error
// that names the command and what it printed, so a refused step says exactly which one.

import { spawnSync } from 'node:child_process';

export class NetnsError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'NetnsError';
  }
}

/** Runs a command; its standard output, or a NetnsError with the command and its error output. */
export function run(command: string, args: readonly string[], input?: string): string {
  const r = spawnSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) throw new NetnsError(`${command}: ${r.error.message}`, command);
  if (r.status !== 0) {
    const shown = [command, ...args].join(' ');
    const detail = (r.stderr || r.stdout || '').trim().split('\n').slice(0, 4).join('; ');
    throw new NetnsError(`\`${shown}\` failed (exit ${r.status}): ${detail}${input ? `\n--- input ---\n${input}` : ''}`, shown);
  }
  return r.stdout;
}

/** Like run, but a failure is ignored (cleanup of what may already be gone). */
export function tryRun(command: string, args: readonly string[], input?: string): boolean {
  const r = spawnSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'ignore', 'ignore'] });
  return !r.error && r.status === 0;
}

/** Several `ip` commands in one process (`ip -batch -`, inside `netns` when given); stops at the first that fails. */
export function ipBatch(lines: readonly string[], opts: { force?: boolean; netns?: string } = {}): void {
  if (!lines.length) return;
  const args = [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  if (opts.force) tryRun('ip', args, lines.join('\n') + '\n');
  else run('ip', args, lines.join('\n') + '\n');
}

/** Is a command on PATH? */
export function have(command: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  return r.status === 0;
}
