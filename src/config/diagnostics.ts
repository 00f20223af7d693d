// What Trellis tells a user about their config: Istio-style messages with a code, a level and a position.

import type { Level, MessageEntry } from '../errors/catalogue.js';
import { positionOf, type Resource } from './resource.js';

export type { Level };

/** One kind of message (code IST0101, name ReferencedResourceNotFound, a level): an entry of the code catalogue. */
export type MessageType = MessageEntry;

export interface ResourceRef {
  kind: string;
  namespace: string;
  name: string;
  apiVersion?: string;
}

/** One finding. `field` is a JSON Pointer into the resource; file/line/column locate it in the source. */
export interface Diagnostic {
  code: string;
  name: string;
  level: Level;
  message: string;
  resource?: ResourceRef;
  field?: string;
  file?: string;
  line?: number;
  column?: number;
  /** The analyzer that reported it, by Istio's analyzer name where it has one (`gateway.IngressGatewayPortAnalyzer`). */
  analyzer?: string;
}

export const LEVEL_ORDER: Record<Level, number> = { Error: 0, Warning: 1, Info: 2 };

/** Build a diagnostic about `resource`, located at `field` (or at its closest ancestor that has a position). */
export function diagnosticFor(type: MessageType, resource: Resource, field: string, message: string): Diagnostic {
  const pos = positionOf(resource, field);
  const d: Diagnostic = {
    code: type.code,
    name: type.name,
    level: type.level,
    message,
    resource: { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name, apiVersion: resource.apiVersion },
    field,
  };
  if (resource.source) {
    d.file = resource.source.file;
    if (pos) {
      d.line = pos.line;
      d.column = pos.column;
    }
  }
  return d;
}

/** `/spec/http/0/route` → `spec.http[0].route`, the way people write field paths. */
export function displayPath(ptr: string): string {
  if (ptr === '') return '';
  let out = '';
  for (const raw of ptr.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Sort for stable output: by file, line, column, then code. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.file ?? '').localeCompare(b.file ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.code.localeCompare(b.code) ||
    a.message.localeCompare(b.message)
  );
}
