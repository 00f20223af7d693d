// The code catalogue as `trellis codes` and `trellis analyze --list-codes` print it: a line per code, grouped by part.

import { istioHas, PARTS, type CodeEntry, type MessageEntry, type Part } from '../../errors/catalogue.js';

/** `IST0101  Error    ReferencedResourceNotFound: A resource being referenced does not exist.` (level or HTTP status) */
export function codeLine(e: CodeEntry): string {
  const second = e.part === 'config' ? e.level : e.part === 'proxy-config' ? '' : String(e.status);
  return `${e.code}  ${second.padEnd(7)}  ${e.name}: ${e.meaning}`;
}

const ISTIO_COLUMN = { current: 'Istio', retired: 'retired', no: 'Trellis' } as const;

/**
 * `IST0101  Error    Istio    ReferencedResourceNotFound: A resource being referenced does not exist.`: a config
 * message with whether Istio has it (Istio, retired: only older Istio reports it, Trellis: Trellis's own).
 */
export function messageCodeLine(e: MessageEntry): string {
  return `${e.code}  ${e.level.padEnd(7)}  ${ISTIO_COLUMN[istioHas(e)].padEnd(7)}  ${e.name}: ${e.meaning}`;
}

/** What `-o json` prints: the parts in catalogue order, each with its codes (fields as in src/errors/catalogue.ts). */
export interface CodeGroup {
  part: Part;
  title: string;
  codes: CodeEntry[];
}

export function groupByPart(entries: readonly CodeEntry[]): CodeGroup[] {
  return PARTS.map(({ part, title }) => ({ part, title, codes: entries.filter((e) => e.part === part) })).filter((g) => g.codes.length > 0);
}

export function renderCodeGroups(groups: readonly CodeGroup[]): string {
  return groups.map((g) => `${g.title} [${g.part}]\n${g.codes.map((e) => `  ${codeLine(e)}\n`).join('')}`).join('\n');
}
