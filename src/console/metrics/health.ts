// Request health of apps, workloads and services from two Prometheus queries per set of namespaces.

import { addRates, classify, emptyRates, KIALI_DEFAULT_HEALTH, ratesHealth, worst, type HealthConfig } from '../graph/health.js';
import { isOK } from '../graph/ids.js';
import type { HealthStatus, RequestRates } from '../graph/types.js';
import { promString } from '../graph/queries.js';
import type { MeshInventory, MetricsSource, Sample } from '../sources.js';

export interface Health {
  status: HealthStatus;
  reason?: string;
  inbound: RequestRates;
  outbound: RequestRates;
}

export interface NamespaceHealth {
  apps: Record<string, Health>;
  workloads: Record<string, Health>;
  services: Record<string, Health>;
}

/** Keyed `namespace/name`. */
export type HealthMap = Record<'apps' | 'workloads' | 'services', Map<string, Health>>;

function nsMatcher(namespaces: string[]): string {
  return namespaces.length === 1 ? `=${promString(namespaces[0]!)}` : `=~${promString(namespaces.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))}`;
}

/**
 * Inbound is what the destination proxies report (it sees every caller, sidecar or not); outbound is what the
 * source proxies report (it sees requests that never got an answer). Kiali's health uses both directions for
 * apps and workloads, and inbound for services.
 */
export function healthQueries(namespaces: string[], durationSeconds: number): { inbound: string; outbound: string } {
  const d = `${Math.max(1, Math.round(durationSeconds))}s`;
  const ns = nsMatcher(namespaces);
  return {
    inbound: `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace${ns}}[${d}])) by (destination_workload_namespace,destination_workload,destination_app,destination_service_namespace,destination_service_name,request_protocol,response_code,grpc_response_status)`,
    outbound: `sum(rate(istio_requests_total{reporter="source",source_workload_namespace${ns}}[${d}])) by (source_workload_namespace,source_workload,source_app,request_protocol,response_code,grpc_response_status)`,
  };
}

function add(map: Map<string, { in: RequestRates; out: RequestRates }>, key: string, dir: 'in' | 'out', r: RequestRates): void {
  let e = map.get(key);
  if (!e) map.set(key, (e = { in: emptyRates(), out: emptyRates() }));
  addRates(e[dir], r);
}

function toHealth(e: { in: RequestRates; out: RequestRates } | undefined, useOutbound: boolean, config: HealthConfig): Health {
  const inbound = e?.in ?? emptyRates();
  const outbound = e?.out ?? emptyRates();
  const i = ratesHealth(inbound, config);
  const o = useOutbound ? ratesHealth(outbound, config) : { status: 'NA' as HealthStatus };
  const status = worst(i.status, o.status);
  const h: Health = { status, inbound, outbound };
  const reason = status === i.status ? i.reason && `inbound ${i.reason}` : 'reason' in o && o.reason ? `outbound ${o.reason}` : undefined;
  if (reason) h.reason = reason;
  return h;
}

/** Health of everything in `inventory` (restricted to `namespaces`), from the two vectors. */
export function computeHealth(inventory: MeshInventory, namespaces: string[], inbound: Sample[], outbound: Sample[], config: HealthConfig = KIALI_DEFAULT_HEALTH): HealthMap {
  const wl = new Map<string, { in: RequestRates; out: RequestRates }>();
  const app = new Map<string, { in: RequestRates; out: RequestRates }>();
  const svc = new Map<string, { in: RequestRates; out: RequestRates }>();
  for (const s of inbound) {
    if (!(s.value > 0)) continue;
    const m = s.metric;
    const r = classify(s.value, m.request_protocol ?? 'http', m.response_code ?? '', m.grpc_response_status);
    const ns = m.destination_workload_namespace ?? '';
    if (isOK(m.destination_workload)) add(wl, `${ns}/${m.destination_workload}`, 'in', r);
    if (isOK(m.destination_app)) add(app, `${ns}/${m.destination_app}`, 'in', r);
    if (isOK(m.destination_service_name)) add(svc, `${isOK(m.destination_service_namespace) ? m.destination_service_namespace : ns}/${m.destination_service_name}`, 'in', r);
  }
  for (const s of outbound) {
    if (!(s.value > 0)) continue;
    const m = s.metric;
    const r = classify(s.value, m.request_protocol ?? 'http', m.response_code ?? '', m.grpc_response_status);
    const ns = m.source_workload_namespace ?? '';
    if (isOK(m.source_workload)) add(wl, `${ns}/${m.source_workload}`, 'out', r);
    if (isOK(m.source_app)) add(app, `${ns}/${m.source_app}`, 'out', r);
  }
  const wanted = new Set(namespaces);
  const out: HealthMap = { apps: new Map(), workloads: new Map(), services: new Map() };
  for (const w of inventory.workloads) if (wanted.has(w.namespace)) out.workloads.set(`${w.namespace}/${w.name}`, toHealth(wl.get(`${w.namespace}/${w.name}`), true, config));
  for (const a of inventory.apps) if (wanted.has(a.namespace)) out.apps.set(`${a.namespace}/${a.name}`, toHealth(app.get(`${a.namespace}/${a.name}`), true, config));
  for (const s of inventory.services) if (wanted.has(s.namespace)) out.services.set(`${s.namespace}/${s.name}`, toHealth(svc.get(`${s.namespace}/${s.name}`), false, config));
  return out;
}

export async function fetchHealth(metrics: MetricsSource, inventory: MeshInventory, namespaces: string[], durationSeconds: number): Promise<HealthMap> {
  if (namespaces.length === 0) return { apps: new Map(), workloads: new Map(), services: new Map() };
  const q = healthQueries(namespaces, durationSeconds);
  const [inbound, outbound] = await Promise.all([metrics.query(q.inbound), metrics.query(q.outbound)]);
  return computeHealth(inventory, namespaces, inbound, outbound);
}
