// The Gateway API's versions of Kiali's request routing and traffic shifting: the wizards' rules (rules.ts) as an
// HTTPRoute whose parent is the service itself (a GAMMA mesh route: sidecars' requests to it) or a Kubernetes Gateway
// (an existing one, or `<service>-gateway` made with it), and whose weighted backendRefs are per-version Services —
// the Gateway API weights Services, not subsets, so each version needs one (Istio's bookinfo-versions.yaml pattern).

import { stringify } from 'yaml';
import type { HTTPRouteMatch, HTTPRouteRule, HTTPRouteSpec, ParentReference } from '../../config/types/gateway-api.js';
import { newGatewayName } from './gateway.js';
import { k8sGatewayObject, type K8sGatewayObject } from './k8s-gateway.js';
import { WHOLE_SERVICE, WIZARD_LABEL, type BackendService, type GatewayApiBackends, type MatchOp, type RouteRule, type WizardInput, type WorkloadLike } from './rules.js';

/** A Service as the wizards see it: the workloads it selects (by name) and its ports. */
export interface ServiceLike {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  workloads: string[];
  ports: Array<{ name?: string; port: number; targetPort?: number | string }>;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/**
 * The service's port and, per version, the Service that selects exactly that version's workloads of it (`<service>-<v>`
 * first when several do), with its port of the same number (or name, or its only port).
 */
export function versionServices(service: ServiceLike, services: readonly ServiceLike[], workloads: readonly WorkloadLike[]): GatewayApiBackends {
  const port = service.ports[0];
  const own = workloads.filter((w) => service.workloads.includes(w.name));
  const versions: Record<string, BackendService> = {};
  for (const v of new Set(own.map((w) => w.labels.version).filter((x): x is string => !!x))) {
    const wanted = own.filter((w) => w.labels.version === v).map((w) => w.name);
    const candidates = services.filter((s) => s.namespace === service.namespace && s.name !== service.name && sameSet(s.workloads, wanted));
    const pick = candidates.find((s) => s.name === `${service.name}-${v}`) ?? candidates[0];
    const p = pick && (pick.ports.find((x) => x.port === port?.port) ?? pick.ports.find((x) => !!x.name && x.name === port?.name) ?? (pick.ports.length === 1 ? pick.ports[0] : undefined));
    if (pick && p) versions[v] = { name: pick.name, port: p.port };
  }
  return { port: port?.port ?? 0, versions };
}

/** The versions the rules send traffic to (a weight above 0) that have no Service of their own. */
export function missingVersionServices(input: WizardInput): string[] {
  const used = new Set(input.rules.flatMap((r) => r.weights.filter((w) => w.weight > 0 && w.subset !== WHOLE_SERVICE).map((w) => w.subset)));
  return [...used].filter((v) => !input.backends?.versions[v]).sort();
}

/** Why a Gateway API wizard's input cannot make a working HTTPRoute, or undefined (after the shared rule checks). */
export function checkHttpRouteWizard(input: WizardInput): string | undefined {
  if (!input.backends?.port) return `${input.service} has no port to route`;
  const missing = missingVersionServices(input);
  if (missing.length) {
    return `${input.service} has no Service for version${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: Gateway API routes weight Services, not subsets, so each version needs one (as Istio's bookinfo-versions.yaml gives Bookinfo). Apply the Services below, then run the wizard again.`;
  }
  return undefined;
}

/** Per-version Services for `versions` of `service` (`<service>-<v>`, its selector plus `version: <v>`, its ports), as YAML. */
export function perVersionServicesYaml(service: ServiceLike, versions: readonly string[]): string {
  return versions
    .map((v) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${service.name}-${v}`, namespace: service.namespace },
        spec: { selector: { ...service.selector, version: v }, ports: service.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}) })) },
      }),
    )
    .join('---\n');
}

const PATH: Record<MatchOp, NonNullable<HTTPRouteMatch['path']>['type']> = { exact: 'Exact', prefix: 'PathPrefix', regex: 'RegularExpression' };

function matchOf(r: RouteRule): HTTPRouteMatch[] | undefined {
  if (!r.match) return undefined;
  const m: HTTPRouteMatch = {};
  if (r.match.uri) m.path = { type: PATH[r.match.uri.op], value: r.match.uri.value };
  if (r.match.header) m.headers = [{ type: r.match.header.op === 'regex' ? 'RegularExpression' : 'Exact', name: r.match.header.name, value: r.match.header.value }];
  return [m];
}

function routeRule(input: WizardInput, r: RouteRule): HTTPRouteRule {
  const kept = r.weights.filter((w) => w.weight > 0);
  const backend = (subset: string): BackendService => (subset === WHOLE_SERVICE ? { name: input.service, port: input.backends!.port } : input.backends!.versions[subset]!);
  // One backend takes everything: no weight, as Istio's route-reviews-v1.yaml writes it.
  const backendRefs = kept.map((w) => ({ ...backend(w.subset), ...(kept.length > 1 ? { weight: w.weight } : {}) }));
  const matches = matchOf(r);
  return { ...(matches ? { matches } : {}), backendRefs };
}

export interface HttpRouteObject {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: HTTPRouteSpec;
}

/** The parents: the service itself (mesh) when no gateway is attached or the mesh is included, and the gateway. */
function parentRefs(input: WizardInput): ParentReference[] {
  const mesh: ParentReference = { group: '', kind: 'Service', name: input.service, port: input.backends!.port };
  const g = input.gateway;
  if (!g) return [mesh];
  let gateway: ParentReference;
  if (g.mode === 'new') gateway = { name: newGatewayName(input.service) };
  else {
    const [namespace, name] = g.gateway.split('/') as [string, string];
    gateway = namespace === input.namespace ? { name } : { name, namespace };
  }
  return g.includeMesh ? [gateway, mesh] : [gateway];
}

/** What a Gateway API wizard writes: its HTTPRoute named after the service, and a new Gateway if one was asked for. */
export function httpRouteWizardObjects(input: WizardInput): { httpRoute: HttpRouteObject; gateway?: K8sGatewayObject } {
  const labels = { [WIZARD_LABEL]: input.kind };
  const spec: HTTPRouteSpec = { parentRefs: parentRefs(input) };
  // Hostnames apply at a Gateway (`*` is any, which is no hostnames); mesh parents ignore them.
  const hostnames = (input.gateway?.hosts ?? []).filter((h) => h !== '*');
  if (hostnames.length) spec.hostnames = hostnames;
  spec.rules = input.rules.map((r) => routeRule(input, r));
  const httpRoute: HttpRouteObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: input.service, namespace: input.namespace, labels }, spec };
  const g = input.gateway;
  if (g?.mode !== 'new') return { httpRoute };
  const gateway = k8sGatewayObject({ namespace: input.namespace, name: newGatewayName(input.service), className: 'istio', labels, listeners: [{ name: 'http', port: g.port, protocol: 'HTTP', from: 'Same' }] });
  return { httpRoute, gateway };
}
