// The egress gateway an Istio installation provides (`istio-egressgateway` in istio-system, labels istio: egressgateway):
// its Service, as the mesh routes to it, and its ports. In netns mode `trellis up --egress-gateway` runs it as a pod of
// its own, so Istio's egress task (Gateway + VirtualService through `istio-egressgateway.istio-system`) works unchanged.

import type { MeshService } from '../controlplane/registry/service-registry.js';

export const EGRESS_GATEWAY = {
  name: 'istio-egressgateway',
  pod: 'istio-egressgateway-local',
  namespace: 'istio-system',
  serviceAccount: 'istio-egressgateway-service-account',
  labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
  /** Istio's egress Service: port 80 (`http2`) → 8080 and 443 (`https`) → 8443 in the pod. */
  ports: [
    { name: 'http2', port: 80, targetPort: 8080, protocol: 'HTTP2' as const },
    { name: 'https', port: 443, targetPort: 8443, protocol: 'HTTPS' as const },
  ],
  /** Its planner-independent pod number on the pod network (past any planned pod). */
  podNumber: 4091,
} as const;

/** The `istio-egressgateway` Service with the ClusterIPs the runtime gave it. */
export function egressGatewayService(domain: string, addresses: string[]): MeshService {
  const g = EGRESS_GATEWAY;
  return {
    hostname: `${g.name}.${g.namespace}.svc.${domain}`,
    name: g.name,
    namespace: g.namespace,
    ports: g.ports.map((p) => ({ ...p })),
    selector: { ...g.labels },
    addresses,
    exportTo: ['*'],
    origin: 'Kubernetes',
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
  };
}

/** Gateway server port → the port the gateway binds in its pod (the Service's targetPort), GATEWAY_PORTS metadata. */
export function egressGatewayPorts(): Record<string, number> {
  return Object.fromEntries(EGRESS_GATEWAY.ports.flatMap((p) => [[String(p.port), p.targetPort], [String(p.targetPort), p.targetPort]]));
}
