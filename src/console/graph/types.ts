// The graph the console draws, in Kiali's shape: nodes and edges with their traffic, health and security.

export type GraphType = 'app' | 'versionedApp' | 'workload' | 'service';
export const GRAPH_TYPES: readonly GraphType[] = ['versionedApp', 'app', 'workload', 'service'];

export type NodeType = 'app' | 'service' | 'workload' | 'unknown';
export type Protocol = 'http' | 'grpc' | 'tcp';
export type HealthStatus = 'Healthy' | 'Degraded' | 'Failure' | 'NA';

/** Request rates by class, in requests per second. */
export interface RequestRates {
  total: number;
  /** 4xx responses (http), or non-zero gRPC statuses counted as client side (none: gRPC has no such split). */
  err4xx: number;
  /** 5xx responses, and requests that got no response at all (code 0 / `-`). */
  err5xx: number;
  /** gRPC calls whose status is not OK (0). */
  grpcErr: number;
}

export interface NodeTraffic {
  httpIn: RequestRates;
  httpOut: RequestRates;
  /** TCP bytes per second. */
  tcpIn: number;
  tcpOut: number;
}

export interface GraphNodeData {
  id: string;
  nodeType: NodeType;
  namespace: string;
  workload?: string;
  app?: string;
  version?: string;
  service?: string;
  isGateway?: boolean;
  /** Served by the node proxy (ztunnel) in ambient mode rather than a sidecar (Kiali's ambient badge). */
  isAmbient?: boolean;
  /** An ambient waypoint proxy (an `istio-waypoint` Gateway's workload), drawn as its own node as Kiali does. */
  isWaypoint?: boolean;
  /** The node proxy (ztunnel) that carries the ambient workloads' traffic: infrastructure, drawn without edges. */
  isZtunnel?: boolean;
  /** Only sends traffic (Kiali's traffic source / root node). */
  isRoot?: boolean;
  /** In a namespace that was not asked for. */
  isOutside?: boolean;
  /** Services reached through this node (`destination_service_name`s). */
  destServices?: string[];
  traffic: NodeTraffic;
  health: HealthStatus;
  /** The error ratio (%) that decided the health, for the side panel. */
  healthReason?: string;
}

export interface GraphEdgeData {
  id: string;
  source: string;
  target: string;
  protocol: Protocol;
  /** Requests per second (http/grpc). */
  rps: number;
  /** Percentage of requests that failed (4xx + 5xx, or gRPC non-OK). */
  errorRate: number;
  err4xx: number;
  err5xx: number;
  /** TCP bytes per second. */
  tcpBps: number;
  /** Response time (p95 by default) in milliseconds, when known. */
  responseTimeMs?: number;
  /** Percentage of the traffic that was mutual TLS (undefined when none was). */
  isMTLS?: number;
  sourcePrincipal?: string;
  destPrincipal?: string;
  /** Rates per response code and response flags: `{ "200": { "-": 1.2 }, "503": { "UH": 0.1 } }`. */
  responses: Record<string, Record<string, number>>;
  /** `destination_service` values seen on this edge. */
  hosts: string[];
  health: HealthStatus;
}

export interface Graph {
  timestamp: number;
  /** Seconds of traffic the rates are averaged over. */
  duration: number;
  graphType: GraphType;
  namespaces: string[];
  elements: { nodes: Array<{ data: GraphNodeData }>; edges: Array<{ data: GraphEdgeData }> };
}
