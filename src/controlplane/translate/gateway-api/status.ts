// Gateway API status as the specification defines it, computed from a push context alone (no clock, no I/O): GatewayClass
// Accepted; Gateway Accepted/Programmed with its addresses and, per listener, Accepted/Programmed/ResolvedRefs/Conflicted,
// attachedRoutes and supportedKinds; every route's parents[] with Accepted and ResolvedRefs. `stampTransitions` adds
// the lastTransitionTime Kubernetes wants, keeping it while a condition's status stays the same.

import type { GroupKind } from '../../../config/gateway-api.js';
import { GATEWAY_API_GROUP } from '../../../config/gateway-api.js';
import type { Resource } from '../../../config/resource.js';
import type { ParentReference } from '../../../config/types/gateway-api.js';
import type { PushContext } from '../push-context.js';
import { C, condition, R, type Condition } from './conditions.js';
import type { GatewayModel, ListenerModel } from './gateways.js';

/** A condition as written to status (`metav1.Condition`; lastTransitionTime comes from `stampTransitions`). */
export interface StatusCondition extends Condition {
  observedGeneration: number;
  lastTransitionTime?: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: GroupKind[];
  attachedRoutes: number;
  conditions: StatusCondition[];
}

export interface GatewayStatus {
  addresses: Array<{ type: 'IPAddress'; value: string }>;
  conditions: StatusCondition[];
  listeners: ListenerStatus[];
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: StatusCondition[];
}

export interface RouteStatus {
  parents: RouteParentStatus[];
}

export interface GatewayClassStatus {
  conditions: StatusCondition[];
}

/** One object's status, as `kubectl get -o yaml` (and `trellis get`) would show it under `status:`. */
export interface ObjectStatus {
  group: string;
  kind: string;
  /** '' for cluster-scoped objects (GatewayClass). */
  namespace: string;
  name: string;
  /** GatewayClasses Istio provides without an object (`istio`, `istio-remote`, `istio-waypoint`). */
  builtIn?: boolean;
  status: GatewayClassStatus | GatewayStatus | RouteStatus;
}

/** The object's generation (files carry none: a freshly created object is generation 1). */
const generationOf = (r: Resource<unknown> | undefined) => r?.metadata.generation ?? 1;
const observed = (generation: number) => (c: Condition): StatusCondition => ({ ...c, observedGeneration: generation });

function gatewayConditions(gw: GatewayModel, addresses: string[]): { accepted: Condition; programmed: Condition } {
  const usable = gw.listeners.filter((l) => l.usable).length;
  let accepted: Condition;
  if (gw.unsupportedAddress) accepted = condition(C.Accepted, false, R.UnsupportedAddress, gw.unsupportedAddress);
  else if (gw.listeners.length && !usable) accepted = condition(C.Accepted, false, R.ListenersNotValid, 'no listener is valid');
  else if (usable < gw.listeners.length) accepted = condition(C.Accepted, true, R.ListenersNotValid, `${gw.listeners.length - usable} of ${gw.listeners.length} listeners are not valid`);
  else accepted = condition(C.Accepted, true, R.Accepted);
  let programmed: Condition;
  const requested = (gw.resource.spec.addresses ?? []).map((a) => a.value ?? '');
  if (gw.cls.role !== 'deployed') programmed = condition(C.Programmed, false, R.Pending, `class ${gw.cls.name} is configured but not deployed by Trellis`);
  else if (accepted.status === 'False') programmed = condition(C.Programmed, false, R.Invalid, accepted.message);
  else if (!addresses.length) programmed = condition(C.Programmed, false, R.AddressNotAssigned, 'no gateway proxy runs for this Gateway yet (`trellis up` deploys one)');
  else if (requested.length && !requested.every((a) => addresses.includes(a))) programmed = condition(C.Programmed, false, R.AddressNotUsable, `requested addresses ${requested.join(', ')} are not the deployed ${addresses.join(', ')}`);
  else programmed = condition(C.Programmed, true, R.Programmed);
  return { accepted, programmed };
}

