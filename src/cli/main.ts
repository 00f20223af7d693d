// Entry point of the `trellis` CLI: picks the subcommand and turns every failure into a one-line message.

import { UsageError, type CommandEntry } from './command.js';
import { VERSION } from '../version.js';

// Commands load their modules only when they run: `trellis proxy` (every sidecar) must not carry the control plane,
// the analyzers and their schemas, the CA or the console (about 70 MiB of resident memory per sidecar when it did).
const COMMANDS: readonly CommandEntry[] = [
  { name: 'up', summary: 'Run Kubernetes manifests as a local mesh: sidecars, control plane, ingress gateway', load: async () => (await import('./commands/up.js')).upCommand },
  { name: 'get', summary: 'Print objects of the running mesh with the status Trellis computes (kubectl get)', load: async () => (await import('./commands/get.js')).getCommand },
  { name: 'analyze', summary: 'Check Istio/Kubernetes YAML and report problems with Istio\'s message codes and positions', load: async () => (await import('./commands/analyze.js')).analyzeCommand },
  { name: 'codes', summary: 'List every code Trellis reports (config, proxy, console API) with its level or status and meaning', load: async () => (await import('./commands/codes.js')).codesCommand },
  { name: 'demo', summary: 'Run the Bookinfo sample as a local mesh (what npm start does)', load: async () => (await import('./commands/demo.js')).demoCommand },
  { name: 'controlplane', summary: 'Run the control plane: watched config directory, xDS server, debug endpoints', load: async () => (await import('./commands/controlplane.js')).controlplaneCommand },
  { name: 'install', summary: 'Print the Kubernetes objects of the control planes an SMCP describes (Deployment, Service, RBAC; --crds)', load: async () => (await import('./commands/install.js')).installCommand },
  { name: 'proxy', summary: 'Run the proxy (sidecar or gateway) with config from the control plane over xDS', load: async () => (await import('./commands/proxy.js')).proxyCommand },
  { name: 'proxy-status', summary: 'List connected proxies and their xDS sync state (istioctl proxy-status)', load: async () => (await import('./commands/proxy-status.js')).proxyStatusCommand },
  { name: 'proxy-config', summary: "Show a proxy's listeners, routes, clusters or endpoints (istioctl proxy-config)", load: async () => (await import('./commands/proxy-config.js')).proxyConfigCommand },
  { name: 'console', summary: 'Run the console (the Kiali role) over a config directory, Prometheus and the control plane', load: async () => (await import('./commands/console.js')).consoleCommand },
  { name: 'dashboard', summary: 'Print the URL of the console of a running `trellis up DIR`', load: async () => (await import('./commands/console.js')).dashboardCommand },
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'trellis — a service mesh that speaks Istio',
    '',
    'Usage: trellis <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'version'.padEnd(width)}  Print the version`,
    '',
    'Run `trellis <command> --help` for a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`trellis ${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`trellis: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`trellis ${command.name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    // Never a stack trace for the user; TRELLIS_DEBUG=1 shows it for us.
    process.stderr.write(`trellis ${command.name}: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.TRELLIS_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
