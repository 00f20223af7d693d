// `trellis controlplane` as a child process for e2e tests: started on free ports, resolved once it serves.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/trellis.js', import.meta.url));

export interface ControlPlaneProcess {
  child: ChildProcess;
  xds: number;
  debug: number;
  stderr: () => string;
  /** Its start-up line (what it serves where). */
  started: string;
}

/** Runs `trellis controlplane ARGS --xds-port 0 --debug-port 0`; resolves with its ports from its start-up line. */
export function startControlPlane(args: readonly string[]): Promise<ControlPlaneProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'controlplane', ...args, '--xds-port', '0', '--debug-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /xDS on [^:]+:(\d+), debug on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve({ child, xds: Number(m[1]), debug: Number(m[2]), stderr: () => err, started: out });
    });
    child.once('exit', (code) => reject(new Error(`controlplane exited (${code}): ${err}`)));
  });
}
