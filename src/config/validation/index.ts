// Schema validation for every kind Trellis reads: one validator per group/kind, gathered from the per-group modules.

import type { SchemaObject } from 'ajv';
import type { Resource } from '../resource.js';
import type { FieldIssue, KindValidator } from './validator.js';
import { networkingValidators } from './networking.js';
import { securityValidators } from './security.js';
import { telemetryValidators } from './telemetry.js';
import { gatewayApiValidators } from './gateway-api.js';
import { maistraValidators } from './maistra.js';
import { kubernetesValidators } from './kubernetes.js';

export type { FieldIssue, KindValidator } from './validator.js';

/** Keyed by `group/Kind` (core kinds have an empty group: `/Service`). */
const validators = new Map<string, KindValidator>(
  Object.entries({
    ...networkingValidators,
    ...securityValidators,
    ...telemetryValidators,
    ...gatewayApiValidators,
    ...maistraValidators,
    ...kubernetesValidators,
  }),
);

/** Field-level issues of one resource; an unknown kind has none (it is reported elsewhere). */
export function validateResource(resource: Resource): FieldIssue[] {
  const validate = validators.get(`${resource.group}/${resource.kind}`);
  return validate ? validate(resource) : [];
}

/** The structural schema of a kind's whole object at an API version, when its validator has one. */
export function validationSchema(group: string, kind: string, version: string): SchemaObject | undefined {
  return validators.get(`${group}/${kind}`)?.schema?.(version);
}

export function hasValidator(group: string, kind: string): boolean {
  return validators.has(`${group}/${kind}`);
}
