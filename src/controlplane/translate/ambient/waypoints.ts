// Ambient mode's waypoints as one push context sees them: the Gateways of the `istio-waypoint` class, the proxy
// deployed for each (the registry's workload labelled with the Gateway's name), and which waypoint a service or
// workload uses (`istio.io/use-waypoint` on it or its namespace, as far as the waypoint's `istio.io/waypoint-for`
// takes that kind of traffic). Built once per push context.

import { waypointFor, waypointReference, type WaypointFor } from '../../../config/ambient.js';
import { GATEWAY_API_GROUP } from '../../../config/gateway-api.js';
import { meshTopologyOf } from '../../../config/mesh-topology.js';
import { GATEWAY_NAME_LABEL, type K8sGateway } from '../../../config/types/gateway-api.js';
import type { MeshService, Workload } from '../../registry/service-registry.js';
import { gatewayClasses } from '../gateway-api/gateway-classes.js';
import type { PushContext } from '../push-context.js';

export interface Waypoint {
  namespace: string;
  name: string;
  waypointFor: WaypointFor;
  /** Its proxy, once the runtime deployed it; until then traffic that must cross it has nowhere to go. */
  workload: Workload | undefined;
}

export class WaypointIndex {
  private readonly waypoints = new Map<string, Waypoint>();
  private readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;

  constructor(private readonly push: PushContext) {
    this.namespaceLabels = meshTopologyOf(push.resources).namespaces;
    const classes = gatewayClasses(push.resources);
    const proxies = push.registry.workloads().filter((w) => w.labels[GATEWAY_NAME_LABEL]);
    for (const r of push.resources) {
      if (r.group !== GATEWAY_API_GROUP || r.kind !== 'Gateway') continue;
      const gw = r as K8sGateway;
      if (classes.get(gw.spec.gatewayClassName ?? '')?.role !== 'waypoint') continue;
      const { namespace, name } = gw.metadata;
      this.waypoints.set(`${namespace}/${name}`, { namespace, name, waypointFor: waypointFor(gw.metadata.labels), workload: proxies.find((w) => w.namespace === namespace && w.labels[GATEWAY_NAME_LABEL] === name) });
    }
  }

  /** Every waypoint Gateway. */
  all(): Waypoint[] {
    return [...this.waypoints.values()];
  }

  /** The waypoint whose proxy this workload is. */
  ofProxy(w: { namespace: string; labels: Record<string, string> }): Waypoint | undefined {
    const name = w.labels[GATEWAY_NAME_LABEL];
    return name ? this.waypoints.get(`${w.namespace}/${name}`) : undefined;
  }

  private named(ref: { namespace: string; name: string } | undefined, kind: 'service' | 'workload'): Waypoint | undefined {
    const wp = ref && this.waypoints.get(`${ref.namespace}/${ref.name}`);
    return wp && (wp.waypointFor === kind || wp.waypointFor === 'all') ? wp : undefined;
  }

  /** The waypoint traffic addressed to a service goes through (Kubernetes services only). */
  forService(svc: MeshService): Waypoint | undefined {
    if (svc.origin !== 'Kubernetes') return undefined;
    return this.named(waypointReference(svc.resource?.metadata.labels ?? {}, svc.namespace, this.namespaceLabels.get(svc.namespace) ?? {}), 'service');
  }

  /** The waypoint traffic addressed to a workload itself goes through (a waypoint for `workload` or `all`). */
  forWorkload(w: Workload): Waypoint | undefined {
    if (this.ofProxy(w)) return undefined; // a waypoint never sends its own traffic through a waypoint
    return this.named(waypointReference(w.labels, w.namespace, this.namespaceLabels.get(w.namespace) ?? {}), 'workload');
  }

  /** The services a waypoint serves: those whose traffic goes through it. */
  servicesOf(wp: Waypoint): MeshService[] {
    return this.push.services.filter((s) => this.forService(s) === wp);
  }
}

/** The push context's waypoint index, built on first use. */
export function waypointsOf(push: PushContext): WaypointIndex {
  return push.remember('ambient-waypoints', () => new WaypointIndex(push));
}
