// API routes of a pod, as Kiali's: its containers' logs (Logs tab) and its proxy's config (Envoy tab: clusters,
// listeners, routes in istioctl's columns, or the whole config dump).

import { clusterRows, listenerRows, routeRows, type ConfigTable } from '../../cli/format/proxy-config.js';
import { ApiError } from './errors.js';
import type { ConsoleContext, Route } from './router.js';

const MAX_TAIL = 5000;

const TABLES: Record<string, (dump: Record<string, unknown>) => ConfigTable> = {
  clusters: (d) => clusterRows(d),
  listeners: (d) => listenerRows(d),
  routes: (d) => routeRows(d),
};

async function dumpOf(ctx: ConsoleContext, ns: string, pod: string): Promise<Record<string, unknown>> {
  let dump: Record<string, unknown> | undefined;
  try {
    dump = await ctx.mesh.proxyConfigDump(ns, pod);
  } catch (err) {
    throw new ApiError('CONTROL_PLANE_ERROR', (err as Error).message);
  }
  if (!dump) throw new ApiError('NOT_FOUND', `no proxy of pod ${ns}/${pod} is connected to the control plane`);
  return dump;
}

export const podRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/pods',
    handler: async (req, ctx) => {
      const workload = req.query.get('workload');
      const pods = (await ctx.mesh.pods()).filter((p) => p.namespace === req.params.ns && (!workload || p.workload === workload));
      return { items: pods };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/pods/:pod/logs',
    handler: async (req, ctx) => {
      const { ns, pod } = req.params as { ns: string; pod: string };
      const container = req.query.get('container');
      if (!container) throw new ApiError('BAD_REQUEST', 'container: name the container (istio-proxy for the sidecar)');
      const tail = Number(req.query.get('tailLines') ?? '100');
      if (!Number.isInteger(tail) || tail < 1) throw new ApiError('BAD_REQUEST', `tailLines: a whole number above 0, got "${req.query.get('tailLines')}"`);
      const lines = await ctx.mesh.podLogs(ns, pod, container, Math.min(tail, MAX_TAIL));
      if (!lines) throw new ApiError('NOT_FOUND', `no container ${container} in pod ${ns}/${pod}`);
      return { namespace: ns, pod, container, lines };
    },
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/pods/:pod/config_dump',
    istioApi: true,
    handler: async (req, ctx) => dumpOf(ctx, req.params.ns!, req.params.pod!),
  },
  {
    method: 'GET',
    pattern: '/api/namespaces/:ns/pods/:pod/config_dump/:resource',
    istioApi: true,
    handler: async (req, ctx) => {
      const table = TABLES[req.params.resource!];
      if (!table) throw new ApiError('NOT_FOUND', `resource: one of ${Object.keys(TABLES).join(', ')}`);
      return table(await dumpOf(ctx, req.params.ns!, req.params.pod!));
    },
  },
];
