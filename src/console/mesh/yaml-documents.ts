// Finds and replaces one document of a multi-document YAML file by text ranges, so the rest stays byte for byte.

import { isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';

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

/**
 * `text` without document `index`: from its `---` line (or its first value) to its last value. Comments between
 * documents and the file's leading comments stay; so does every other document, byte for byte.
 */
export function removeDocument(text: string, index: number): string {
  const { docs } = parse(text);
  const doc = docs[index];
  const span = documentSpans(text)[index];
  if (!doc || !span) throw new Error(`no document ${index}`);
  let start = span.start;
  if (doc.directives?.docStart) {
    const marker = text.lastIndexOf('---', span.start - 1);
    if (marker >= 0) start = text.lastIndexOf('\n', marker - 1) + 1;
  } else if (doc.contents?.range) {
    // The first document owns the file's leading comments when it has no marker: they are the file's, not its.
    start = doc.contents.range[0];
  }
  return text.slice(0, start) + text.slice(span.end).replace(/^\r?\n/, '');
}

/** Whether a YAML text holds no object at all (only comments, markers and blank lines). */
export function holdsNoDocument(text: string): boolean {
  return parse(text).docs.every((d) => d.contents === null || (isScalar(d.contents) && d.contents.value === null));
}

/**
 * Make node `node` of `doc` hold `value`, changing only what differs: keys and items that keep their value keep
 * their node, so the comments on them and their style survive (the yaml library keeps comments on nodes).
 */
function mergeNode(doc: Document.Parsed, node: unknown, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && isMap(node)) {
    const wanted = value as Record<string, unknown>;
    node.items = node.items.filter((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)) in wanted);
    for (const [k, v] of Object.entries(wanted)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === k);
      if (pair) pair.value = mergeNode(doc, pair.value, v) as typeof pair.value;
      else node.items.push(doc.createPair(k, v));
    }
    return node;
  }
  if (Array.isArray(value) && isSeq(node)) {
    node.items = node.items.slice(0, value.length);
    value.forEach((v, i) => {
      node.items[i] = i < node.items.length ? mergeNode(doc, node.items[i], v) : doc.createNode(v);
    });
    return node;
  }
  if (isScalar(node) && node.value === value) return node;
  const fresh = doc.createNode(value);
  // A changed value keeps the comment written above or beside it.
  if (isNode(node)) {
    if (node.commentBefore) fresh.commentBefore = node.commentBefore;
    if (node.comment) fresh.comment = node.comment;
  }
  return fresh;
}

/** Document `index` of `text` made to hold `value`, through mergeNode: the document's comments stay where they still apply. */
export function mergeDocument(text: string, index: number, value: Record<string, unknown>): string {
  return editDocument(text, index, (doc) => {
    doc.contents = mergeNode(doc, doc.contents, value) as typeof doc.contents;
  });
}
