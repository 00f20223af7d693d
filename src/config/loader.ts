// Reads Kubernetes-style YAML (files, directories, stdin, strings) into resources that remember their positions.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { LineCounter, parseAllDocuments, isMap, isSeq, isPair, isScalar, type Node as YamlNode, type Document } from 'yaml';
import { kindInfo } from './kinds.js';
import { escapePointerSegment, splitApiVersion, type ObjectMeta, type Position, type Resource } from './resource.js';

/** A problem that stops a file or a document from becoming a resource. */
export interface LoadError {
  code: LoadErrorCode;
  file: string;
  line: number;
  column: number;
  message: string;
}

export type LoadErrorCode = 'FileNotFound' | 'FileUnreadable' | 'YAMLSyntax' | 'NotAnObject' | 'MissingField';

export interface LoadResult {
  resources: Resource[];
  errors: LoadError[];
}

export interface LoadOptions {
  /** Namespace for namespaced objects that name none. Istio's default is `default`. */
  defaultNamespace?: string;
}

const YAML_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Load files and directories (recursively, `*.yaml|*.yml|*.json`, in name order); `-` reads stdin. */
export async function loadPaths(paths: readonly string[], options: LoadOptions = {}): Promise<LoadResult> {
  const result: LoadResult = { resources: [], errors: [] };
  for (const path of paths) {
    if (path === '-') {
      merge(result, loadText(await readStdin(), '<stdin>', options));
      continue;
    }
    let files: string[];
    try {
      files = await listYamlFiles(path);
    } catch (err) {
      result.errors.push(fileError(path, err));
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        result.errors.push(fileError(file, err));
        continue;
      }
      merge(result, loadText(text, file, options));
    }
  }
  return result;
}

/** The YAML files under `path` (itself if it is a file), sorted so results are stable. */
export async function listYamlFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const out: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(child)));
    else if (YAML_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(child);
  }
  return out;
}

/** Parse one text holding any number of YAML documents. `file` is only used in positions and messages. */
export function loadText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const result: LoadResult = { resources: [], errors: [] };
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): Position => {
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  // parseAllDocuments returns an EmptyStream (no documents) for an empty text.
  const list: Document.Parsed[] = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const at = pos(e.pos[0]);
        result.errors.push({ code: 'YAMLSyntax', file, ...at, message: `invalid YAML: ${firstLine(e.message)}` });
      }
      return;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) return; // empty document, e.g. `---` at the end
    const docPos = pos(root.range[0]);
    if (!isMap(root)) {
      result.errors.push({ code: 'NotAnObject', file, ...docPos, message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)' });
      return;
    }
    const positions = new Map<string, Position>();
    collectPositions(root, '', positions, pos);
    const value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
    for (const made of toResources(value, { file, documentIndex: index, position: docPos, positions }, options)) {
      if ('error' in made) result.errors.push(made.error);
      else result.resources.push(made.resource);
    }
  });
  return result;
}

