// A waypoint's L7 side (Istio's main_internal, behind connect_terminate): one filter chain per address and port of each
// service that uses the waypoint, where the mesh's outbound routes for that port apply (VirtualServices, HTTPRoutes),
// after the AuthorizationPolicies attached to the waypoint (targetRefs: its Gateway) or to the service (targetRefs:
// the Service). Traffic on to the service's endpoints leaves through connect_originate (hbone-config.ts).

import type { AuthorizationPolicySpec } from '../../../config/types/security.js';
import type { Resource } from '../../../config/resource.js';
import type { HcmTelemetry } from '../../../telemetry/telemetry-api.js';
import type { FilterChain, Listener } from '../../../xds/envoy/index.js';
import type { MeshService } from '../../registry/service-registry.js';
import { policyFilters } from '../authorization.js';
import { connectionManager, hcmFilter, tcpFilter } from '../connection-manager.js';
import { routedAsHttp } from '../listeners.js';
import { BLACKHOLE, MAIN_INTERNAL, outboundClusterName } from '../names.js';
import type { PushContext } from '../push-context.js';

/** Policies whose targetRefs name this Service (Istio attaches them to the service's waypoint). */
function servicePolicies(push: PushContext, svc: MeshService): Array<Resource<AuthorizationPolicySpec>> {
  return push.policies.allAuthorizationPolicies().filter((p) => {
    const refs = [...(p.spec.targetRef ? [p.spec.targetRef] : []), ...(p.spec.targetRefs ?? [])];
    return p.metadata.namespace === svc.namespace && refs.some((t) => t.kind === 'Service' && (t.group ?? '') === '' && t.name === svc.name);
  });
}

/** The waypoint's internal listener for `services` (those whose traffic goes through it). */
export function waypointListener(push: PushContext, waypoint: { namespace: string; labels: Record<string, string> }, services: readonly MeshService[], telemetry: HcmTelemetry): Listener {
  const own = push.policies.authorizationPoliciesFor(waypoint);
  const filterChains: FilterChain[] = [];
  for (const svc of services) {
    const authFilters = policyFilters([...own, ...servicePolicies(push, svc)], push.mesh);
    for (const port of svc.ports) {
      for (const vip of svc.addresses) {
        const name = `${vip}_${port.port}`;
        const filters = routedAsHttp(port.protocol)
          ? [hcmFilter(connectionManager({ statPrefix: `inbound_${name}`, routes: { rds: String(port.port) }, authFilters, telemetry }))]
          : [tcpFilter(`inbound_${name}`, outboundClusterName({ port: port.port, subset: '', host: svc.hostname }))];
        filterChains.push({ name, filterChainMatch: { destinationPort: port.port, prefixRanges: [{ addressPrefix: vip, prefixLen: vip.includes(':') ? 128 : 32 }] }, filters });
      }
    }
  }
  // A destination the waypoint does not serve (or none yet) goes nowhere.
  return { name: MAIN_INTERNAL, internalListener: {}, trafficDirection: 'INBOUND', filterChains, defaultFilterChain: { name: BLACKHOLE, filters: [tcpFilter(BLACKHOLE, BLACKHOLE)] } };
}
