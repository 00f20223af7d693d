// The running pods' containers and their last output lines, for the console's Logs tab (its MeshSource reads them).

import type { PodLogSource } from '../console/mesh/yaml-mesh-source.js';
import type { PodInfo } from '../console/sources.js';
import type { LocalMesh } from './local-mesh.js';
import { podProcess } from './supervisor.js';

/** The sidecar's container name, as Kubernetes shows it. */
const PROXY_CONTAINER = 'istio-proxy';

export function podLogSource(mesh: Pick<LocalMesh, 'podPlans' | 'supervisor'>): PodLogSource {
  const find = (namespace: string, pod: string) => mesh.podPlans().find((p) => p.namespace === namespace && p.name === pod);
  return {
    pods: () =>
      mesh.podPlans().map((p): PodInfo => ({
        namespace: p.namespace,
        name: p.name,
        ...(p.owner ? { workload: p.owner } : {}),
        containers: [...p.containers.map((c) => c.name), ...(p.meshed ? [PROXY_CONTAINER] : [])],
      })),
    tail: (namespace, pod, container, lines) => {
      const plan = find(namespace, pod);
      if (!plan || !(container === PROXY_CONTAINER ? plan.meshed : plan.containers.some((c) => c.name === container))) return undefined;
      return mesh.supervisor.tail(podProcess(namespace, pod, container), lines) ?? [];
    },
  };
}