/** What to call a document that is not a Kubernetes object (a mesh config file): it becomes a resource of this identity. */
export interface DocumentIdentity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Read a file holding one YAML mapping that is not a Kubernetes object (istioctl's `--meshConfigFile`, `--meshNetworksFile`)
 * as a resource named `identity`, whose `raw` (and `spec`) is the whole mapping, every field located. An empty file is an
 * empty mapping.
 */
export async function loadDocumentFile(path: string, identity: DocumentIdentity): Promise<{ resource?: Resource; errors: LoadError[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { errors: [fileError(path, err)] };
  }
  return loadDocumentText(text, path, identity);
}

/** `loadDocumentFile` on a text. */
export function loadDocumentText(text: string, file: string, identity: DocumentIdentity): { resource?: Resource; errors: LoadError[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): Position => {
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  const list: Document.Parsed[] = (Array.isArray(docs) ? docs : []).filter((d) => d.contents !== null);
  const doc = list[0];
  const errors: LoadError[] = (doc?.errors ?? []).map((e) => ({ code: 'YAMLSyntax' as const, file, ...pos(e.pos[0]), message: `invalid YAML: ${firstLine(e.message)}` }));
  if (errors.length) return { errors };
  const root = doc?.contents;
  const position = root ? pos(root.range[0]) : { line: 1, column: 1 };
  if (list.length > 1) errors.push({ code: 'NotAnObject', file, ...pos(list[1]!.contents!.range[0]), message: `${identity.kind}: the file must hold one YAML document` });
  if (root && !isMap(root) && !(isScalar(root) && (root.value === null || root.value === undefined))) {
    return { errors: [{ code: 'NotAnObject', file, ...position, message: `${identity.kind}: the file must hold a YAML mapping` }] };
  }
  const positions = new Map<string, Position>();
  if (root) collectPositions(root, '', positions, pos);
  const value = ((doc?.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null | undefined) ?? {});
  const { group, version } = splitApiVersion(identity.apiVersion);
  const resource: Resource = {
    apiVersion: identity.apiVersion,
    group,
    version,
    kind: identity.kind,
    metadata: { name: identity.name, namespace: identity.namespace, labels: {}, annotations: {} },
    spec: value,
    raw: value,
    source: { file, documentIndex: 0, position, positions },
  };
  return { resource, errors };
}

/**
 * One object as an API server returns it (JSON, no file) as a resource, with the loader's rules for metadata (namespace,
 * labels, annotations). `source` names where it came from in messages (the object's API path); it has no positions.
 */
export function objectToResource(value: Record<string, unknown>, source: string): { resource: Resource } | { error: LoadError } {
  const made = toResources(value, { file: source, documentIndex: 0, position: { line: 1, column: 1 }, positions: new Map() }, {});
  return made.length === 1 ? made[0]! : { error: { code: 'NotAnObject', file: source, line: 1, column: 1, message: 'not one Kubernetes object' } };
}

type Made = { resource: Resource } | { error: LoadError };

interface DocSource {
  file: string;
  documentIndex: number;
  position: Position;
  positions: Map<string, Position>;
}

/** Turn one parsed document into resources; a `kind: List` (as kubectl writes) yields its items. */
function toResources(value: Record<string, unknown>, src: DocSource, options: LoadOptions): Made[] {
  const at = (ptr: string): Position => src.positions.get(ptr) ?? src.position;
  const missing = (ptr: string, message: string): Made => ({ error: { code: 'MissingField', file: src.file, ...at(ptr), message } });
  const apiVersion = value.apiVersion;
  const kind = value.kind;
  if (typeof apiVersion !== 'string' || apiVersion === '') return [missing('', 'document is not a Kubernetes object: field "apiVersion" is missing or not a string')];
  if (typeof kind !== 'string' || kind === '') return [missing('', 'document is not a Kubernetes object: field "kind" is missing or not a string')];

  if (apiVersion === 'v1' && kind === 'List' && Array.isArray(value.items)) {
    return value.items.flatMap((item, i): Made[] => {
      const prefix = `/items/${i}`;
      const itemPositions = new Map<string, Position>();
      for (const [k, p] of src.positions) if (k === prefix || k.startsWith(prefix + '/')) itemPositions.set(k.slice(prefix.length), p);
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        return [{ error: { code: 'NotAnObject', file: src.file, ...at(prefix), message: `List item ${i} is not a Kubernetes object` } }];
      }
      return toResources(item as Record<string, unknown>, { ...src, position: at(prefix), positions: itemPositions }, options);
    });
  }

  const { group, version } = splitApiVersion(apiVersion);
  const meta = value.metadata;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return [missing('', `${kind}: field "metadata" is missing or not a mapping`)];
  const m = meta as Record<string, unknown>;
  if (typeof m.name !== 'string' || m.name === '') return [missing('/metadata', `${kind}: field "metadata.name" is missing or not a string`)];
  const info = kindInfo(group, kind);
  const namespaced = info ? info.namespaced : true; // unknown kinds: assume namespaced, as most CRDs are
  const metadata: ObjectMeta = {
    ...(m as Partial<ObjectMeta>),
    name: m.name,
    namespace: namespaced ? (typeof m.namespace === 'string' && m.namespace !== '' ? m.namespace : options.defaultNamespace ?? 'default') : '',
    labels: stringMap(m.labels),
    annotations: stringMap(m.annotations),
  };
  const spec = value.spec && typeof value.spec === 'object' && !Array.isArray(value.spec) ? (value.spec as Record<string, unknown>) : {};
  return [
    {
      resource: {
        apiVersion,
        group,
        version,
        kind,
        metadata,
        spec,
        raw: value,
        source: { file: src.file, documentIndex: src.documentIndex, position: src.position, positions: src.positions },
      },
    },
  ];
}

/** Record the position of every key and sequence item under `node`, keyed by JSON Pointer. */
function collectPositions(node: unknown, ptr: string, out: Map<string, Position>, pos: (offset: number) => Position): void {
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = item.key as YamlNode | null;
      const keyText = isScalar(key) ? String(key.value) : key ? String(key) : '';
      const childPtr = `${ptr}/${escapePointerSegment(keyText)}`;
      const at = key?.range ? key.range[0] : (item.value as YamlNode | null)?.range?.[0];
      if (at !== undefined) out.set(childPtr, pos(at));
      collectPositions(item.value, childPtr, out, pos);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const childPtr = `${ptr}/${i}`;
      const range = (item as YamlNode | null)?.range;
      if (range) out.set(childPtr, pos(range[0]));
      collectPositions(item, childPtr, out, pos);
    });
  }
}

function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = val === null || val === undefined ? '' : String(val);
  return out;
}

function merge(into: LoadResult, from: LoadResult): void {
  into.resources.push(...from.resources);
  into.errors.push(...from.errors);
}

function fileError(file: string, err: unknown): LoadError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return { code: 'FileNotFound', file, line: 0, column: 0, message: 'no such file or directory' };
  return { code: 'FileUnreadable', file, line: 0, column: 0, message: `cannot read: ${(err as Error)?.message ?? String(err)}` };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
