// Reusable JSON Schema fragments for Istio's APIs: strict objects, durations, string matches, percentages, maps and selectors.

import type { SchemaObject } from 'ajv';

/** An object that rejects unknown fields, so a misspelt key is reported instead of silently ignored. */
export function strictObject(properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject {
  const schema: SchemaObject = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) schema.required = required;
  return schema;
}

export function listOf(items: SchemaObject): SchemaObject {
  return { type: 'array', items };
}

/** A mapping with free keys (header names, port names, labels) and values of one shape. */
export function mapOf(values: SchemaObject): SchemaObject {
  return { type: 'object', additionalProperties: values };
}

/** One of a protobuf enum's names, spelt exactly as in the API. */
export function enumOf(...values: string[]): SchemaObject {
  return { enum: values };
}

export const STRING: SchemaObject = { type: 'string' };
export const BOOLEAN: SchemaObject = { type: 'boolean' };
/** int32 fields: Istio's own rules give the range, with better messages than a schema. */
export const INTEGER: SchemaObject = { type: 'integer' };
/** uint32 fields (and UInt32Value wrappers): a negative value cannot be written. */
export const UINT32: SchemaObject = { type: 'integer', minimum: 0 };
export const NUMBER: SchemaObject = { type: 'number' };
export const STRING_LIST: SchemaObject = listOf(STRING);
export const STRING_MAP: SchemaObject = mapOf(STRING);

/** A protobuf Duration as Istio reads it from YAML: `10s`, `1.5s`, `100ms`, `1m30s`. */
export const DURATION: SchemaObject = { type: 'string', format: 'duration' };

/** Istio's StringMatch; the one-of rule (exact, prefix or regex) is checked by code so the message can say which ones clash. */
export const STRING_MATCH: SchemaObject = strictObject({ exact: STRING, prefix: STRING, regex: STRING });

/** Istio's Percent: a double from 0 to 100. */
export const PERCENT: SchemaObject = strictObject({ value: NUMBER });

/** Istio's WorkloadSelector (`matchLabels` only, no expressions). */
export const WORKLOAD_SELECTOR: SchemaObject = strictObject({ matchLabels: STRING_MAP });

/** Sidecar's and ServiceEntry's `workloadSelector`, whose one field is `labels` (networking.v1alpha3.WorkloadSelector). */
export const WORKLOAD_LABEL_SELECTOR: SchemaObject = strictObject({ labels: STRING_MAP });

/** A policy target reference (`targetRef`/`targetRefs`) as Istio's type.v1beta1 API defines it. */
export const POLICY_TARGET_REF: SchemaObject = strictObject({ group: STRING, kind: STRING, name: STRING, namespace: STRING });
