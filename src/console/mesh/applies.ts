// Which Istio config applies to a service, workload or app, and each namespace's mTLS posture (pure).

import { GATEWAY_API_GROUP } from '../../config/gateway-api.js';
import { DEFAULT_DOMAIN, hostMatches } from '../../config/hosts.js';
import { matchesLabels } from '../../config/labels.js';
import type { ConfigObject, MeshInventory, MeshSettings, WorkloadInfo } from '../sources.js';
import { newGatewayName } from '../wizards/gateway.js';
import { serviceParents } from './inventory.js';
import { WIZARD_LABEL } from '../wizards/rules.js';

/** Kinds that apply to a whole namespace (or, in the root namespace, the mesh) when they select no workload. */
const NAMESPACE_WIDE = new Set(['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'Sidecar', 'Telemetry']);

function appliesToWorkload(c: ConfigObject, w: WorkloadInfo, rootNamespace: string): boolean {
  if (c.namespace !== w.namespace && c.namespace !== rootNamespace) return false;
  if (c.workloadSelector && Object.keys(c.workloadSelector).length) return matchesLabels(c.workloadSelector, w.labels);
  return NAMESPACE_WIDE.has(c.kind);
}

function routesTo(c: ConfigObject, fqdn: string): boolean {
  return c.hosts.some((h) => hostMatches(h, fqdn));
}

export function configForService(inv: MeshInventory, namespace: string, name: string, settings: Pick<MeshSettings, 'rootNamespace'>, domain = DEFAULT_DOMAIN): ConfigObject[] {
  const fqdn = `${name}.${namespace}.svc.${domain}`;
  const svc = inv.services.find((s) => s.namespace === namespace && s.name === name);
  const workloads = inv.workloads.filter((w) => w.namespace === namespace && svc?.workloads.includes(w.name));
  return inv.config.filter((c) => routesTo(c, fqdn) || workloads.some((w) => appliesToWorkload(c, w, settings.rootNamespace)));
}

export function configForWorkload(inv: MeshInventory, w: WorkloadInfo, settings: Pick<MeshSettings, 'rootNamespace'>, domain = DEFAULT_DOMAIN): ConfigObject[] {
  const fqdns = w.services.map((s) => `${s}.${w.namespace}.svc.${domain}`);
  return inv.config.filter((c) => appliesToWorkload(c, w, settings.rootNamespace) || fqdns.some((f) => routesTo(c, f)));
}

export function configForApp(inv: MeshInventory, namespace: string, app: string, settings: Pick<MeshSettings, 'rootNamespace'>, domain = DEFAULT_DOMAIN): ConfigObject[] {
  const seen = new Set<ConfigObject>();
  for (const w of inv.workloads) if (w.namespace === namespace && w.app === app) for (const c of configForWorkload(inv, w, settings, domain)) seen.add(c);
  return inv.config.filter((c) => seen.has(c));
}

export type MtlsStatus = 'enabled' | 'permissive' | 'disabled' | 'auto';

/**
 * A namespace's mTLS as configured: its own namespace-wide PeerAuthentication, else the mesh-wide one, else
 * Istio's default (permissive, with auto mTLS between sidecars).
 */
export function namespaceMtls(inv: MeshInventory, namespace: string, settings: MeshSettings): { status: MtlsStatus; source: 'namespace' | 'mesh' | 'default' } {
  const pa = inv.config.find((c) => c.kind === 'PeerAuthentication' && c.namespace === namespace && !c.workloadSelector && c.status !== 'Error');
  const modeOf = (m: string | undefined): MtlsStatus | undefined => (m === 'STRICT' ? 'enabled' : m === 'DISABLE' ? 'disabled' : m === 'PERMISSIVE' ? 'permissive' : undefined);
  const nsMode = modeOf(((pa?.object.spec as { mtls?: { mode?: string } } | undefined)?.mtls?.mode));
  if (nsMode) return { status: nsMode, source: 'namespace' };
  const meshMode = modeOf(settings.meshWideMtlsMode);
  if (meshMode) return { status: meshMode, source: 'mesh' };
  return { status: settings.autoMtls ? 'auto' : 'permissive', source: 'default' };
}

/**
 * What Kiali's "Delete Traffic Routing" removes for a service: the VirtualServices and DestinationRules of its
 * namespace that route it, its Gateway API routes (mesh routes with it as parent, and the route a wizard wrote for it),
 * and the Gateway a wizard created for it (`<service>-gateway`, Istio's or the Gateway API's, labelled by the wizard).
 */
export function trafficRoutingFor(inv: MeshInventory, namespace: string, name: string, domain = DEFAULT_DOMAIN): ConfigObject[] {
  const fqdn = `${name}.${namespace}.svc.${domain}`;
  return inv.config.filter((c) => {
    if (c.namespace !== namespace) return false;
    const labels = (c.object.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
    const byWizard = WIZARD_LABEL in labels;
    if (c.group === 'networking.istio.io') {
      // Named exactly: a wildcard host (`*` at a gateway) routes every service, and is not this service's to delete.
      if (c.kind === 'VirtualService' || c.kind === 'DestinationRule') return c.hosts.includes(fqdn);
      return c.kind === 'Gateway' && c.name === newGatewayName(name) && byWizard;
    }
    if (c.group === GATEWAY_API_GROUP) {
      // A route that only sends traffic to the service (an ingress route to it) is not the service's routing.
      if (c.kind === 'HTTPRoute' || c.kind === 'GRPCRoute') return serviceParents(c.object.spec, c.namespace).some((p) => p.namespace === namespace && p.name === name) || (c.name === name && byWizard);
      return c.kind === 'Gateway' && c.name === newGatewayName(name) && byWizard;
    }
    return false;
  });
}
