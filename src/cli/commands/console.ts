// `trellis console` runs the console alone (over a config directory, Prometheus and the control plane's debug port);
// `trellis dashboard` prints the URL of the console a running `trellis up` serves.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, UsageError } from '../command.js';
import { main as consoleMain } from '../../console/main.js';

export const consoleCommand: Command = {
  name: 'console',
  usage: 'Usage: trellis console --config-dir DIR [--prometheus URL] [--controlplane-debug URL] [--ca-root FILE] [--host ADDR] [--port 20001] [--token T] [--view-only] [--no-istio-api] [--plugin]',
  async run(args) {
    const server = await consoleMain(args);
    await new Promise<void>((r) => {
      process.once('SIGINT', r);
      process.once('SIGTERM', r);
    });
    await server.close();
    return 0;
  },
};

export const dashboardCommand: Command = {
  name: 'dashboard',
  usage: 'Usage: trellis dashboard [DIR] [--state-dir DIR]   (prints the console URL from the mesh state)',
  async run(args) {
    const i = args.indexOf('--state-dir');
    const stateDir = i >= 0 ? args[i + 1] : `${resolve(args.find((a) => !a.startsWith('-')) ?? '.')}/.trellis`;
    if (!stateDir) throw new UsageError('--state-dir needs a directory');
    let state: { console?: string };
    try {
      state = JSON.parse(readFileSync(`${stateDir}/mesh.json`, 'utf8')) as { console?: string };
    } catch {
      throw new Error(`no running mesh found in ${stateDir} (start one with \`trellis up DIR\`)`);
    }
    if (!state.console) throw new Error('that mesh runs without a console (--console-port none)');
    process.stdout.write(state.console + '\n');
    return 0;
  },
};
