// What Istio policies (security.istio.io, telemetry.istio.io) share: how they pick workloads (`selector`) or attach to an object (`targetRef`).

import type { SchemaObject } from 'ajv';
import { at, asArray, asObject, isSet, type Issues, type Obj } from './object-check.js';

export const WORKLOAD_SELECTOR_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
  additionalProperties: false,
};

export const TARGET_REF_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { group: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' }, namespace: { type: 'string' } },
  additionalProperties: false,
};

/** The spec fields for both ways of scoping a policy. */
export const SCOPE_PROPERTIES: Record<string, SchemaObject> = {
  selector: WORKLOAD_SELECTOR_SCHEMA,
  targetRef: TARGET_REF_SCHEMA,
  targetRefs: { type: 'array', items: TARGET_REF_SCHEMA },
};

/** The objects Istio lets a policy attach to, by `group/kind` (the core group written as empty). */
const ALLOWED_TARGETS = ['/Service', 'networking.istio.io/ServiceEntry', 'gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/GatewayClass'];

/** Istio's rules on `selector`, `targetRef` and `targetRefs`: one way of scoping at a time, well-formed labels, supported targets. */
export function checkPolicyScope(spec: Obj | undefined, specPath: string, out: Issues): void {
  if (!spec) return;
  const hasSelector = isSet(spec.selector);
  const hasTargetRef = isSet(spec.targetRef);
  const hasTargetRefs = asArray(spec.targetRefs).length > 0;
  if (hasSelector && (hasTargetRef || hasTargetRefs)) {
    out.error(at(specPath, hasTargetRef ? 'targetRef' : 'targetRefs'), 'selector and targetRef cannot both be set: use one way to choose where the policy applies');
  }
  if (hasTargetRef && hasTargetRefs) out.error(at(specPath, 'targetRefs'), 'only one of targetRef or targetRefs may be set');

  const selector = asObject(spec.selector);
  if (selector) checkWorkloadSelector(selector, at(specPath, 'selector'), out);
  if (hasTargetRef) checkTargetRef(spec.targetRef, at(specPath, 'targetRef'), out);
  asArray(spec.targetRefs).forEach((ref, i) => checkTargetRef(ref, at(specPath, 'targetRefs', i), out));
}

function checkWorkloadSelector(selector: Obj, path: string, out: Issues): void {
  const labels = asObject(selector.matchLabels);
  if (!labels || Object.keys(labels).length === 0) {
    out.warn(path, 'selector has no matchLabels, so the policy applies to every workload in the namespace');
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    const p = at(path, 'matchLabels', key);
    if (key === '') out.error(p, 'label key must not be empty');
    if (key.includes('*') || (typeof value === 'string' && value.includes('*'))) out.error(p, `wildcards are not supported in selectors: "${key}=${String(value)}"`);
  }
}

function checkTargetRef(value: unknown, path: string, out: Issues): void {
  const ref = asObject(value);
  if (!ref) return;
  if (typeof ref.name !== 'string' || ref.name === '') out.error(path, 'targetRef name is required');
  if (typeof ref.namespace === 'string' && ref.namespace !== '') out.error(at(path, 'namespace'), 'cross-namespace targetRef is not supported; leave the namespace empty');
  const group = typeof ref.group === 'string' ? ref.group : '';
  const kind = typeof ref.kind === 'string' ? ref.kind : '';
  const key = `${group === 'core' ? '' : group}/${kind}`;
  if (!ALLOWED_TARGETS.includes(key)) {
    out.error(path, `targetRef must refer to a Service, ServiceEntry, Gateway or GatewayClass (got group "${group}", kind "${kind}")`);
  }
}
