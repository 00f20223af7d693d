// /config_dump in Envoy's shape: the applied snapshot under Listeners/Clusters/Routes(/Endpoints)ConfigDump, each resource with its @type.

import { TypeUrl } from '../../xds/resource.js';
import type { TrellisProxy } from '../proxy.js';

const DUMP = 'type.googleapis.com/envoy.admin.v3.';

function typed<T extends object>(typeUrl: string, v: T): Record<string, unknown> {
  return { '@type': typeUrl, ...v };
}

export function configDump(proxy: TrellisProxy, opts: { includeEds: boolean; resource?: string; nameRegex?: RegExp }): Record<string, unknown> {
  const snap = proxy.snapshot;
  const version = String(proxy.version);
  const lastUpdated = proxy.lastApplied?.toISOString();
  const keep = (name: string | undefined) => !opts.nameRegex || opts.nameRegex.test(name ?? '');
  const configs: Array<Record<string, unknown>> = [
    {
      '@type': DUMP + 'BootstrapConfigDump',
      bootstrap: {
        node: { id: proxy.options.nodeId ?? '', cluster: proxy.options.serviceCluster ?? '', userAgentName: 'trellis' },
        dynamicResources: { adsConfig: { apiType: 'GRPC', transportApiVersion: 'V3' }, ldsConfig: { ads: {} }, cdsConfig: { ads: {} } },
      },
      lastUpdated: new Date(proxy.startedAt).toISOString(),
    },
    {
      '@type': DUMP + 'ClustersConfigDump',
      versionInfo: version,
      dynamicActiveClusters: (snap?.raw.clusters ?? []).filter((c) => keep(c.name)).map((c) => ({ versionInfo: version, cluster: typed(TypeUrl.Cluster, c), lastUpdated })),
    },
    {
      '@type': DUMP + 'ListenersConfigDump',
      versionInfo: version,
      dynamicListeners: (snap?.raw.listeners ?? []).filter((l) => keep(l.name)).map((l) => ({
        name: l.name,
        activeState: { versionInfo: version, listener: typed(TypeUrl.Listener, l), lastUpdated },
      })),
    },
    { '@type': DUMP + 'ScopedRoutesConfigDump' },
    {
      '@type': DUMP + 'RoutesConfigDump',
      dynamicRouteConfigs: (snap?.raw.routes ?? []).filter((r) => keep(r.name)).map((r) => ({ versionInfo: version, routeConfig: typed(TypeUrl.RouteConfiguration, r), lastUpdated })),
    },
    { '@type': DUMP + 'SecretsConfigDump' },
  ];
  if (opts.includeEds) {
    configs.push({
      '@type': DUMP + 'EndpointsConfigDump',
      dynamicEndpointConfigs: (snap?.raw.endpoints ?? []).filter((e) => keep(e.clusterName)).map((e) => ({ versionInfo: version, endpointConfig: typed(TypeUrl.ClusterLoadAssignment, e), lastUpdated })),
    });
  }
  if (opts.resource) {
    // ?resource=dynamic_active_clusters etc.: the matching list, flattened, as Envoy does
    const key = opts.resource.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    const out: unknown[] = [];
    for (const c of configs) {
      const v = c[key];
      if (Array.isArray(v)) out.push(...v);
    }
    return { configs: out };
  }
  return { configs };
}
