// The CustomResourceDefinitions of the config Trellis serves (Istio, Gateway API, Maistra), generated from the kind
// catalogue and the validation schemas, so the API server and Trellis agree on each field's shape. The API server
// checks types, enums, ranges and required fields; Trellis's own validation does the rest (patterns, one-of rules,
// Istio's semantic checks) and reports it with the field's path, so unknown fields are kept, not pruned: a typo
// reaches Trellis, which rejects the object and keeps the last good version instead of silently losing the field.

import type { SchemaObject } from 'ajv';
import { GROUPS, KINDS, type KindInfo } from '../config/kinds.js';
import { validationSchema } from '../config/validation/index.js';

/** The groups whose kinds are custom resources on a cluster. */
export const CRD_GROUPS: readonly string[] = [GROUPS.ISTIO_NET, GROUPS.ISTIO_SEC, GROUPS.ISTIO_TEL, GROUPS.GATEWAY_API, GROUPS.MAISTRA];

type Json = Record<string, unknown>;

/** Keywords a structural schema may carry; the rest (oneOf, patterns, formats, if/then) stay with Trellis's validation. */
const VALUE_KEYWORDS = ['enum', 'minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties', 'uniqueItems', 'description'] as const;
const PRESERVE = { 'x-kubernetes-preserve-unknown-fields': true };

/** An Ajv schema node as a structural OpenAPI v3 node. */
export function structural(node: SchemaObject | boolean | undefined): Json {
  if (!node || typeof node !== 'object') return { ...PRESERVE };
  const types = Array.isArray(node.type) ? (node.type as string[]) : typeof node.type === 'string' ? [node.type as string] : [];
  const set = new Set(types.map((t) => (t === 'number' ? 'integer' : t)));
  if (set.size === 2 && set.has('string') && set.has('integer')) return { 'x-kubernetes-int-or-string': true };
  if (types.length !== 1) {
    // No single type (a oneOf of shapes, `{}`, a union): any value, checked by Trellis.
    return { ...PRESERVE };
  }
  const out: Json = { type: types[0] === 'null' ? 'object' : types[0] };
  for (const k of VALUE_KEYWORDS) if (node[k] !== undefined) out[k] = node[k];
  if (Array.isArray(node.enum) && node.enum.some((v: unknown) => typeof v !== typeof node.enum[0])) delete out.enum;
  if (types[0] === 'array') out.items = node.items && typeof node.items === 'object' && !Array.isArray(node.items) ? structural(node.items as SchemaObject) : { ...PRESERVE };
  if (types[0] === 'object') {
    const props = node.properties as Record<string, SchemaObject> | undefined;
    if (props && Object.keys(props).length) {
      out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, structural(v)]));
      out['x-kubernetes-preserve-unknown-fields'] = true;
      const required = (node.required as string[] | undefined)?.filter((r) => r in props);
      if (required?.length) out.required = required;
    } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      out.additionalProperties = structural(node.additionalProperties as SchemaObject);
    } else {
      Object.assign(out, PRESERVE);
    }
  }
  return out;
}

/** The OpenAPI schema of a kind at a version: its spec as validation describes it, status kept as written. */
function openApiSchema(kind: KindInfo, version: string): Json {
  const whole = validationSchema(kind.group, kind.kind, version) as { properties?: Record<string, SchemaObject>; required?: string[] } | undefined;
  const spec = whole?.properties?.spec;
  const properties: Json = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: spec ? structural(spec) : { type: 'object', ...PRESERVE },
    status: { type: 'object', ...PRESERVE },
  };
  const schema: Json = { type: 'object', properties };
  if (whole?.required?.includes('spec')) schema.required = ['spec'];
  return schema;
}

/** `kubectl get` columns as the upstream CRDs print them, where people rely on them. */
const PRINTER_COLUMNS: Record<string, Json[]> = {
  'maistra.io/ServiceMeshControlPlane': [
    { name: 'Ready', type: 'string', jsonPath: '.status.annotations.readyComponentCount' },
    { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
    { name: 'Profiles', type: 'string', jsonPath: '.status.appliedSpec.profiles' },
    { name: 'Version', type: 'string', jsonPath: '.status.chartVersion' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  'maistra.io/ServiceMeshMemberRoll': [
    { name: 'Ready', type: 'string', jsonPath: '.status.annotations.configuredMemberCount' },
    { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Members', type: 'string', jsonPath: '.status.configuredMembers', priority: 1 },
  ],
  'maistra.io/ServiceMeshMember': [
    { name: 'Control Plane', type: 'string', jsonPath: '.status.annotations.controlPlaneRef' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

/** Short names people type (`kubectl get vs,dr`, `oc get smcp,smmr`). */
const SHORT_NAMES: Record<string, string[]> = {
  VirtualService: ['vs'],
  DestinationRule: ['dr'],
  Gateway: ['gw'],
  ServiceEntry: ['se'],
  WorkloadEntry: ['we'],
  WorkloadGroup: ['wg'],
  AuthorizationPolicy: ['ap'],
  PeerAuthentication: ['pa'],
  RequestAuthentication: ['ra'],
  ServiceMeshControlPlane: ['smcp'],
  ServiceMeshMemberRoll: ['smmr'],
  ServiceMeshMember: ['smm'],
};

/** One CustomResourceDefinition (apiextensions.k8s.io/v1); the first version Trellis lists is the storage version. */
export function crdFor(kind: KindInfo): Json {
  const key = `${kind.group}/${kind.kind}`;
  // A Gateway API Gateway and an Istio Gateway share the kind name; only Istio's has the short name `gw` here.
  const shortNames = kind.group === GROUPS.GATEWAY_API ? (kind.kind === 'Gateway' ? ['gtw'] : []) : SHORT_NAMES[kind.kind] ?? [];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${kind.plural}.${kind.group}`,
      labels: { 'app.kubernetes.io/part-of': 'trellis' },
      // The API server refuses CRDs in *.k8s.io groups without it; the Gateway API's own CRDs point at their approval.
      ...(kind.group.endsWith('.k8s.io') ? { annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/1538' } } : {}),
    },
    spec: {
      group: kind.group,
      scope: kind.namespaced ? 'Namespaced' : 'Cluster',
      names: { kind: kind.kind, listKind: `${kind.kind}List`, plural: kind.plural, singular: kind.kind.toLowerCase(), ...(shortNames.length ? { shortNames } : {}) },
      versions: kind.versions.map((version, i) => ({
        name: version,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: openApiSchema(kind, version) },
        subresources: { status: {} },
        ...(PRINTER_COLUMNS[key] ? { additionalPrinterColumns: PRINTER_COLUMNS[key] } : {}),
      })),
    },
  };
}

/** Every CRD Trellis serves. */
export function trellisCrds(): Json[] {
  return KINDS.filter((k) => CRD_GROUPS.includes(k.group)).map(crdFor);
}
