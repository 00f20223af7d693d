// API routes that read the mesh: namespaces, apps, workloads, services (with health), Istio config, proxies, control plane.

import { configForApp, configForService, configForWorkload } from '../mesh/applies.js';
import { DEFAULT_MESH_SETTINGS } from '../mesh/mesh-settings.js';
import { fetchHealth, type Health, type HealthMap } from '../metrics/health.js';
import { GATEWAY_API_GROUP } from '../../config/gateway-api.js';
import { statusOf } from '../mesh/gateway-api-status.js';
import type { ConfigObject, ConfigRef, GatewayApiStatusReport, MeshInventory, MeshSettings, ProxyStatus } from '../sources.js';
import { ApiError } from './errors.js';
import { durationParam } from './params.js';
import type { ApiRequest, ConsoleContext, Route } from './router.js';

/** Config objects in lists: without the object itself, which can be large. */
export function summary(c: ConfigObject): Omit<ConfigObject, 'object'> {
  const { object: _o, ...rest } = c;
  return rest;
}

function namespacesOf(inv: MeshInventory, req: ApiRequest): string[] {
  const only = req.query.get('namespace');
  if (only) return inv.namespaces.some((n) => n.name === only) ? [only] : [];
  return inv.namespaces.map((n) => n.name);
}

/** Health when Prometheus is there and answers; lists still work without it (health shows as unknown). */
async function healthFor(ctx: ConsoleContext, inv: MeshInventory, namespaces: string[], req: ApiRequest): Promise<{ health?: HealthMap; metricsError?: string }> {
  if (!ctx.metrics) return { metricsError: 'no Prometheus configured' };
  try {
    return { health: await fetchHealth(ctx.metrics, inv, namespaces, durationParam(req.query, 'duration', 60)) };
  } catch (err) {
    return { metricsError: (err as Error).message };
  }
}

const NO_HEALTH: Health = { status: 'NA', inbound: { total: 0, err4xx: 0, err5xx: 0, grpcErr: 0 }, outbound: { total: 0, err4xx: 0, err5xx: 0, grpcErr: 0 } };

/** Mesh settings need the control plane's API; without it, Istio's defaults are assumed (root namespace etc.). */
async function settings(ctx: ConsoleContext): Promise<MeshSettings> {
  if (!ctx.istioApiEnabled) return DEFAULT_MESH_SETTINGS;
  return (await ctx.mesh.controlPlane()).mesh;
}

async function proxiesOf(ctx: ConsoleContext, match: (p: ProxyStatus) => boolean): Promise<ProxyStatus[] | { unavailable: string }> {
  if (!ctx.istioApiEnabled) return { unavailable: 'istio_api_enabled is false: proxy status comes from the control plane' };
  try {
    return (await ctx.mesh.proxies()).filter(match);
  } catch (err) {
    return { unavailable: `the control plane did not answer: ${(err as Error).message}` };
  }
}

/**
 * Gateway API objects with the status a control plane computes for them, and where it came from (none asked for when
 * there is no Gateway API object). Without the Istio API the control plane is not asked: the files' status is shown.
 */
async function withGatewayApiStatus(ctx: ConsoleContext, objects: ConfigObject[]): Promise<{ objects: ConfigObject[]; statusSource?: Omit<GatewayApiStatusReport, 'items'> }> {
  if (!objects.some((c) => c.group === GATEWAY_API_GROUP)) return { objects };
  const { items, ...statusSource } = await ctx.mesh.gatewayApiStatus(ctx.istioApiEnabled);
  return {
    objects: objects.map((c) => {
      const status = c.group === GATEWAY_API_GROUP ? statusOf(items, c) : undefined;
      return status ? { ...c, gatewayApiStatus: status } : c;
    }),
    statusSource,
  };
}

export function configRefFrom(req: ApiRequest): ConfigRef {
  return { namespace: req.params.ns!, group: req.params.group!, kind: req.params.kind!, name: req.params.name! };
}

