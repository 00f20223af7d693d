// API routes built from Prometheus: the traffic graph, the overview, and the detail pages' charts.

import { waypointReference } from '../../config/ambient.js';
import { ISTIO_WAYPOINT_CLASS } from '../../config/types/gateway-api.js';
import type { GraphOptions } from '../graph/build.js';
import { fetchGraph } from '../graph/fetch.js';
import { promString } from '../graph/queries.js';
import { namespaceMtls } from '../mesh/applies.js';
import { DEFAULT_MESH_SETTINGS } from '../mesh/mesh-settings.js';
import { fetchDashboard, type TargetKind } from '../metrics/dashboard.js';
import { fetchHealth } from '../metrics/health.js';
import type { MeshInventory, MetricsSource } from '../sources.js';
import { ApiError } from './errors.js';
import { boolParam, durationParam, graphTypeParam, listParam } from './params.js';
import type { ConsoleContext, Route } from './router.js';

function metricsOf(ctx: ConsoleContext): MetricsSource {
  if (!ctx.metrics) throw new ApiError('METRICS_UNAVAILABLE');
  return ctx.metrics;
}

function gatewayLookup(inv: MeshInventory): (ns: string, workload: string, app: string) => boolean {
  const gws = new Set(inv.workloads.filter((w) => w.isGateway).map((w) => `${w.namespace}/${w.name}`));
  return (ns, workload, app) => gws.has(`${ns}/${workload}`) || /^istio-(ingress|egress)gateway$/.test(workload) || /^istio-(ingress|egress)gateway$/.test(app);
}

/** Workloads in ambient mode (a node of any graph type carries the workload of its traffic). */
function ambientLookup(inv: MeshInventory): (ns: string, workload: string) => boolean {
  const ambient = new Set(inv.workloads.filter((w) => w.dataplaneMode === 'ambient').map((w) => `${w.namespace}/${w.name}`));
  return (ns, workload) => ambient.has(`${ns}/${workload}`);
}

/** Kiali's ambient nodes: waypoints (the workloads of `istio-waypoint` Gateways), which service uses which, the node proxy. */
function ambientGraphOptions(inv: MeshInventory, namespaces: string[]): Pick<GraphOptions, 'isWaypoint' | 'waypointOf' | 'nodeProxy'> {
  const waypoints = new Set(
    inv.config
      .filter((c) => c.kind === 'Gateway' && c.group === 'gateway.networking.k8s.io' && (c.object.spec as { gatewayClassName?: unknown } | undefined)?.gatewayClassName === ISTIO_WAYPOINT_CLASS)
      .map((c) => `${c.namespace}/${c.name}`),
  );
  const nsLabels = new Map(inv.namespaces.map((n) => [n.name, n.labels]));
  const services = new Map(inv.services.map((s) => [`${s.namespace}/${s.name}`, s.labels]));
  // One node proxy per node; `trellis up` has one node, its ztunnel in the control plane's namespace.
  const plane = inv.namespaces.find((n) => n.ambient && namespaces.includes(n.name))?.controlPlaneNamespace;
  return {
    isWaypoint: (ns, workload) => waypoints.has(`${ns}/${workload}`),
    waypointOf: (ns, service) => {
      const ref = waypointReference(services.get(`${ns}/${service}`) ?? {}, ns, nsLabels.get(ns) ?? {});
      return ref && waypoints.has(`${ref.namespace}/${ref.name}`) ? { namespace: ref.namespace, workload: ref.name } : undefined;
    },
    ...(plane ? { nodeProxy: { namespace: plane, workload: 'ztunnel' } } : {}),
  };
}

const TARGETS: Record<string, TargetKind> = { apps: 'app', workloads: 'workload', services: 'service' };

