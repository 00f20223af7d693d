// The shape of a CLI subcommand: a name, usage text and a run function returning the exit code. The CLI lists
// commands (name and one-line summary) without loading them: see COMMANDS in main.ts.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

/** A command as the CLI lists it; its module (and everything that imports) loads only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** A mistake in how a command was called: printed with the command's usage, exit status 2. */
export class UsageError extends Error {}

/** Node's parseArgs over a command's arguments, positionals allowed; a malformed call becomes a UsageError. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
