// The contract of schema validation: a validator per kind returns field-level issues located by JSON Pointer.

import type { SchemaObject } from 'ajv';
import type { Resource } from '../resource.js';

export interface FieldIssue {
  /** JSON Pointer of the offending field (`/spec/http/0/route/0/weight`); for a missing field, its parent's pointer. */
  path: string;
  message: string;
  /** Errors make a resource invalid (Istio's webhook would reject it); warnings do not. */
  level: 'Error' | 'Warning';
}

/**
 * Validates one resource. `schema` gives the structural schema of the whole object for an API version, where the kind
 * has one: the Kubernetes mode turns it into its CustomResourceDefinition's OpenAPI schema (src/k8s/crds.ts).
 */
export type KindValidator = ((resource: Resource) => FieldIssue[]) & { schema?: (version: string) => SchemaObject | undefined };
