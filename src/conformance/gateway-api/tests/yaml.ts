// Small YAML builders for the conformance scenarios: Gateways and routes in the suite's namespaces, so each test's
// manifests read as the objects they are.

import { GATEWAY_CLASS, INFRA } from '../base.js';

/** An HTTPRoute (or another route kind) in `ns` with its spec written as YAML lines under `spec:`. */
export function route(name: string, spec: string, o: { ns?: string; kind?: string; apiVersion?: string } = {}): string {
  return `apiVersion: ${o.apiVersion ?? 'gateway.networking.k8s.io/v1'}
kind: ${o.kind ?? 'HTTPRoute'}
metadata: {name: ${name}, namespace: ${o.ns ?? INFRA}}
spec:
${spec.replace(/\n$/, '')}
---
`;
}

/** A Gateway of the class under test with its listeners written as YAML lines. */
export function gateway(name: string, listeners: string, ns = INFRA): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  gatewayClassName: ${GATEWAY_CLASS}
  listeners:
${listeners.replace(/\n$/, '')}
---
`;
}

/** A ReferenceGrant in `ns`. */
export function referenceGrant(name: string, ns: string, from: string, to: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: ${name}, namespace: ${ns}}
spec:
  from: [${from}]
  to: [${to}]
---
`;
}
