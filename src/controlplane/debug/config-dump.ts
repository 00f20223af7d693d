// The configuration generated for one proxy in the shape of Envoy's /config_dump, so the same tools read both.

import { TypeUrl } from '../../xds/resource.js';
import type { ProxyResources } from '../../xds/generator.js';

const DUMP = 'type.googleapis.com/envoy.admin.v3.';

export function configDump(id: string, resources: ProxyResources, versions: Record<string, string>): Record<string, unknown> {
  const list = (t: string) => (resources.get(t) ?? []).map((r): Record<string, unknown> => ({ '@type': t, ...r.value }));
  const v = (t: string) => versions[t] ?? '';
  return {
    configs: [
      { '@type': DUMP + 'BootstrapConfigDump', bootstrap: { node: { id } } },
      { '@type': DUMP + 'ClustersConfigDump', versionInfo: v(TypeUrl.Cluster), dynamicActiveClusters: list(TypeUrl.Cluster).map((cluster) => ({ versionInfo: v(TypeUrl.Cluster), cluster })) },
      { '@type': DUMP + 'ListenersConfigDump', versionInfo: v(TypeUrl.Listener), dynamicListeners: list(TypeUrl.Listener).map((listener) => ({ name: listener.name, activeState: { versionInfo: v(TypeUrl.Listener), listener } })) },
      { '@type': DUMP + 'RoutesConfigDump', dynamicRouteConfigs: list(TypeUrl.RouteConfiguration).map((routeConfig) => ({ versionInfo: v(TypeUrl.RouteConfiguration), routeConfig })) },
      { '@type': DUMP + 'EndpointsConfigDump', dynamicEndpointConfigs: list(TypeUrl.ClusterLoadAssignment).map((endpointConfig) => ({ versionInfo: v(TypeUrl.ClusterLoadAssignment), endpointConfig })) },
    ],
  };
}
