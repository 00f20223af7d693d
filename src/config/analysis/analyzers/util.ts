// Small helpers shared by the analyzers: safe access to user-written specs, VirtualService destinations, names as istioctl prints them.

import { pointer, type Resource } from '../../resource.js';
import type { Destination, VirtualServiceSpec } from '../../types/networking.js';
import type { Typed } from '../config-index.js';

export type VirtualService = Typed<VirtualServiceSpec>;

/** The value if it is an array, else an empty one (specs are user-written; schema validation may not have caught everything). */
export function arr<T>(v: readonly T[] | T[] | undefined | null): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** `namespace/name`, Istio's "full name" of a namespaced resource. */
export function fullName(r: Pick<Resource, 'metadata'>): string {
  return r.metadata.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : r.metadata.name;
}

/** A list printed the way Go prints a slice with %v: `[a b c]`. */
export function goList(values: ReadonlyArray<string | number>): string {
  return `[${values.join(' ')}]`;
}

export interface DestinationRef {
  destination: Destination;
  /** JSON Pointer to the Destination object. */
  pointer: string;
  mirror: boolean;
}

/** Every destination of a VirtualService: http/tcp/tls routes, then http mirrors. */
export function destinationsOf(vs: VirtualService): DestinationRef[] {
  const out: DestinationRef[] = [];
  for (const section of ['http', 'tcp', 'tls'] as const) {
    arr(vs.spec[section] as Array<{ route?: Array<{ destination?: Destination }> }> | undefined).forEach((rule, i) => {
      arr(rule?.route).forEach((rd, j) => {
        if (isRecord(rd?.destination)) out.push({ destination: rd.destination, pointer: pointer('spec', section, i, 'route', j, 'destination'), mirror: false });
      });
    });
  }
  arr(vs.spec.http).forEach((rule, i) => {
    if (isRecord(rule?.mirror)) out.push({ destination: rule.mirror, pointer: pointer('spec', 'http', i, 'mirror'), mirror: true });
    arr(rule?.mirrors).forEach((m, k) => {
      if (isRecord(m?.destination)) out.push({ destination: m.destination, pointer: pointer('spec', 'http', i, 'mirrors', k, 'destination'), mirror: true });
    });
  });
  return out;
}

/** Whether a VirtualService applies to sidecars: no gateways at all, or the reserved `mesh` among them. */
export function appliesToMesh(vs: VirtualService): boolean {
  const gws = arr(vs.spec.gateways);
  return gws.length === 0 || gws.includes('mesh');
}

/** JSON with object keys sorted, so that two equal structures serialize the same whatever the key order in YAML. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Resources of one group/kind among those that passed schema validation (the analyzers' subjects). */
export function ofKind<Spec>(resources: readonly Resource[], group: string, kind: string): Array<Typed<Spec>> {
  return resources.filter((r) => r.group === group && r.kind === kind) as Array<Typed<Spec>>;
}
