// Structural (OpenAPI-style) schema checking with Ajv, turning its errors into located, readable field issues.

import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { displayPath } from '../diagnostics.js';
import { escapePointerSegment } from '../resource.js';
import type { FieldIssue } from './validator.js';
import { ISTIO_DURATION } from '../../duration.js';

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
ajv.addFormat('duration', { type: 'string', validate: (s: string) => ISTIO_DURATION.test(s) });

/** Compile a schema once; the returned function checks a value found at `basePath` (a JSON Pointer). */
export function compileSchema(schema: SchemaObject): (value: unknown, basePath: string) => FieldIssue[] {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value, basePath) => {
    if (validate(value)) return [];
    return dedupe(validate.errors ?? []).map((e) => toIssue(e, basePath));
  };
}

function toIssue(e: ErrorObject, basePath: string): FieldIssue {
  const path = basePath + e.instancePath;
  const where = displayPath(path) || '(root)';
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(e.params.additionalProperty);
      return { path: `${path}/${escapePointerSegment(field)}`, level: 'Error', message: `${where}: unknown field "${field}"` };
    }
    case 'required':
      return { path, level: 'Error', message: `${where}: missing required field "${String(e.params.missingProperty)}"` };
    case 'enum':
      return { path, level: 'Error', message: `${where}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { path, level: 'Error', message: `${where}: must be ${article(String(e.params.type))}` };
    case 'format':
      return { path, level: 'Error', message: `${where}: ${e.params.format === 'duration' ? 'must be a duration such as "10s", "1.5s" or "100ms"' : `must be a valid ${String(e.params.format)}`}` };
    case 'pattern':
      return { path, level: 'Error', message: `${where}: does not match the expected form ${String(e.params.pattern)}` };
    default:
      return { path, level: 'Error', message: `${where}: ${e.message ?? 'is invalid'}` };
  }
}

function article(type: string): string {
  return type
    .split(',')
    .map((t) => (t === 'integer' || t === 'object' || t === 'array' ? `an ${t}` : t === 'null' ? 'null' : `a ${t}`))
    .join(' or ');
}

/** Ajv reports `oneOf`/`anyOf` failures once per branch; keep the first message per path and keyword. */
function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}
