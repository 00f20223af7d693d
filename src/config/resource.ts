// The resource model: one Kubernetes-style object as loaded, with where each of its fields came from.

/** A place in a source file; line and column are 1-based, as editors show them. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Where a resource came from. `positions` maps a JSON Pointer into the object
 * (`/spec/http/0/route/0/destination/host`) to the position of that field's key
 * (for a mapping entry) or of the item itself (for a sequence item or the root).
 */
export interface SourceInfo {
  file: string;
  /** 0-based index of the YAML document inside the file. */
  documentIndex: number;
  /** Position of the document's first line. */
  position: Position;
  positions: ReadonlyMap<string, Position>;
}

export interface ObjectMeta {
  name: string;
  /** Always set: defaults to `default` for namespaced kinds, `''` for cluster-scoped ones. */
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  ownerReferences?: unknown[];
}

/** A loaded object. `spec` is the raw, user-written spec (typed per kind by the aliases in `types/`). */
export interface Resource<Spec = Record<string, unknown>> {
  apiVersion: string;
  /** API group, '' for the core group. */
  group: string;
  version: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  /** The whole object as written (spec, data, status, and anything else at the top level). */
  raw: Record<string, unknown>;
  /** Undefined for objects built in code rather than loaded from a file. */
  source?: SourceInfo;
}

/** `group/version` split the Kubernetes way: `v1` is the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** A stable key for a resource: `group/Kind/namespace/name`. */
export function resourceKey(r: Pick<Resource, 'group' | 'kind' | 'metadata'>): string {
  return `${r.group}/${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
}

/** `Kind namespace/name` as istioctl prints it (`VirtualService default/reviews`). */
export function resourceLabel(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return r.metadata.namespace ? `${r.kind} ${r.metadata.namespace}/${r.metadata.name}` : `${r.kind} ${r.metadata.name}`;
}

/** Escape one JSON Pointer segment (RFC 6901). */
export function escapePointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Build a JSON Pointer from path segments: `pointer('spec', 'http', 0)` → `/spec/http/0`. */
export function pointer(...segments: Array<string | number>): string {
  return segments.map((s) => '/' + escapePointerSegment(s)).join('');
}

/**
 * The position of a field, or of its closest ancestor that has one
 * (a field that is missing has no position of its own; its parent does).
 */
export function positionOf(r: Pick<Resource, 'source'>, ptr: string): Position | undefined {
  const source = r.source;
  if (!source) return undefined;
  let p = ptr;
  for (;;) {
    const found = source.positions.get(p);
    if (found) return found;
    if (p === '') return source.position;
    p = p.slice(0, p.lastIndexOf('/'));
  }
}
