// Kubernetes Gateway API analyzers: unknown GatewayClasses, route parents and backends that do not exist,
// cross-namespace references no ReferenceGrant allows, routes no listener accepts, certificate secrets.

import { defaultRouteKinds, kindListed, namespaceAdmitted, namespaceLabels, referenceGranted as sharedReferenceGranted, type ReferenceFrom, type ReferenceTo } from '../../gateway-api.js';
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

/** GatewayClasses Istio (and so Trellis) provides without a GatewayClass object: ingress, remote and waypoint gateways. */
const BUILT_IN_CLASSES = new Set(['istio', 'istio-remote', 'istio-waypoint']);

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
    const known = new Set([...BUILT_IN_CLASSES, ...ctx.index.list(GW, 'GatewayClass').map((c) => c.metadata.name)]);
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
  if (!listeners.some((l) => listenerAccepts(ctx.index, gw, l, route))) {
    ctx.report(Messages.RouteNotAllowedByListeners, route, at, `No listener of Gateway ${gw.metadata.namespace}/${gw.metadata.name} accepts a ${route.kind} from namespace ${JSON.stringify(route.metadata.namespace)} (allowedRoutes), so the route is not attached`);
  }
}

/** A listener's `allowedRoutes`: namespaces (Same by default, All, or a label Selector) and kinds (by protocol by default). */
function listenerAccepts(index: ConfigIndex, gw: K8sGateway, l: GatewayListener, route: Resource): boolean {
  const kinds = arr(l.allowedRoutes?.kinds);
  const kind = { group: route.group, kind: route.kind };
  if (!kindListed(kinds.length ? kinds : defaultRouteKinds(l.protocol), kind)) return false;
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
  if (!supported) return;
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
