// Kubernetes Gateway API analyzers: what the route and Gateway status will say, where the files alone tell it —
// unknown GatewayClasses, route parents and backends that do not exist or are of kinds Trellis cannot serve,
// cross-namespace references no ReferenceGrant allows, routes no listener accepts or whose hostnames match no
// listener's, listeners that cannot be served, certificate secrets. The rules are config/gateway-api.ts's, which the
// control plane's status uses too.

import {
  hostnameIntersection,
  kindListed,
  listenerRouteKinds,
  listenerTlsMode,
  namespaceAdmitted,
  namespaceLabels,
  portConflicts,
  referenceGranted as sharedReferenceGranted,
  SERVED_LISTENER_PROTOCOLS,
  trellisGatewayClasses,
  type ReferenceFrom,
  type ReferenceTo,
} from '../../gateway-api.js';
import { GROUPS } from '../../kinds.js';
import { pointer, type Resource } from '../../resource.js';
import type { BackendRef, GatewayListener, HTTPRouteFilter, K8sGatewaySpec, ParentReference, ReferenceGrantSpec } from '../../types/gateway-api.js';
import type { Analyzer, AnalysisContext } from '../analyzer.js';
import type { ConfigIndex, Typed } from '../config-index.js';
import { Messages } from '../messages.js';
import { credentialProblem } from './gateway.js';
import { arr, isRecord } from './util.js';

const GW = GROUPS.GATEWAY_API;
type K8sGateway = Typed<K8sGatewaySpec>;

const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'];

/** `ns/name` when the reference named a namespace, else `name`, as the user wrote it. */
const written = (ref: { namespace?: string; name?: string }) => (ref.namespace ? `${ref.namespace}/${ref.name}` : String(ref.name));

/** Whether a ReferenceGrant in the target namespace lets `from` (group/kind in `fromNamespace`) refer to `to` (group/kind/name). */
export function referenceGranted(index: ConfigIndex, from: ReferenceFrom, to: ReferenceTo): boolean {
  return sharedReferenceGranted(index.list<ReferenceGrantSpec>(GW, 'ReferenceGrant', to.namespace), from, to);
}

export const gatewayClassAnalyzer: Analyzer = {
  name: 'k8sgateway.GatewayClassAnalyzer',
  description: 'Checks that each Gateway names a GatewayClass that exists',
  analyze(ctx) {
    // Istio's own classes exist without an object (ingress, remote and waypoint gateways); declared ones exist too.
    const declared = ctx.index.list(GW, 'GatewayClass');
    const known = new Set([...trellisGatewayClasses(declared).keys(), ...declared.map((c) => c.metadata.name)]);
    for (const gw of ctx.resources.filter((r) => r.group === GW && r.kind === 'Gateway') as K8sGateway[]) {
      const cls = gw.spec.gatewayClassName;
      if (typeof cls === 'string' && cls !== '' && !known.has(cls)) {
        ctx.report(Messages.ReferencedResourceNotFound, gw, '/spec/gatewayClassName', `Referenced gatewayclass not found: ${JSON.stringify(cls)}`);
      }
    }
  },
};

export const gatewayCertificateRefsAnalyzer: Analyzer = {
  name: 'k8sgateway.CertificateRefsAnalyzer',
  description: "Checks that a Gateway's listener certificates exist, are valid and may be referenced",
  analyze(ctx) {
    for (const gw of ctx.resources.filter((r) => r.group === GW && r.kind === 'Gateway') as K8sGateway[]) {
      arr(gw.spec.listeners).forEach((listener, i) => {
        arr(listener?.tls?.certificateRefs).forEach((ref, j) => {
          if (!isRecord(ref) || typeof ref.name !== 'string') return;
          if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret') return; // other certificate sources are not Trellis's to check
          const namespace = ref.namespace ?? gw.metadata.namespace;
          const at = pointer('spec', 'listeners', i, 'tls', 'certificateRefs', j, 'name');
          if (!referenceGranted(ctx.index, { group: GW, kind: 'Gateway', namespace: gw.metadata.namespace }, { group: '', kind: 'Secret', namespace, name: ref.name })) {
            ctx.report(Messages.ReferenceNotPermitted, gw, at, `Reference to Secret "${namespace}/${ref.name}" from Gateway ${gw.metadata.namespace}/${gw.metadata.name} is not permitted by any ReferenceGrant in namespace "${namespace}"`);
            return;
          }
          const secret = ctx.index.secret(namespace, ref.name);
          if (!secret) {
            ctx.report(Messages.ReferencedResourceNotFound, gw, at, `Referenced secret not found: ${JSON.stringify(written(ref))}`);
            return;
          }
          const problem = credentialProblem(secret);
          if (problem) ctx.report(Messages.InvalidGatewayCredential, gw, at, `The credential referenced by the Gateway ${gw.metadata.name} in namespace ${gw.metadata.namespace} is invalid, which can cause the traffic not to work as expected: ${problem}.`);
        });
      });
    }
  },
};

