// Test helpers for netns-mode tests: an "outside" server in a namespace of its own on the run's bridge.

import { spawn } from 'node:child_process';
import type { LocalMesh } from '../local-mesh.js';

export interface OutsideServer {
  /** Its address on the pod network (primary family). */
  address: string;
  stop(): Promise<void>;
}

/**
 * Runs `script` (Node, printing a line once it listens) in a new outside host of the mesh's pod network; resolves
 * once it printed. stop() kills it (before the mesh stops, so its namespace can go).
 */
export async function startOutsideServer(mesh: LocalMesh, script: string, name = 'web'): Promise<OutsideServer> {
  const host = mesh.net!.addOutsideHost(name);
  const child = spawn('ip', ['netns', 'exec', host.netns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the outside server exited (${code})`)));
  });
  return {
    address: host.addresses[0]!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
