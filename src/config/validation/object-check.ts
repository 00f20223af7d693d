// Building blocks for kind validators: an issue collector, safe accessors for raw YAML values, and a builder that runs metadata, schema and semantic checks.

import type { SchemaObject } from 'ajv';
import { displayPath } from '../diagnostics.js';
import { escapePointerSegment, type Resource } from '../resource.js';
import { compileSchema } from './schema.js';
import { validateMetadata, type NameRule } from './metadata.js';
import type { FieldIssue, KindValidator } from './validator.js';

/** Collects located issues; messages are prefixed with the field path the way people write it (`spec.rules[0]`). */
export class Issues {
  readonly list: FieldIssue[] = [];

  error(path: string, message: string): void {
    this.list.push({ path, level: 'Error', message: `${displayPath(path) || '(root)'}: ${message}` });
  }

  warn(path: string, message: string): void {
    this.list.push({ path, level: 'Warning', message: `${displayPath(path) || '(root)'}: ${message}` });
  }
}

/** `base` + one more pointer segment. */
export function at(base: string, ...segments: Array<string | number>): string {
  return base + segments.map((s) => '/' + escapePointerSegment(s)).join('');
}

export type Obj = Record<string, unknown>;

/** The value as a mapping, or undefined when it is anything else (the schema reports wrong types). */
export function asObject(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** The value as a list, or an empty list when it is anything else. */
export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Set: present and not null (YAML `field:` with nothing after it is null, which Kubernetes treats as unset). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Schema of a mapping from strings to strings (labels, selectors, data). */
export const STRING_MAP: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };

/** Wrap a spec schema into one for the whole object, so a misspelt top-level key (`specs:`) is caught too. */
export function objectSchema(properties: Record<string, SchemaObject>, opts: { strict?: boolean } = {}): SchemaObject {
  return {
    type: 'object',
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, status: {}, ...properties },
    additionalProperties: opts.strict === false,
  };
}

export interface ObjectValidatorOptions {
  /** How `metadata.name` must be formed for this kind. */
  name: NameRule;
  /** Schema of the whole raw object (see `objectSchema`). */
  schema: SchemaObject;
  /**
   * Kubernetes built-in kinds have more fields than we model, and the API server's field list moves with its version:
   * there an unknown field is a Warning (most likely a typo), not an Error.
   */
  unknownFieldsAreWarnings?: boolean;
  /** Semantic rules a schema cannot express; they get the raw object and must tolerate wrong types. */
  check?: (raw: Obj, out: Issues, resource: Resource) => void;
}

/** A validator running the metadata rules, the schema and the semantic checks of one kind. */
export function objectValidator(opts: ObjectValidatorOptions): KindValidator {
  const schemaCheck = compileSchema(opts.schema);
  const validate: KindValidator = (resource) => {
    const raw = { ...resource.raw };
    // `spec:` with nothing after it is null in YAML; Kubernetes reads it as absent.
    if (raw.spec === null) delete raw.spec;
    const out = new Issues();
    out.list.push(...validateMetadata(resource, opts.name));
    for (const issue of schemaCheck(raw, '')) {
      const unknown = issue.message.includes(': unknown field "');
      if (unknown && opts.unknownFieldsAreWarnings) out.list.push({ ...issue, level: 'Warning', message: `${issue.message} (not a field this Kubernetes kind is known to have)` });
      else out.list.push(issue);
    }
    opts.check?.(raw, out, resource);
    return out.list;
  };
  validate.schema = () => opts.schema;
  return validate;
}

/** RFC 7230 token characters: what an HTTP header name may contain. */
export const HTTP_HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** An IPv4 or IPv6 address (no zone, no CIDR). */
export function isIp(s: string): boolean {
  return isIpv4(s) || isIpv6(s);
}

export function isIpv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

export function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  // An embedded IPv4 tail (`::ffff:10.0.0.1`) stands for the last two groups.
  if (tail.includes('.')) {
    if (!isIpv4(tail)) return false;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const doubles = text.split('::').length - 1;
  if (doubles > 1) return false;
  const hex = /^[0-9A-Fa-f]{1,4}$/;
  if (doubles === 1) {
    const [left, right] = text.split('::') as [string, string];
    const l = left === '' ? [] : left.split(':');
    const r = right === '' ? [] : right.split(':');
    return [...l, ...r].every((g) => hex.test(g)) && l.length + r.length <= 7;
  }
  const groups = text.split(':');
  return groups.length === 8 && groups.every((g) => hex.test(g));
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return isIp(s);
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIpv4(addr)) return Number(bits) <= 32;
  if (isIpv6(addr)) return Number(bits) <= 128;
  return false;
}
