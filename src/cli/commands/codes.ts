// `trellis codes [CODE|PART...]`: every code Trellis reports (config messages, proxy config checks and replies,
// console API errors) from the one catalogue, grouped by part; or the codes and parts asked for.

import { parseArgs } from 'node:util';
import { CATALOGUE, lookupCode, PARTS, type CodeEntry } from '../../errors/catalogue.js';
import { UsageError, type Command } from '../command.js';
import { groupByPart, renderCodeGroups } from '../format/codes.js';

const USAGE = `Usage: trellis codes [options] [CODE|PART...]

Print the codes Trellis reports, grouped by part, with their level (config messages) or HTTP status
(replies and console API errors) and what they mean. Name codes (TRL2001, IST0101) or parts
(${PARTS.map((p) => p.part).join(', ')}) to print only those.

Options:
  -o, --output FORMAT   text (default) or json

Exit status: 0, or 1 when a named code is not in the catalogue, 2 on a usage error.`;

export const codesCommand: Command = {
  name: 'codes',
  usage: USAGE,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({ args, allowPositionals: true, options: { output: { type: 'string', short: 'o', default: 'text' } } });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`--output must be text or json, not "${values.output}"`);
    const chosen = new Set<CodeEntry>();
    const unknown: string[] = [];
    for (const p of positionals) {
      const part = PARTS.find((x) => x.part === p.toLowerCase());
      const found = part ? CATALOGUE.filter((e) => e.part === part.part) : [lookupCode(p)].filter((e) => e !== undefined);
      if (found.length === 0) unknown.push(p);
      for (const e of found) chosen.add(e);
    }
    if (unknown.length) {
      process.stderr.write(`trellis codes: not in the catalogue: ${unknown.join(', ')} (codes look like TRL2001 or IST0101; parts are ${PARTS.map((x) => x.part).join(', ')})\n`);
      return 1;
    }
    const groups = groupByPart(positionals.length ? CATALOGUE.filter((e) => chosen.has(e)) : CATALOGUE);
    process.stdout.write(values.output === 'json' ? JSON.stringify(groups, null, 2) + '\n' : renderCodeGroups(groups));
    return 0;
  },
};