export const meshRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/namespaces',
    handler: async (_req, ctx) => (await ctx.mesh.inventory()).namespaces,
  },
  {
    method: 'GET',
    pattern: '/api/apps',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const nss = namespacesOf(inv, req);
      const { health, metricsError } = await healthFor(ctx, inv, nss, req);
      const items = inv.apps.filter((a) => nss.includes(a.namespace)).map((a) => {
        const cfg = configForApp(inv, a.namespace, a.name, DEFAULT_MESH_SETTINGS);
        return { ...a, health: health?.apps.get(`${a.namespace}/${a.name}`) ?? NO_HEALTH, istioConfig: cfg.map((c) => ({ kind: c.kind, group: c.group, namespace: c.namespace, name: c.name, status: c.status })) };
      });
      return { items, ...(metricsError ? { metricsError } : {}) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/workloads',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const nss = namespacesOf(inv, req);
      const { health, metricsError } = await healthFor(ctx, inv, nss, req);
      const items = inv.workloads.filter((w) => nss.includes(w.namespace)).map((w) => ({ ...w, health: health?.workloads.get(`${w.namespace}/${w.name}`) ?? NO_HEALTH }));
      return { items, ...(metricsError ? { metricsError } : {}) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/services',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const nss = namespacesOf(inv, req);
      const { health, metricsError } = await healthFor(ctx, inv, nss, req);
      const items = inv.services.filter((s) => nss.includes(s.namespace)).map((s) => {
        const cfg = configForService(inv, s.namespace, s.name, DEFAULT_MESH_SETTINGS);
        return { ...s, health: health?.services.get(`${s.namespace}/${s.name}`) ?? NO_HEALTH, istioConfig: cfg.map((c) => ({ kind: c.kind, group: c.group, namespace: c.namespace, name: c.name, status: c.status })) };
      });
      return { items, ...(metricsError ? { metricsError } : {}) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/apps/:name',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const { ns, name } = req.params as { ns: string; name: string };
      const app = inv.apps.find((a) => a.namespace === ns && a.name === name);
      if (!app) throw new ApiError('NOT_FOUND', `no app ${ns}/${name}`);
      const [{ health, metricsError }, s] = await Promise.all([healthFor(ctx, inv, [ns], req), settings(ctx)]);
      return {
        app,
        health: health?.apps.get(`${ns}/${name}`) ?? NO_HEALTH,
        workloads: inv.workloads.filter((w) => w.namespace === ns && w.app === name).map((w) => ({ ...w, health: health?.workloads.get(`${ns}/${w.name}`) ?? NO_HEALTH })),
        services: inv.services.filter((x) => x.namespace === ns && app.services.includes(x.name)),
        istioConfig: configForApp(inv, ns, name, s).map(summary),
        proxies: await proxiesOf(ctx, (p) => p.namespace === ns && app.workloads.includes(p.workload ?? '')),
        ...(metricsError ? { metricsError } : {}),
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/workloads/:name',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const { ns, name } = req.params as { ns: string; name: string };
      const workload = inv.workloads.find((w) => w.namespace === ns && w.name === name);
      if (!workload) throw new ApiError('NOT_FOUND', `no workload ${ns}/${name}`);
      const [{ health, metricsError }, s] = await Promise.all([healthFor(ctx, inv, [ns], req), settings(ctx)]);
      return {
        workload,
        health: health?.workloads.get(`${ns}/${name}`) ?? NO_HEALTH,
        services: inv.services.filter((x) => x.namespace === ns && workload.services.includes(x.name)),
        istioConfig: configForWorkload(inv, workload, s).map(summary),
        proxies: await proxiesOf(ctx, (p) => p.namespace === ns && p.workload === name),
        ...(metricsError ? { metricsError } : {}),
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/services/:name',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const { ns, name } = req.params as { ns: string; name: string };
      const service = inv.services.find((x) => x.namespace === ns && x.name === name);
      if (!service) throw new ApiError('NOT_FOUND', `no service ${ns}/${name}`);
      const [{ health, metricsError }, s] = await Promise.all([healthFor(ctx, inv, [ns], req), settings(ctx)]);
      return {
        service,
        health: health?.services.get(`${ns}/${name}`) ?? NO_HEALTH,
        workloads: inv.workloads.filter((w) => w.namespace === ns && service.workloads.includes(w.name)).map((w) => ({ ...w, health: health?.workloads.get(`${ns}/${w.name}`) ?? NO_HEALTH })),
        istioConfig: configForService(inv, ns, name, s).map(summary),
        ...(metricsError ? { metricsError } : {}),
      };
    },
  },
  {
    method: 'GET',
    pattern: '/api/istio/config',
    handler: async (req, ctx) => {
      const inv = await ctx.mesh.inventory();
      const nss = new Set(namespacesOf(inv, req));
      const { objects, statusSource } = await withGatewayApiStatus(ctx, inv.config.filter((c) => nss.has(c.namespace) || c.namespace === ''));
      return { items: objects.map(summary), otherValidations: inv.otherValidations, ...(statusSource ? { statusSource } : {}) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/istio/:group/:kind/:name',
    handler: async (req, ctx) => {
      const ref = configRefFrom(req);
      const inv = await ctx.mesh.inventory();
      const found = inv.config.find((c) => c.kind === ref.kind && c.group === ref.group && c.namespace === ref.namespace && c.name === ref.name);
      if (!found) throw new ApiError('NOT_FOUND', `no ${ref.kind} ${ref.namespace}/${ref.name}`);
      const [{ objects, statusSource }, text] = await Promise.all([withGatewayApiStatus(ctx, [found]), ctx.mesh.configText(ref)]);
      return { object: objects[0]!, ...(statusSource ? { statusSource } : {}), ...(text ? { yaml: text.yaml, firstLine: text.firstLine, file: text.file } : {}) };
    },
  },
  {
    method: 'GET',
    pattern: '/api/proxies',
    istioApi: true,
    handler: async (_req, ctx) => ({ items: await ctx.mesh.proxies() }),
  },
  {
    method: 'GET',
    pattern: '/api/controlplane',
    istioApi: true,
    handler: async (_req, ctx) => {
      const [info, proxies] = await Promise.all([ctx.mesh.controlPlane(), ctx.mesh.proxies().catch(() => [] as ProxyStatus[])]);
      return { ...info, proxies };
    },
  },
];