export const gatewayListenersAnalyzer: Analyzer = {
  name: 'k8sgateway.ListenerAnalyzer',
  description: 'Checks that the listeners of Gateways Trellis serves can be served: protocol, route kinds, and ports shared only by protocols that can share them',
  analyze(ctx) {
    const classes = trellisGatewayClasses(ctx.index.list(GW, 'GatewayClass'));
    for (const gw of ctx.resources.filter((r) => r.group === GW && r.kind === 'Gateway') as K8sGateway[]) {
      const role = classes.get(gw.spec.gatewayClassName ?? '')?.role;
      if (role !== 'deployed' && role !== 'unmanaged') continue; // another controller's Gateway, or an ambient waypoint
      const of = (l: GatewayListener) => `Listener ${JSON.stringify(l.name ?? '')} of Gateway ${gw.metadata.namespace}/${gw.metadata.name}`;
      const listeners = arr(gw.spec.listeners).map((l, i) => ({ l: (isRecord(l) ? l : {}) as GatewayListener, i }));
      for (const { l, i } of listeners) {
        if (!SERVED_LISTENER_PROTOCOLS.has(l.protocol ?? '')) {
          ctx.report(Messages.GatewayListenerNotValid, gw, pointer('spec', 'listeners', i, 'protocol'), `${of(l)}: protocol ${JSON.stringify(l.protocol ?? '')} is not served (HTTP, HTTPS, TLS, TCP); the listener is not accepted (UnsupportedProtocol)`);
          continue;
        }
        const kinds = arr(l.allowedRoutes?.kinds);
        for (const bad of listenerRouteKinds(l).invalid) {
          ctx.report(Messages.GatewayListenerNotValid, gw, pointer('spec', 'listeners', i, 'allowedRoutes', 'kinds', kinds.indexOf(bad), 'kind'), `${of(l)}: a ${l.protocol}${listenerTlsMode(l) === 'Passthrough' ? ' Passthrough' : ''} listener cannot take ${bad.kind} routes (InvalidRouteKinds), so it serves none`);
        }
      }
      const served = listeners.filter(({ l }) => SERVED_LISTENER_PROTOCOLS.has(l.protocol ?? '')).map(({ l, i }) => ({ ...l, index: i }));
      for (const c of portConflicts(served)) {
        ctx.report(Messages.GatewayListenerNotValid, gw, pointer('spec', 'listeners', c.listener.index, 'port'), `${of(c.listener)}: port ${c.listener.port} is held by listener ${JSON.stringify(c.holder.name ?? '')} (${c.holder.protocol}), which a ${c.listener.protocol} listener cannot share (${c.reason}); it is not served`);
      }
    }
  },
};

export const routeReferencesAnalyzer: Analyzer = {
  name: 'k8sgateway.RouteReferencesAnalyzer',
  description: 'Checks the parents and backends of Gateway API routes: existence, listeners that accept the route, and ReferenceGrants',
  analyze(ctx) {
    for (const route of ctx.resources.filter((r) => r.group === GW && ROUTE_KINDS.includes(r.kind))) {
      const spec = route.spec as { parentRefs?: ParentReference[]; rules?: Array<{ backendRefs?: BackendRef[]; filters?: HTTPRouteFilter[] }> };
      arr(spec.parentRefs).forEach((ref, i) => checkParent(ctx, route, ref, pointer('spec', 'parentRefs', i)));
      arr(spec.rules).forEach((rule, i) => {
        arr(rule?.backendRefs).forEach((ref, j) => {
          const base = pointer('spec', 'rules', i, 'backendRefs', j);
          checkBackend(ctx, route, ref, base);
          arr(ref?.filters).forEach((f, k) => checkBackend(ctx, route, f?.requestMirror?.backendRef, `${base}${pointer('filters', k, 'requestMirror', 'backendRef')}`));
        });
        arr(rule?.filters).forEach((f, k) => checkBackend(ctx, route, f?.requestMirror?.backendRef, pointer('spec', 'rules', i, 'filters', k, 'requestMirror', 'backendRef')));
      });
    }
  },
};

