// Istio's workload discovery (WDS) from one push context: every workload of the registry as an
// `istio.workload.Workload` (its addresses, identity, whether it takes HBONE, the services it backs and their ports,
// the selector-based policies that apply to it, its waypoint) and every Kubernetes service with an address as an
// `istio.workload.Service` (its VIPs, ports, waypoint). What ztunnels and waypoints look traffic up in.

import type { MeshService, Workload } from '../../registry/service-registry.js';
import { ipBytes, type Address, type GatewayAddress, type PortList, type Service, type Workload as WdsWorkload } from '../../../xds/istio/workload.js';
import { workloadMetadata, workloadOfPod } from '../../../telemetry/workload-metadata.js';
import { PORTS } from '../../../ports.js';
import { namespacedHostname, workloadUid } from '../names.js';
import type { PushContext } from '../push-context.js';
import { selectorPolicyKeys } from './l4-authorization.js';
import { waypointsOf, type Waypoint } from './waypoints.js';

/** Where a waypoint takes HBONE: its proxy's address, or (not deployed yet) its service's name, which no one resolves. */
function waypointAddress(wp: Waypoint, domain: string): GatewayAddress {
  if (wp.workload) return { address: { network: '', address: ipBytes(wp.workload.address) }, hboneMtlsPort: PORTS.hbone };
  return { hostname: { namespace: wp.namespace, hostname: `${wp.name}.${wp.namespace}.svc.${domain}` }, hboneMtlsPort: PORTS.hbone };
}

/** A service port's target on one workload: a number, or the workload's container port of that name. */
function targetPort(w: Workload, target: number | string): number | undefined {
  return typeof target === 'number' ? target : w.ports[target];
}

export function wdsWorkload(push: PushContext, w: Workload): WdsWorkload {
  const services: Record<string, PortList> = {};
  for (const svc of push.registry.servicesOf(w)) {
    const ports = svc.ports.map((p) => ({ servicePort: p.port, targetPort: targetPort(w, p.targetPort) ?? 0 })).filter((p) => p.targetPort > 0);
    if (ports.length) services[namespacedHostname(svc.namespace, svc.hostname)] = { ports };
  }
  const workloadName = w.workloadName ?? workloadOfPod(w.name);
  const meta = workloadMetadata({ workload: workloadName, namespace: w.namespace, labels: w.labels, serviceAccount: w.serviceAccount });
  const waypoint = waypointsOf(push).forWorkload(w);
  const policies = selectorPolicyKeys(push, w);
  return {
    uid: workloadUid(w),
    name: w.name,
    namespace: w.namespace,
    addresses: (w.addresses ?? [w.address]).filter(Boolean).map(ipBytes),
    network: '',
    // Ambient pods take HBONE through their node proxy; HBONE-capable sidecars and waypoints on their own 15008.
    tunnelProtocol: w.ambient || w.hbone ? 'HBONE' : 'NONE',
    trustDomain: push.mesh.trustDomain,
    serviceAccount: w.serviceAccount,
    ...(waypoint && w.ambient ? { waypoint: waypointAddress(waypoint, push.cluster.domain) } : {}),
    ...(w.node ? { node: w.node } : {}),
    canonicalName: meta.canonicalService,
    canonicalRevision: meta.canonicalRevision,
    workloadType: w.origin === 'WorkloadEntry' ? 'POD' : 'DEPLOYMENT',
    workloadName,
    services,
    ...(policies.length ? { authorizationPolicies: policies } : {}),
    status: w.healthy ? 'HEALTHY' : 'UNHEALTHY',
    clusterId: 'Kubernetes',
  };
}

export function wdsService(push: PushContext, svc: MeshService): Service {
  const waypoint = waypointsOf(push).forService(svc);
  return {
    name: svc.name,
    namespace: svc.namespace,
    hostname: svc.hostname,
    addresses: svc.addresses.map((a) => ({ network: '', address: ipBytes(a) })),
    // A named target port is resolved per workload (its `services` map); the service's own entry says 0, as Istio's.
    ports: svc.ports.map((p) => ({ servicePort: p.port, targetPort: typeof p.targetPort === 'number' ? p.targetPort : 0 })),
    ...(waypoint ? { waypoint: waypointAddress(waypoint, push.cluster.domain) } : {}),
  };
}

/** Every workload with an address and every Kubernetes service with a VIP, as WDS Addresses. */
export function wdsAddresses(push: PushContext): Address[] {
  const out: Address[] = [];
  for (const w of push.registry.workloads()) if (w.address) out.push({ workload: wdsWorkload(push, w) });
  for (const svc of push.services) if (svc.origin === 'Kubernetes' && svc.addresses.length) out.push({ service: wdsService(push, svc) });
  return out;
}
