// Kubernetes naming rules (DNS-1123/1035 names, label keys and values) and checks of an object's metadata and label selectors.

import type { SchemaObject } from 'ajv';
import { displayPath } from '../diagnostics.js';
import { kindInfo } from '../kinds.js';
import { escapePointerSegment, type Resource } from '../resource.js';
import type { FieldIssue } from './validator.js';

/** How a kind's `metadata.name` must look: most kinds take a DNS-1123 subdomain; Namespaces a label; Services a DNS-1035 label. */
export type NameRule = 'dns-subdomain' | 'dns-label' | 'dns-1035-label';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** RFC 1123 label: `reviews`, `bookinfo-v2` (at most 63 characters). */
export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && LABEL.test(s);
}

/** RFC 1035 label: as a DNS-1123 label, but starting with a letter (Service names). */
export function isDns1035Label(s: string): boolean {
  return s.length <= 63 && LABEL_1035.test(s);
}

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && SUBDOMAIN.test(s);
}

/** A label or annotation key: `name` or `prefix/name`, the prefix a DNS subdomain. */
export function isQualifiedName(s: string): boolean {
  const slash = s.lastIndexOf('/');
  const name = slash < 0 ? s : s.slice(slash + 1);
  if (slash >= 0) {
    const prefix = s.slice(0, slash);
    if (prefix === '' || !isDnsSubdomain(prefix)) return false;
  }
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

/** A label value: empty, or up to 63 alphanumerics, '-', '_' and '.', starting and ending alphanumeric. */
export function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

/** Why `name` breaks `rule`, or undefined when it is fine. */
export function nameProblem(name: string, rule: NameRule): string | undefined {
  switch (rule) {
    case 'dns-label':
      return isDnsLabel(name) ? undefined : `"${name}" is not a valid DNS-1123 label: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit`;
    case 'dns-1035-label':
      return isDns1035Label(name) ? undefined : `"${name}" is not a valid DNS-1035 label: use at most 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit`;
    case 'dns-subdomain':
      return isDnsSubdomain(name)
        ? undefined
        : `"${name}" is not a valid DNS-1123 subdomain: use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;
  }
}

const METADATA_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

function issue(path: string, message: string, level: FieldIssue['level'] = 'Error'): FieldIssue {
  return { path, level, message: `${displayPath(path)}: ${message}` };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Kubernetes' rules for `metadata`: name and namespace form, label and annotation keys and values, no unknown fields. */
export function validateMetadata(resource: Resource, rule: NameRule): FieldIssue[] {
  const out: FieldIssue[] = [];
  const meta = resource.raw.metadata;
  if (!isMap(meta)) return out; // the loader rejects such documents before they become resources
  for (const key of Object.keys(meta)) {
    if (!METADATA_FIELDS.has(key)) out.push(issue(`/metadata/${escapePointerSegment(key)}`, `unknown field "${key}"`));
  }
  if (typeof meta.name === 'string') {
    const problem = nameProblem(meta.name, rule);
    if (problem) out.push(issue('/metadata/name', problem));
  }
  if (meta.namespace !== undefined && meta.namespace !== null) {
    const info = kindInfo(resource.group, resource.kind);
    if (typeof meta.namespace !== 'string') out.push(issue('/metadata/namespace', 'must be a string'));
    else if (info && !info.namespaced) out.push(issue('/metadata/namespace', `${resource.kind} is cluster-scoped; the namespace is ignored`, 'Warning'));
    else if (!isDnsLabel(meta.namespace)) out.push(issue('/metadata/namespace', nameProblem(meta.namespace, 'dns-label')!));
  }
  out.push(...checkLabels(meta.labels, '/metadata/labels'));
  out.push(...checkAnnotations(meta.annotations, '/metadata/annotations'));
  return out;
}

/** Labels: a mapping of qualified-name keys to string label values. Used for metadata and pod templates alike. */
export function checkLabels(labels: unknown, path: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  if (labels === undefined || labels === null) return out;
  if (!isMap(labels)) return [issue(path, 'must be a mapping of label names to string values')];
  for (const [key, value] of Object.entries(labels)) {
    const p = `${path}/${escapePointerSegment(key)}`;
    if (!isQualifiedName(key)) out.push(issue(p, `"${key}" is not a valid label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`));
    if (value === null) continue;
    if (typeof value !== 'string') out.push(issue(p, `label values must be strings; quote it: "${String(value)}"`));
    else if (!isLabelValue(value)) out.push(issue(p, `"${value}" is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`));
  }
  return out;
}

/** Annotations: qualified-name keys, any string values (but strings: `inject: false` must be quoted). */
export function checkAnnotations(annotations: unknown, path: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  if (annotations === undefined || annotations === null) return out;
  if (!isMap(annotations)) return [issue(path, 'must be a mapping of annotation names to string values')];
  for (const [key, value] of Object.entries(annotations)) {
    const p = `${path}/${escapePointerSegment(key)}`;
    if (!isQualifiedName(key)) out.push(issue(p, `"${key}" is not a valid annotation key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.'`));
    if (value !== null && typeof value !== 'string') out.push(issue(p, `annotation values must be strings; quote it: "${String(value)}"`));
  }
  return out;
}

/** Schema of a Kubernetes LabelSelector (`matchLabels` and `matchExpressions`). */
export const LABEL_SELECTOR_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

/** The rules a schema cannot say about a LabelSelector: key and value forms, and `values` present exactly for In/NotIn. */
export function checkLabelSelector(selector: unknown, path: string): FieldIssue[] {
  if (!isMap(selector)) return [];
  const out: FieldIssue[] = [];
  if (isMap(selector.matchLabels)) {
    for (const [key, value] of Object.entries(selector.matchLabels)) {
      const p = `${path}/matchLabels/${escapePointerSegment(key)}`;
      if (!isQualifiedName(key)) out.push(issue(p, `"${key}" is not a valid label key`));
      if (typeof value === 'string' && !isLabelValue(value)) out.push(issue(p, `"${value}" is not a valid label value`));
    }
  }
  if (Array.isArray(selector.matchExpressions)) {
    selector.matchExpressions.forEach((expr, i) => {
      if (!isMap(expr)) return;
      const p = `${path}/matchExpressions/${i}`;
      if (typeof expr.key === 'string' && !isQualifiedName(expr.key)) out.push(issue(`${p}/key`, `"${expr.key}" is not a valid label key`));
      const values = Array.isArray(expr.values) ? expr.values : [];
      if ((expr.operator === 'In' || expr.operator === 'NotIn') && values.length === 0) out.push(issue(p, `operator ${expr.operator} needs at least one value in "values"`));
      if ((expr.operator === 'Exists' || expr.operator === 'DoesNotExist') && values.length > 0) out.push(issue(`${p}/values`, `must be empty when the operator is ${expr.operator}`));
    });
  }
  return out;
}
