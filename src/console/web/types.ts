// Shapes of the console API's answers, as the pages use them (the server's own types where they exist).

export type { Graph, GraphEdgeData, GraphNodeData, GraphType, HealthStatus, RequestRates } from '../graph/types.js';
export type { AppInfo, ConfigObject, ConfigRef, ControlPlaneInfo, ControlPlaneSummary, LogLine, NamespaceInfo, ObjectStatus, PodInfo, ProxyStatus, ServiceInfo, Validation, WorkloadInfo } from '../sources.js';
export type { GatewayStatus, RouteStatus, StatusCondition } from '../../controlplane/translate/gateway-api/status.js';
export type { ConfigTable } from '../../cli/format/proxy-config.js';
import type { HealthStatus, RequestRates } from '../graph/types.js';
import type { AppInfo, ConfigObject, ConfigRef, ControlPlaneInfo, GatewayApiStatusReport, NamespaceInfo, ProxyStatus, ServiceInfo, Validation, WorkloadInfo } from '../sources.js';

export interface Status {
  version: string;
  viewOnlyMode: boolean;
  istioApiEnabled: boolean;
  metricsEnabled: boolean;
  authRequired: boolean;
  authenticated: boolean;
}

export interface Health {
  status: HealthStatus;
  reason?: string;
  inbound: RequestRates;
  outbound: RequestRates;
}

export type ConfigSummary = Omit<ConfigObject, 'object'>;

/** Where the Gateway API status of a list or detail answer comes from. */
export type ListReplyStatusSource = Omit<GatewayApiStatusReport, 'items'>;

export interface ConfigList {
  items: ConfigSummary[];
  statusSource?: ListReplyStatusSource;
}
export type ConfigBadge = ConfigRef & { status: ConfigObject['status'] };

export interface ListReply<T> {
  items: T[];
  metricsError?: string;
}

export type AppItem = AppInfo & { health: Health; istioConfig: ConfigBadge[] };
export type WorkloadItem = WorkloadInfo & { health: Health };
export type ServiceItem = ServiceInfo & { health: Health; istioConfig: ConfigBadge[] };

export type Proxies = ProxyStatus[] | { unavailable: string };

export interface AppDetail {
  app: AppInfo;
  health: Health;
  workloads: WorkloadItem[];
  services: ServiceInfo[];
  istioConfig: ConfigSummary[];
  proxies: Proxies;
  metricsError?: string;
}

export interface WorkloadDetail {
  workload: WorkloadInfo;
  health: Health;
  services: ServiceInfo[];
  istioConfig: ConfigSummary[];
  proxies: Proxies;
  metricsError?: string;
}

export interface ServiceDetail {
  service: ServiceInfo;
  health: Health;
  workloads: WorkloadItem[];
  istioConfig: ConfigSummary[];
  metricsError?: string;
}

export interface ConfigDetail {
  object: ConfigObject;
  statusSource?: ListReplyStatusSource;
  yaml?: string;
  firstLine?: number;
  file?: string;
}

export interface OverviewItem {
  namespace: NamespaceInfo;
  apps: number;
  workloads: number;
  services: number;
  configErrors: number;
  configWarnings: number;
  health: Record<HealthStatus, number>;
  mtls: { status: 'enabled' | 'permissive' | 'disabled' | 'auto'; source: string };
  inboundRps: number;
  mtlsTrafficPercent?: number;
  trafficSeries: Array<[number, number]>;
}

export interface Overview {
  duration: number;
  items: OverviewItem[];
  metricsError?: string;
}

export interface MetricSeries {
  name: string;
  unit: 'rps' | 'ms' | 'Bps' | 'ratio';
  points: Array<[number, number]>;
}

export interface Dashboard {
  direction: 'inbound' | 'outbound';
  start: number;
  end: number;
  step: number;
  series: MetricSeries[];
}

export type ControlPlane = ControlPlaneInfo & { proxies: ProxyStatus[] };

export interface WriteOk {
  ok: true;
  applied: Array<ConfigRef & { file: string; created: boolean; deleted?: boolean }>;
  validations: Validation[];
}
