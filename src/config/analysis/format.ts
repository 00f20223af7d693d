// Renders analysis results as istioctl does (text), or as JSON / YAML lists for scripts.

import { stringify } from 'yaml';
import type { Diagnostic, Level } from '../diagnostics.js';

export type OutputFormat = 'text' | 'json' | 'yaml';

/** The stable, documented record of one message in JSON and YAML output. */
export interface OutputRecord {
  code: string;
  name: string;
  level: Level;
  message: string;
  resource: { kind: string; namespace: string; name: string } | null;
  field: string | null;
  file: string | null;
  line: number | null;
  column: number | null;
  /** The analyzer that reported it (Istio's analyzer name where it has one), null for problems found while loading. */
  analyzer: string | null;
}

export function toRecord(d: Diagnostic, fieldDisplay: (ptr: string) => string): OutputRecord {
  return {
    code: d.code,
    name: d.name,
    level: d.level,
    message: d.message,
    resource: d.resource ? { kind: d.resource.kind, namespace: d.resource.namespace, name: d.resource.name } : null,
    field: d.field !== undefined && d.field !== '' ? fieldDisplay(d.field) : null,
    file: d.file ?? null,
    line: d.line ?? null,
    column: d.column ?? null,
    analyzer: d.analyzer ?? null,
  };
}

/** `path:line:column`, as far as it is known. */
export function location(d: Pick<Diagnostic, 'file' | 'line' | 'column'>): string {
  if (!d.file) return '';
  if (!d.line) return d.file;
  return d.column ? `${d.file}:${d.line}:${d.column}` : `${d.file}:${d.line}`;
}

/** `Error [IST0101] (VirtualService default/reviews samples/vs.yaml:12:9) Referenced host not found: "reviews2"` */
export function formatText(d: Diagnostic): string {
  const parts: string[] = [];
  if (d.resource) parts.push(`${d.resource.kind} ${d.resource.namespace ? `${d.resource.namespace}/` : ''}${d.resource.name}`);
  const loc = location(d);
  if (loc) parts.push(loc);
  const origin = parts.length ? ` (${parts.join(' ')})` : '';
  return `${d.level} [${d.code}]${origin} ${d.message}`;
}

export function render(diagnostics: readonly Diagnostic[], format: OutputFormat, fieldDisplay: (ptr: string) => string): string {
  switch (format) {
    case 'json':
      return JSON.stringify(diagnostics.map((d) => toRecord(d, fieldDisplay)), null, 2) + '\n';
    case 'yaml':
      return diagnostics.length ? stringify(diagnostics.map((d) => toRecord(d, fieldDisplay))) : '[]\n';
    case 'text':
      return diagnostics.map((d) => formatText(d) + '\n').join('');
  }
}