export const metricsRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/namespaces/graph',
    metrics: true,
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const namespaces = listParam(req.query, 'namespaces');
      if (namespaces.length === 0) throw new ApiError('BAD_REQUEST', 'namespaces: name at least one namespace');
      return fetchGraph(metricsOf(ctx), {
        graphType: graphTypeParam(req.query),
        namespaces,
        duration: durationParam(req.query, 'duration', 60),
        injectServiceNodes: boolParam(req.query, 'injectServiceNodes', true),
        isGateway: gatewayLookup(inv),
        isAmbient: ambientLookup(inv),
        ...ambientGraphOptions(inv, namespaces),
      });
    },
  },
  {
    method: 'GET',
    pattern: '/api/overview',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const duration = durationParam(req.query, 'duration', 60);
      const settings = ctx.istioApiEnabled ? (await ctx.mesh.controlPlane()).mesh : DEFAULT_MESH_SETTINGS;
      const names = inv.namespaces.map((n) => n.name);
      let metricsError: string | undefined;
      let health: Awaited<ReturnType<typeof fetchHealth>> | undefined;
      const traffic = new Map<string, { rps: number; mtlsRps: number }>();
      const series = new Map<string, Array<[number, number]>>();
      if (ctx.metrics && names.length) {
        const m = ctx.metrics;
        const ns = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
        const end = Math.floor(Date.now() / 1000);
        const step = Math.max(1, Math.floor(duration / 30));
        try {
          const [h, byPolicy, range] = await Promise.all([
            fetchHealth(m, inv, names, duration),
            m.query(`sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace=~${promString(ns)}}[${duration}s])) by (destination_workload_namespace,connection_security_policy)`),
            m.queryRange(`sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace=~${promString(ns)}}[${Math.max(step * 4, 10)}s])) by (destination_workload_namespace)`, end - duration, end, step),
          ]);
          health = h;
          for (const s of byPolicy) {
            const key = s.metric.destination_workload_namespace ?? '';
            const t = traffic.get(key) ?? { rps: 0, mtlsRps: 0 };
            if (s.value > 0) {
              t.rps += s.value;
              if (s.metric.connection_security_policy === 'mutual_tls') t.mtlsRps += s.value;
            }
            traffic.set(key, t);
          }
          for (const r of range) series.set(r.metric.destination_workload_namespace ?? '', r.values);
        } catch (err) {
          metricsError = (err as Error).message;
        }
      } else if (!ctx.metrics) metricsError = 'no Prometheus configured';
      const items = inv.namespaces.map((n) => {
        const apps = inv.apps.filter((a) => a.namespace === n.name);
        const counts = { Healthy: 0, Degraded: 0, Failure: 0, NA: 0 };
        for (const a of apps) counts[health?.apps.get(`${n.name}/${a.name}`)?.status ?? 'NA']++;
        const t = traffic.get(n.name);
        return {
          namespace: n,
          apps: apps.length,
          workloads: inv.workloads.filter((w) => w.namespace === n.name).length,
          services: inv.services.filter((s) => s.namespace === n.name).length,
          configErrors: inv.config.filter((c) => c.namespace === n.name && c.status === 'Error').length,
          configWarnings: inv.config.filter((c) => c.namespace === n.name && c.status === 'Warning').length,
          health: counts,
          mtls: namespaceMtls(inv, n.name, settings),
          inboundRps: t?.rps ?? 0,
          // The share of inbound requests that actually were mutual TLS, as the destination proxies reported it.
          mtlsTrafficPercent: t && t.rps > 0 ? (t.mtlsRps / t.rps) * 100 : undefined,
          trafficSeries: series.get(n.name) ?? [],
        };
      });
      return { duration, items, ...(metricsError ? { metricsError } : {}) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/:kind/:name/metrics',
    metrics: true,
    handler: async (req, ctx) => {
      const kind = TARGETS[req.params.kind!];
      if (!kind) throw new ApiError('NOT_FOUND', `no metrics for "${req.params.kind}"`);
      const direction = req.query.get('direction') ?? 'inbound';
      if (direction !== 'inbound' && direction !== 'outbound') throw new ApiError('BAD_REQUEST', 'direction: inbound or outbound');
      if (kind === 'service' && direction === 'outbound') throw new ApiError('BAD_REQUEST', 'services only have inbound metrics');
      return fetchDashboard(metricsOf(ctx), { kind, namespace: req.params.ns!, name: req.params.name! }, direction, durationParam(req.query, 'duration', 600));
    },
  },
];
