// Finds and replaces one document of a multi-document YAML file by text ranges, so the rest stays byte for byte.

import { LineCounter, parseAllDocuments, type Document } from 'yaml';

export interface DocumentSpan {
  /** Offset of the document's body: after its `---` line, if it has one; leading comments included. */
  start: number;
  /** Offset just past the document's last value. */
  end: number;
  /** 1-based line of `start`. */
  firstLine: number;
}

function parse(text: string): { docs: Document.Parsed[]; lines: LineCounter } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  return { docs: Array.isArray(docs) ? docs : [], lines };
}

function bodyStart(text: string, doc: Document.Parsed, index: number): number {
  // The first document's range starts after any leading comments; they belong to it (a license header, a note).
  let start = index === 0 && !doc.directives?.docStart ? 0 : doc.range[0];
  if (doc.directives?.docStart) {
    const marker = text.indexOf('---', start);
    if (marker >= 0) {
      const nl = text.indexOf('\n', marker);
      start = nl < 0 ? text.length : nl + 1;
    }
  }
  return start;
}

/** The span of every document (the same indexes as the loader's `documentIndex`). */
export function documentSpans(text: string): DocumentSpan[] {
  const { docs, lines } = parse(text);
  return docs.map((d, i) => {
    const start = bodyStart(text, d, i);
    return { start, end: Math.max(start, d.range[1]), firstLine: lines.linePos(start).line };
  });
}

/** The text of document `index`, without its `---` line and trailing blank lines. */
export function documentText(text: string, index: number): { text: string; firstLine: number } | undefined {
  const span = documentSpans(text)[index];
  if (!span) return undefined;
  return { text: text.slice(span.start, span.end).replace(/\s+$/, '') + '\n', firstLine: span.firstLine };
}

/** `text` with document `index` replaced by `body` (which must be one document). */
export function replaceDocument(text: string, index: number, body: string): string {
  const span = documentSpans(text)[index];
  if (!span) throw new Error(`no document ${index}`);
  const b = body.replace(/^---[^\n]*\n/, '').replace(/\s+$/, '') + '\n';
  // The span ends at the last value; its line break (if any) follows it and is already part of `b`.
  return text.slice(0, span.start) + b + text.slice(span.end).replace(/^\r?\n/, '');
}

/**
 * Edit document `index` through the YAML library (comments and formatting of the document kept as far as the
 * library can), leaving every other document untouched.
 */
export function editDocument(text: string, index: number, edit: (doc: Document.Parsed) => void): string {
  const { docs } = parse(text);
  const doc = docs[index];
  if (!doc) throw new Error(`no document ${index}`);
  const span = documentSpans(text)[index]!;
  // Keep the file's style of sequences: Kubernetes samples often write `- item` at the indentation of their key.
  const indentSeq = !/^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(text.slice(span.start, span.end));
  edit(doc);
  doc.directives.docStart = null;
  return replaceDocument(text, index, doc.toString({ lineWidth: 0, indentSeq }));
}
