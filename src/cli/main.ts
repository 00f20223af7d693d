// Entry point of the `trellis` CLI: picks the subcommand and turns every failure into a one-line message.

import { analyzeCommand } from './commands/analyze.js';
import { demoCommand } from './commands/demo.js';
import { proxyConfigCommand } from './commands/proxy-config.js';
import { controlplaneCommand } from './commands/controlplane.js';
import { proxyStatusCommand } from './commands/proxy-status.js';
import { proxyCommand } from './commands/proxy.js';
import { upCommand } from './commands/up.js';
import { consoleCommand, dashboardCommand } from './commands/console.js';
import { UsageError, type Command } from './command.js';
import { VERSION } from '../version.js';

const COMMANDS: readonly Command[] = [upCommand, analyzeCommand, demoCommand, controlplaneCommand, proxyCommand, proxyStatusCommand, proxyConfigCommand, consoleCommand, dashboardCommand];

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
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`trellis: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
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
