// Gateways of Trellis's classes, resolved once per push: each listener's protocol, hostname, TLS certificates (Secrets,
// across namespaces only with a ReferenceGrant), the route kinds it takes, conflicts between listeners on one port,
// and the conditions the specification asks for on each.

import { credentialProblem } from '../../../config/analysis/analyzers/gateway.js';
import { GATEWAY_API_GROUP, listenerRouteKinds, listenerTlsMode, portConflicts, referenceGranted, SERVED_LISTENER_PROTOCOLS, type GroupKind } from '../../../config/gateway-api.js';
import type { Resource } from '../../../config/resource.js';
import type { GatewayListener, K8sGateway, ReferenceGrantSpec } from '../../../config/types/gateway-api.js';
import { sdsCertName, sdsGatewayCertName } from '../credentials.js';
import { C, condition, R, type Condition } from './conditions.js';
import type { GatewayClassInfo } from './gateway-classes.js';

export interface ListenerModel {
  gateway: GatewayModel;
  name: string;
  port: number;
  /** As written (HTTP, HTTPS, TLS, TCP, …). */
  protocol: string;
  hostname: string | undefined;
  tlsMode: 'Terminate' | 'Passthrough' | undefined;
  /** SDS names of its certificates, when every certificateRef resolved. */
  certificates: string[];
  allowedRoutes: GatewayListener['allowedRoutes'];
  /** The route kinds it takes (those of `allowedRoutes.kinds` Trellis supports, else the protocol's defaults). */
  supportedKinds: GroupKind[];
  accepted: Condition;
  resolvedRefs: Condition;
  conflicted: Condition;
  /** Accepted, references resolved and not in conflict: configured on the gateway's proxy. */
  usable: boolean;
}

export interface GatewayModel {
  resource: K8sGateway;
  namespace: string;
  name: string;
  cls: GatewayClassInfo;
  listeners: ListenerModel[];
  /** Why `spec.addresses` cannot be honoured, if it cannot. */
  unsupportedAddress?: string;
}

/** What resolving a Gateway needs from the push context. */
export interface GatewayLookup {
  secret(namespace: string, name: string): Resource | undefined;
  grants(namespace: string): ReadonlyArray<{ spec: ReferenceGrantSpec }>;
}

/** One certificateRef: its SDS name, or why it cannot be used (RefNotPermitted before existence, as the spec's tests expect). */
function certificate(ref: { group?: string; kind?: string; name?: string; namespace?: string }, gw: K8sGateway, lookup: GatewayLookup): { sds: string } | { reason: string; message: string } {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const namespace = ref.namespace ?? gw.metadata.namespace;
  const name = ref.name ?? '';
  if ((group !== '' && group !== 'core') || kind !== 'Secret') return { reason: R.InvalidCertificateRef, message: `certificateRef ${group ? `${group}/` : ''}${kind} ${name} is not a Secret` };
  if (!referenceGranted(lookup.grants(namespace), { group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: gw.metadata.namespace }, { group: '', kind: 'Secret', namespace, name })) {
    return { reason: R.RefNotPermitted, message: `Secret ${namespace}/${name} is in another namespace and no ReferenceGrant there permits it` };
  }
  const secret = lookup.secret(namespace, name);
  if (!secret) return { reason: R.InvalidCertificateRef, message: `Secret ${namespace}/${name} not found` };
  const problem = credentialProblem(secret);
  if (problem) return { reason: R.InvalidCertificateRef, message: problem };
  return { sds: namespace === gw.metadata.namespace ? sdsCertName(name) : sdsGatewayCertName(namespace, name) };
}

function resolveListener(gateway: GatewayModel, l: GatewayListener, lookup: GatewayLookup): ListenerModel {
  const protocol = l.protocol ?? '';
  const tlsMode = listenerTlsMode(l);
  const problems: Array<{ reason: string; message: string }> = [];
  const { supported: supportedKinds, invalid } = listenerRouteKinds(l);
  if (invalid.length) problems.push({ reason: R.InvalidRouteKinds, message: `route kinds ${invalid.map((k) => k.kind).join(', ')} are not supported on a ${protocol} listener` });
  const certificates: string[] = [];
  if (tlsMode === 'Terminate') {
    for (const ref of l.tls?.certificateRefs ?? []) {
      const c = certificate(ref, gateway.resource, lookup);
      if ('sds' in c) certificates.push(c.sds);
      else problems.push(c);
    }
  }
  const accepted = SERVED_LISTENER_PROTOCOLS.has(protocol)
    ? condition(C.Accepted, true, R.Accepted)
    : condition(C.Accepted, false, R.UnsupportedProtocol, `protocol ${protocol} is not supported (HTTP, HTTPS, TLS, TCP)`);
  const resolvedRefs = problems.length ? condition(C.ResolvedRefs, false, problems[0]!.reason, problems.map((p) => p.message).join('; ')) : condition(C.ResolvedRefs, true, R.ResolvedRefs);
  return {
    gateway,
    name: l.name ?? '',
    port: l.port ?? 0,
    protocol,
    hostname: l.hostname || undefined,
    tlsMode,
    certificates: problems.length ? [] : certificates,
    allowedRoutes: l.allowedRoutes,
    supportedKinds,
    accepted,
    resolvedRefs,
    conflicted: condition(C.Conflicted, false, R.NoConflicts),
    usable: accepted.status === 'True' && resolvedRefs.status === 'True',
  };
}

/** Listeners on one port whose protocols cannot share it: the first listener's family keeps the port. */
function markConflicts(listeners: ListenerModel[]): void {
  for (const { listener: l, holder, reason } of portConflicts(listeners.filter((x) => x.accepted.status === 'True'))) {
    l.conflicted = condition(C.Conflicted, true, R[reason], `listener ${holder.name} already serves ${holder.protocol} on port ${l.port}`);
    l.accepted = condition(C.Accepted, false, R.PortUnavailable, `port ${l.port} is taken by listener ${holder.name} (${holder.protocol})`);
    l.usable = false;
  }
}

/** A Gateway of one of Trellis's classes, with every listener resolved. */
export function resolveGateway(gw: K8sGateway, cls: GatewayClassInfo, lookup: GatewayLookup): GatewayModel {
  const model: GatewayModel = { resource: gw, namespace: gw.metadata.namespace, name: gw.metadata.name, cls, listeners: [] };
  model.listeners = (gw.spec.listeners ?? []).map((l) => resolveListener(model, l, lookup));
  markConflicts(model.listeners);
  const odd = (gw.spec.addresses ?? []).find((a) => (a.type ?? 'IPAddress') !== 'IPAddress' || !/^127\.\d+\.\d+\.\d+$/.test(a.value ?? ''));
  if (odd) model.unsupportedAddress = `address ${odd.type ?? 'IPAddress'} ${odd.value ?? ''} cannot be used: the local runtime gives gateways loopback IP addresses (127.0.0.0/8)`;
  return model;
}
