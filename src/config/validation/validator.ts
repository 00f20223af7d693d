// The contract of schema validation: a validator per kind returns field-level issues located by JSON Pointer.

import type { Resource } from '../resource.js';

export interface FieldIssue {
  /** JSON Pointer of the offending field (`/spec/http/0/route/0/weight`); for a missing field, its parent's pointer. */
  path: string;
  message: string;
  /** Errors make a resource invalid (Istio's webhook would reject it); warnings do not. */
  level: 'Error' | 'Warning';
}

export type KindValidator = (resource: Resource) => FieldIssue[];