function listenerStatus(push: PushContext, l: ListenerModel, gatewayProgrammed: boolean, generation: number): ListenerStatus {
  const programmed = !l.usable
    ? condition(C.Programmed, false, R.Invalid, [l.accepted, l.resolvedRefs, l.conflicted].find((c) => c.status !== (c.type === C.Conflicted ? 'False' : 'True'))?.message ?? '')
    : gatewayProgrammed
      ? condition(C.Programmed, true, R.Programmed)
      : condition(C.Programmed, false, R.Pending, 'the Gateway is not programmed');
  return {
    name: l.name,
    supportedKinds: l.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
    attachedRoutes: push.gatewayApi.attachedRoutes(l),
    conditions: [l.accepted, programmed, l.resolvedRefs, l.conflicted].map(observed(generation)),
  };
}

/** The status of every Gateway API object Trellis is responsible for, in a stable order (classes, Gateways, routes). */
export function gatewayApiStatus(push: PushContext): ObjectStatus[] {
  const index = push.gatewayApi;
  const out: ObjectStatus[] = [];
  for (const cls of [...index.classes.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push({ group: GATEWAY_API_GROUP, kind: 'GatewayClass', namespace: '', name: cls.name, ...(cls.resource ? {} : { builtIn: true }), status: { conditions: [observed(generationOf(cls.resource))(cls.accepted)] } });
  }
  for (const gw of index.gateways) {
    const generation = generationOf(gw.resource);
    const addresses = index.addresses(gw);
    const { accepted, programmed } = gatewayConditions(gw, addresses);
    const status: GatewayStatus = {
      addresses: addresses.map((value) => ({ type: 'IPAddress', value })),
      conditions: [accepted, programmed].map(observed(generation)),
      listeners: gw.listeners.map((l) => listenerStatus(push, l, programmed.status === 'True', generation)),
    };
    out.push({ group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: gw.namespace, name: gw.name, status });
  }
  for (const route of index.routes) {
    const r = route.resource;
    const generation = generationOf(r);
    const parents = route.parents.map((p) => ({ parentRef: p.ref, controllerName: parentController(push, p.ref, r), conditions: [p.accepted, route.resolvedRefs].map(observed(generation)) }));
    out.push({ group: GATEWAY_API_GROUP, kind: route.kind, namespace: r.metadata.namespace, name: r.metadata.name, status: { parents } });
  }
  return out;
}

/** The controller that reports on a parent: the Gateway's class's, else Istio's gateway controller (mesh routes too). */
function parentController(push: PushContext, ref: ParentReference, route: Resource<unknown>): string {
  const gw = (ref.kind ?? 'Gateway') === 'Gateway' ? push.gatewayApi.gateway(ref.namespace ?? route.metadata.namespace, ref.name ?? '') : undefined;
  return gw?.cls.controllerName ?? push.gatewayApi.classes.get('istio')?.controllerName ?? 'istio.io/gateway-controller';
}

/** Every condition of a status, wherever it sits (Gateway, listeners, route parents, class). */
function conditionsOf(s: ObjectStatus['status']): StatusCondition[] {
  if ('parents' in s) return s.parents.flatMap((p) => p.conditions);
  if ('listeners' in s) return [...s.conditions, ...s.listeners.flatMap((l) => l.conditions)];
  return s.conditions;
}

/**
 * Adds lastTransitionTime to every condition: `now` for a condition that is new or changed status since `previous`,
 * the earlier time otherwise (matched by object and the condition's place in it).
 */
export function stampTransitions(previous: readonly ObjectStatus[], next: readonly ObjectStatus[], now: Date): ObjectStatus[] {
  const id = (o: ObjectStatus) => `${o.kind}/${o.namespace}/${o.name}`;
  const before = new Map(previous.map((o) => [id(o), conditionsOf(o.status)]));
  const stamped = structuredClone(next) as ObjectStatus[];
  for (const o of stamped) {
    const old = before.get(id(o)) ?? [];
    conditionsOf(o.status).forEach((c, i) => {
      const was = old[i];
      c.lastTransitionTime = was && was.type === c.type && was.status === c.status && was.lastTransitionTime ? was.lastTransitionTime : now.toISOString();
    });
  }
  return stamped;
}
