// Mesh networks whose endpoints come from a service registry that the mesh does not have (IST0126): registries are the
// local cluster (Istio's default cluster ID, Kubernetes) and the clusters of remote secrets (istio/multiCluster).

import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';
import { isRecord } from './util.js';

/** Istio's cluster ID when none is configured. */
const LOCAL_REGISTRY = 'Kubernetes';

export const meshNetworksAnalyzer: Analyzer = {
  name: 'meshnetworks.MeshNetworksAnalyzer',
  description: 'Checks that the service registries of the mesh networks exist',
  analyze(ctx) {
    const { networks, source } = ctx.index.meshNetworks;
    if (!source) return;
    const registries = new Set([LOCAL_REGISTRY]);
    for (const secret of ctx.index.list('', 'Secret')) {
      if (secret.metadata.labels['istio/multiCluster'] !== 'true') continue;
      for (const field of ['data', 'stringData']) {
        const data = secret.raw[field];
        if (isRecord(data)) for (const cluster of Object.keys(data)) registries.add(cluster);
      }
    }
    const base = source.pointer;
    for (const network of networks) {
      network.endpoints.forEach((e, i) => {
        if (!e.fromRegistry || registries.has(e.fromRegistry)) return;
        ctx.report(Messages.UnknownMeshNetworksServiceRegistry, source.resource, `${base}/networks/${network.name}/endpoints/${i}/fromRegistry`, `Unknown service registry ${e.fromRegistry} in network ${network.name}`);
      });
    }
  },
};
