// VirtualService rules that can never be used and matches that an earlier one already takes: Istio reports these from
// its VirtualService validation (schema.ValidationAnalyzer.VirtualService) as IST0130 and IST0131 warnings.

import { GROUPS } from '../../kinds.js';
import { pointer } from '../../resource.js';
import type { VirtualServiceSpec } from '../../types/networking.js';
import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';
import { arr, canonicalJson, isRecord, ofKind } from './util.js';

type Named = { name?: unknown } | undefined;

interface Report {
  unreachable(rule: number, reason: string): void;
  /** `match` and `dup` are the texts Istio prints for the unused match and the one that takes its traffic. */
  ineffective(rule: number, matchIndex: number, match: string, dup: string): void;
}

export const virtualServiceMatchesAnalyzer: Analyzer = {
  name: 'schema.ValidationAnalyzer.VirtualService',
  description: 'Checks for VirtualService rules that can never be used and matches that duplicate or overlap earlier ones',
  analyze(ctx) {
    for (const vs of ofKind<VirtualServiceSpec>(ctx.resources, GROUPS.ISTIO_NET, 'VirtualService')) {
      for (const section of ['http', 'tcp', 'tls'] as const) {
        const rules = arr(vs.spec[section] as Array<{ name?: string; match?: unknown[] }> | undefined);
        // Only HTTP routes and matches have names; TCP and TLS ones are numbered.
        const name = (r: Named, i: number) => (section === 'http' ? nameOf(r, i) : `#${i}`);
        analyzeRules(rules, section === 'http', name, {
          unreachable: (i, reason) => ctx.report(Messages.VirtualServiceUnreachableRule, vs, pointer('spec', section, i), `VirtualService rule ${name(rules[i], i)} not used (${reason}).`),
          ineffective: (i, j, match, dup) =>
            ctx.report(Messages.VirtualServiceIneffectiveMatch, vs, pointer('spec', section, i, 'match', j), `VirtualService rule ${name(rules[i], i)} match ${match} is not used (duplicate/overlapping match in rule ${dup}).`),
        });
      }
    }
  },
};

function nameOf(r: Named, index: number): string {
  return r && typeof r.name === 'string' && r.name !== '' ? JSON.stringify(r.name) : `#${index}`;
}

/** A prefix match's conditions, in the form Istio compares them (`exact:GET`, `prefix:api`). */
interface PrefixMatch {
  rule: number;
  matchIndex: number;
  ruleName: string;
  matchName: string;
  prefix: string;
  port: unknown;
  method: string;
  authority: string;
  headers: Record<string, string>;
  queryParams: Record<string, string>;
  withoutHeaders: Record<string, string>;
}

function condition(v: unknown): string {
  if (!isRecord(v)) return '';
  if (typeof v.exact === 'string' && v.exact !== '') return `exact:${v.exact}`;
  if (typeof v.prefix === 'string' && v.prefix !== '') return `prefix:${v.prefix}`;
  return '';
}

const conditions = (v: unknown): Record<string, string> => (isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, c]) => [k, condition(c)])) : {});

/** A later value is taken by an earlier one when equal, or when the earlier starts with it (Istio's rule, kept as is). */
const takes = (earlier: string, later: string) => earlier === later || earlier.startsWith(later);

function mapTakes(earlier: Record<string, string>, later: Record<string, string>): boolean {
  const keys = Object.keys(earlier);
  return keys.length === Object.keys(later).length && keys.every((k) => k in later && takes(earlier[k]!, later[k]!));
}

/** Whether every request of `later` (a longer prefix, the same or wider conditions) is already taken by `earlier`. */
function covers(earlier: PrefixMatch, later: PrefixMatch): boolean {
  return (
    later.prefix.startsWith(earlier.prefix) &&
    canonicalJson(later.port ?? null) === canonicalJson(earlier.port ?? null) &&
    takes(earlier.method, later.method) &&
    takes(earlier.authority, later.authority) &&
    mapTakes(earlier.headers, later.headers) &&
    mapTakes(earlier.queryParams, later.queryParams) &&
    mapTakes(earlier.withoutHeaders, later.withoutHeaders)
  );
}

/**
 * Istio's analysis: a rule after a rule without matches never runs; a match equal to an earlier one (its name aside)
 * never wins, and a rule whose matches all are is never used; an HTTP URI prefix match under an earlier prefix with
 * the same or narrower other conditions is never used either (a missing method counts as GET, as Istio reads it).
 */
function analyzeRules(rules: ReadonlyArray<{ name?: string; match?: unknown[] } | undefined>, http: boolean, name: (r: Named, i: number) => string, report: Report): void {
  const seen = new Map<string, number>();
  const prefixes: PrefixMatch[] = [];
  let catchAll = -1;
  rules.forEach((rule, i) => {
    const matches = arr(rule?.match);
    if (matches.length === 0) {
      if (catchAll >= 0) report.unreachable(i, 'only the last rule can have no matches');
      catchAll = i;
      return;
    }
    if (catchAll >= 0) {
      report.unreachable(i, 'route without matches defined before');
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      const key = canonicalJson(isRecord(m) ? { ...m, name: undefined } : m);
      const dup = seen.get(key);
      if (dup !== undefined) {
        report.ineffective(i, j, name(m as Named, j), name(rules[dup], dup));
        duplicates++;
        return;
      }
      seen.set(key, i);
      const prefix = http && isRecord(m) && isRecord(m.uri) && typeof m.uri.prefix === 'string' ? m.uri.prefix : '';
      if (prefix === '' || !isRecord(m)) return;
      prefixes.push({
        rule: i,
        matchIndex: j,
        ruleName: name(rule, i),
        matchName: name(m as Named, j),
        prefix,
        port: m.port,
        method: condition(m.method) || 'exact:GET',
        authority: condition(m.authority),
        headers: conditions(m.headers),
        queryParams: conditions(m.queryParams),
        withoutHeaders: conditions(m.withoutHeaders),
      });
    });
    if (duplicates === matches.length) report.unreachable(i, 'all matches used by prior rules');
  });
  prefixes.forEach((earlier, a) => {
    for (const later of prefixes.slice(a + 1)) {
      if (later.prefix === earlier.prefix || !covers(earlier, later)) continue;
      report.ineffective(later.rule, later.matchIndex, `${later.matchName} of prefix ${later.prefix}`, `${earlier.matchName} of prefix ${earlier.prefix} on ${earlier.ruleName}`);
    }
  });
}