function checkParent(ctx: AnalysisContext, route: Resource, ref: ParentReference | undefined, at: string): void {
  if (!ref || typeof ref !== 'object' || typeof ref.name !== 'string') return;
  const name = ref.name;
  const group = ref.group ?? GW;
  const kind = ref.kind ?? 'Gateway';
  const namespace = ref.namespace ?? route.metadata.namespace;
  if (group === '' && kind === 'Service') {
    // A mesh (GAMMA) route: the parent is the Service whose traffic it routes.
    if (!ctx.index.kubernetesService(namespace, name)) ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/name`, `Referenced service not found: ${JSON.stringify(written(ref))}`);
    return;
  }
  if (group === GROUPS.ISTIO_NET && kind === 'ServiceEntry') {
    if (!ctx.index.get(GROUPS.ISTIO_NET, 'ServiceEntry', namespace, name)) ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/name`, `Referenced serviceentry not found: ${JSON.stringify(written(ref))}`);
    return;
  }
  if (group !== GW || kind !== 'Gateway') return;
  const gw = ctx.index.get<K8sGatewaySpec>(GW, 'Gateway', namespace, name);
  if (!gw) {
    ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/name`, `Referenced gateway not found: ${JSON.stringify(written(ref))}`);
    return;
  }
  let listeners = arr(gw.spec.listeners).filter(isRecord) as GatewayListener[];
  if (ref.sectionName !== undefined) {
    listeners = listeners.filter((l) => l.name === ref.sectionName);
    if (listeners.length === 0) {
      ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/sectionName`, `Referenced gateway listener not found: ${JSON.stringify(`${written(ref)}/${ref.sectionName}`)}`);
      return;
    }
  }
  if (ref.port !== undefined) {
    listeners = listeners.filter((l) => l.port === ref.port);
    if (listeners.length === 0) {
      ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/port`, `Referenced gateway port not found: ${JSON.stringify(`${written(ref)}:${ref.port}`)}`);
      return;
    }
  }
  const admitting = listeners.filter((l) => listenerAccepts(ctx.index, gw, l, route));
  if (admitting.length === 0) {
    ctx.report(Messages.RouteNotAllowedByListeners, route, at, `No listener of Gateway ${gw.metadata.namespace}/${gw.metadata.name} accepts a ${route.kind} from namespace ${JSON.stringify(route.metadata.namespace)} (allowedRoutes), so the route is not attached`);
    return;
  }
  if (route.kind === 'TCPRoute') return; // TCP routes have no hostnames: they take whatever arrives on the port.
  const hostnames = arr((route.spec as { hostnames?: unknown[] }).hostnames).filter((h): h is string => typeof h === 'string');
  if (!admitting.some((l) => hostnameIntersection(l.hostname || undefined, hostnames).length > 0)) {
    const names = admitting.map((l) => l.hostname ?? '*').join(', ');
    ctx.report(Messages.RouteHostnameNotMatched, route, hostnames.length ? '/spec/hostnames' : at, `No hostname of the ${route.kind} (${hostnames.join(', ')}) matches a listener of Gateway ${gw.metadata.namespace}/${gw.metadata.name} that admits it (${names}), so the route is not attached there`);
  }
}

/** A listener's `allowedRoutes`: namespaces (Same by default, All, or a label Selector) and kinds (by protocol by default). */
function listenerAccepts(index: ConfigIndex, gw: K8sGateway, l: GatewayListener, route: Resource): boolean {
  if (!kindListed(listenerRouteKinds(l).supported, { group: route.group, kind: route.kind })) return false;
  const labels = namespaceLabels(route.metadata.namespace, index.namespaceResource(route.metadata.namespace)?.metadata.labels);
  return namespaceAdmitted(l.allowedRoutes, gw.metadata.namespace, route.metadata.namespace, labels);
}

function checkBackend(ctx: AnalysisContext, route: Resource, ref: BackendRef | undefined, at: string): void {
  if (!ref || typeof ref !== 'object' || typeof ref.name !== 'string') return;
  const name = ref.name;
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? route.metadata.namespace;
  const supported = (group === '' && kind === 'Service') || (group === GROUPS.ISTIO_NET && (kind === 'Hostname' || kind === 'ServiceEntry'));
  if (!supported) {
    ctx.report(Messages.BackendKindNotSupported, route, `${at}/kind`, `Backend ${group ? `${group}/` : ''}${kind} ${JSON.stringify(written(ref))} is not a kind Trellis sends traffic to (a Service, or a networking.istio.io ServiceEntry or Hostname); its share of requests gets 500`);
    return;
  }
  if (kind !== 'Hostname' && !referenceGranted(ctx.index, { group: GW, kind: route.kind, namespace: route.metadata.namespace }, { group, kind, namespace, name: name })) {
    ctx.report(Messages.ReferenceNotPermitted, route, `${at}/name`, `Reference to ${kind} "${namespace}/${name}" from ${route.kind} ${route.metadata.namespace}/${route.metadata.name} is not permitted by any ReferenceGrant in namespace "${namespace}"`);
    return;
  }
  if (kind === 'Hostname') {
    if (ctx.index.servicesForHost(name, route.metadata.namespace).length === 0) ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/name`, `Referenced backend host not found: ${JSON.stringify(name)}`);
    return;
  }
  if (kind === 'ServiceEntry') {
    if (!ctx.index.get(GROUPS.ISTIO_NET, 'ServiceEntry', namespace, name)) ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/name`, `Referenced backend serviceentry not found: ${JSON.stringify(written(ref))}`);
    return;
  }
  const svc = ctx.index.kubernetesService(namespace, name);
  if (!svc) {
    ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/name`, `Referenced backend service not found: ${JSON.stringify(written(ref))}`);
    return;
  }
  if (typeof ref.port === 'number' && svc.ports.length > 0 && !svc.ports.some((p) => p.number === ref.port)) {
    ctx.report(Messages.ReferencedResourceNotFound, route, `${at}/port`, `Referenced backend service port not found: ${JSON.stringify(`${written(ref)}:${ref.port}`)}`);
  }
}
