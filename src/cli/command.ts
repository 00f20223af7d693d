// The shape of a CLI subcommand: a name, a one-line summary, usage text and a run function returning the exit code.

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

/** A mistake in how a command was called: printed with the command's usage, exit status 2. */
export class UsageError extends Error {}
