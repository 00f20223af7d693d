// One typed function per console API endpoint; failures become ApiFailure with the server's stable code.

import type { AppDetail, AppItem, ConfigDetail, ConfigList, ConfigRef, ConfigSummary, ConfigTable, ControlPlane, Dashboard, Graph, GraphType, ListReply, LogLine, NamespaceInfo, Overview, PodInfo, ProxyStatus, ServiceDetail, ServiceItem, Status, Validation, WorkloadDetail, WorkloadItem, WriteOk } from './types';

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly validations: Validation[] = []) {
    super(message);
  }
}

/**
 * Where the API is and how to reach it: the console's own origin by default; a host (the OpenShift console, whose
 * proxy forwards `/api/proxy/plugin/<plugin>/<alias>/…`) sets a prefix and its own fetch (with its CSRF token).
 */
const transport: { base: string; fetch: (input: string, init: RequestInit) => Promise<Response> } = { base: '', fetch: (i, init) => fetch(i, init) };

export function configureApi(options: { base?: string; fetch?: (input: string, init: RequestInit) => Promise<Response> }): void {
  if (options.base !== undefined) transport.base = options.base.replace(/\/+$/, '');
  if (options.fetch) transport.fetch = options.fetch;
}

async function request<T>(method: string, path: string, body?: { json?: unknown; yaml?: string }): Promise<T> {
  const headers: Record<string, string> = {};
  let payload: string | undefined;
  if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body?.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    payload = body.yaml;
  }
  const res = await transport.fetch(transport.base + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}), credentials: 'same-origin' });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string; validations?: Validation[] } } | undefined)?.error;
    throw new ApiFailure(res.status, e?.code ?? 'HTTP_' + res.status, e?.message ?? res.statusText, e?.validations ?? []);
  }
  return data as T;
}

const q = (params: Record<string, string | number | boolean | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : '';
};
const seg = encodeURIComponent;

export const api = {
  status: () => request<Status>('GET', '/api/status'),
  login: (token: string) => request<{ authenticated: boolean }>('POST', '/api/authenticate', { json: { token } }),
  logout: () => request<{ authenticated: boolean }>('POST', '/api/logout', { json: {} }),
  namespaces: () => request<NamespaceInfo[]>('GET', '/api/namespaces'),
  overview: (duration: number) => request<Overview>('GET', `/api/overview${q({ duration })}`),
  graph: (p: { namespaces: string[]; graphType: GraphType; duration: number; injectServiceNodes: boolean }) =>
    request<Graph>('GET', `/api/namespaces/graph${q({ namespaces: p.namespaces.join(','), graphType: p.graphType, duration: p.duration, injectServiceNodes: p.injectServiceNodes })}`),
  apps: (namespace?: string, duration?: number) => request<ListReply<AppItem>>('GET', `/api/apps${q({ namespace, duration })}`),
  workloads: (namespace?: string, duration?: number) => request<ListReply<WorkloadItem>>('GET', `/api/workloads${q({ namespace, duration })}`),
  services: (namespace?: string, duration?: number) => request<ListReply<ServiceItem>>('GET', `/api/services${q({ namespace, duration })}`),
  app: (ns: string, name: string, duration?: number) => request<AppDetail>('GET', `/api/namespaces/${seg(ns)}/apps/${seg(name)}${q({ duration })}`),
  workload: (ns: string, name: string, duration?: number) => request<WorkloadDetail>('GET', `/api/namespaces/${seg(ns)}/workloads/${seg(name)}${q({ duration })}`),
  service: (ns: string, name: string, duration?: number) => request<ServiceDetail>('GET', `/api/namespaces/${seg(ns)}/services/${seg(name)}${q({ duration })}`),
  metrics: (kind: 'apps' | 'workloads' | 'services', ns: string, name: string, direction: 'inbound' | 'outbound', duration: number) =>
    request<Dashboard>('GET', `/api/namespaces/${seg(ns)}/${kind}/${seg(name)}/metrics${q({ direction, duration })}`),
  istioConfig: (namespace?: string) => request<ConfigList>('GET', `/api/istio/config${q({ namespace })}`),
  configDetail: (r: ConfigRef) => request<ConfigDetail>('GET', configPath(r)),
  replaceConfig: (r: ConfigRef, yaml: string, dryRun?: boolean) => request<WriteOk>('PUT', `${configPath(r)}${q({ dryRun })}`, { yaml }),
  applyConfig: (yaml: string, namespace?: string, dryRun?: boolean) => request<WriteOk>('POST', `/api/istio/config${q({ namespace, dryRun })}`, { yaml }),
  deleteConfig: (r: ConfigRef) => request<WriteOk>('DELETE', configPath(r), { json: {} }),
  trafficRouting: (ns: string, service: string) => request<{ objects: ConfigSummary[] }>('DELETE', `/api/namespaces/${seg(ns)}/services/${seg(service)}/routing?dryRun=true`, { json: {} }),
  deleteTrafficRouting: (ns: string, service: string) => request<WriteOk>('DELETE', `/api/namespaces/${seg(ns)}/services/${seg(service)}/routing`, { json: {} }),
  pods: (ns: string, workload?: string) => request<{ items: PodInfo[] }>('GET', `/api/namespaces/${seg(ns)}/pods${q({ workload })}`),
  podLogs: (ns: string, pod: string, container: string, tailLines: number) => request<{ lines: LogLine[] }>('GET', `/api/namespaces/${seg(ns)}/pods/${seg(pod)}/logs${q({ container, tailLines })}`),
  envoyConfig: (ns: string, pod: string, resource: 'clusters' | 'listeners' | 'routes') => request<ConfigTable>('GET', `/api/namespaces/${seg(ns)}/pods/${seg(pod)}/config_dump/${resource}`),
  annotate: (ns: string, name: string, annotations: Record<string, string | null>) => request<WriteOk>('PATCH', `/api/namespaces/${seg(ns)}/workloads/${seg(name)}/annotations`, { json: { annotations } }),
  proxies: () => request<{ items: ProxyStatus[] }>('GET', '/api/proxies'),
  controlPlane: () => request<ControlPlane>('GET', '/api/controlplane'),
};

export function configPath(r: ConfigRef): string {
  return `/api/namespaces/${seg(r.namespace)}/istio/${seg(r.group)}/${seg(r.kind)}/${seg(r.name)}`;
}
