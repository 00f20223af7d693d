// `trellis analyze PATH...`: load YAML, validate every field, run Istio's analyzers, print messages with positions.

import { parseArgs } from 'node:util';
import { Messages } from '../../config/analysis/messages.js';
import { istioHas, type MessageEntry } from '../../errors/catalogue.js';
import { messageCodeLine } from '../format/codes.js';
import { render, type OutputFormat } from '../../config/analysis/format.js';
import { analyzePaths } from '../../config/analysis/analyze-paths.js';
import { displayPath, LEVEL_ORDER, type Level } from '../../config/diagnostics.js';
import { UsageError, type Command } from '../command.js';

/** istioctl's exit status when the analysis finds issues at or above the failure threshold. */
export const EXIT_ANALYZER_FOUND_ISSUES = 79;

const USAGE = `Usage: trellis analyze [options] PATH...

Analyze Istio, Gateway API, Maistra and Kubernetes YAML (files, directories, or - for stdin)
as istioctl analyze does without a cluster, with the file, line and column of every message.

Options:
  -o, --output FORMAT           text (default), json or yaml
  -n, --namespace NS            namespace of objects that name none (default: default)
      --local                   analyze a directory as trellis up runs it (as trellis up, trellis demo and
                                the console do): Trellis's own ingress and egress gateways exist, alpha
                                annotations are reported, and DestinationRule subsets that select no workload
                                are TRL0101 (Info until a route uses them) instead of istioctl's IST0173 Error
      --meshConfigFile FILE     a MeshConfig (YAML) that stands for the cluster's: it replaces the istio ConfigMap
      --meshNetworksFile FILE   a MeshNetworks (YAML) that stands for the cluster's
      --failure-threshold LVL   lowest level that makes the exit status non-zero: Error (default), Warning, Info
      --output-threshold LVL    lowest level that is printed: Info (default), Warning, Error
  -S, --suppress CODE=KIND NS/NAME   hide a message, e.g. "IST0102=Namespace default" (repeatable; * is a wildcard)
      --list-codes              print every message code analyze can report, with its level and whether
                                Istio has it (Istio, retired, Trellis), and exit; -o json for a list
                                (trellis codes lists every code, the proxy's and the console API's too)

Exit status: 0 when nothing at or above the failure threshold was found, ${EXIT_ANALYZER_FOUND_ISSUES} otherwise (as istioctl),
2 on a usage error.`;

function parseLevel(value: string | undefined, flag: string, fallback: Level): Level {
  if (value === undefined) return fallback;
  const found = (['Error', 'Warning', 'Info'] as const).find((l) => l.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(`${flag} must be Error, Warning or Info, not "${value}"`);
  return found;
}

interface Suppression {
  code: string;
  kind: string;
  namespace: string;
  name: string;
}

function parseSuppression(text: string): Suppression {
  const m = /^([A-Z]{3}\d{4}|\*)=(\S+)\s+(?:(\S+)\/)?(\S+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--suppress must look like "IST0102=Namespace default" or "IST0101=VirtualService default/reviews", not "${text}"`);
  return { code: m[1]!, kind: m[2]!, namespace: m[3] ?? '*', name: m[4]! };
}

function glob(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(value);
}

export const analyzeCommand: Command = {
  name: 'analyze',
  usage: USAGE,
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          output: { type: 'string', short: 'o', default: 'text' },
          namespace: { type: 'string', short: 'n' },
          'failure-threshold': { type: 'string' },
          'output-threshold': { type: 'string' },
          suppress: { type: 'string', short: 'S', multiple: true },
          'list-codes': { type: 'boolean' },
          local: { type: 'boolean' },
          meshConfigFile: { type: 'string' },
          meshNetworksFile: { type: 'string' },
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const format = values.output as OutputFormat;
    if (values['list-codes']) {
      const entries: MessageEntry[] = Object.values(Messages);
      if (format === 'json') process.stdout.write(JSON.stringify(entries.map((e) => ({ code: e.code, name: e.name, level: e.level, istio: istioHas(e), meaning: e.meaning })), null, 2) + '\n');
      else for (const e of entries) process.stdout.write(messageCodeLine(e) + '\n');
      return 0;
    }
    if (!['text', 'json', 'yaml'].includes(format)) throw new UsageError(`--output must be text, json or yaml, not "${format}"`);
    if (positionals.length === 0) throw new UsageError('name at least one file or directory to analyze (or - for stdin)');
    const failAt = parseLevel(values['failure-threshold'], '--failure-threshold', 'Error');
    const showAt = parseLevel(values['output-threshold'], '--output-threshold', 'Info');
    const suppressions = (values.suppress ?? []).map(parseSuppression);

    const { diagnostics, resourceCount } = await analyzePaths(positionals, {
      defaultNamespace: values.namespace,
      mode: values.local ? 'local' : 'istioctl',
      meshConfigFile: values.meshConfigFile,
      meshNetworksFile: values.meshNetworksFile,
    });
    const kept = diagnostics.filter(
      (d) =>
        !suppressions.some(
          (s) => glob(s.code, d.code) && d.resource && glob(s.kind, d.resource.kind) && glob(s.namespace, d.resource.namespace) && glob(s.name, d.resource.name),
        ),
    );
    const shown = kept.filter((d) => LEVEL_ORDER[d.level] <= LEVEL_ORDER[showAt]);
    if (format === 'text' && shown.length === 0) {
      process.stdout.write(`\u2714 No validation issues found when analyzing ${resourceCount} resource${resourceCount === 1 ? '' : 's'}.\n`);
    } else {
      process.stdout.write(render(shown, format, displayPath));
    }
    return kept.some((d) => LEVEL_ORDER[d.level] <= LEVEL_ORDER[failAt]) ? EXIT_ANALYZER_FOUND_ISSUES : 0;
  },
};
