// API routes that change the mesh (apply, replace, annotate) and the session routes (status, login, logout).

import { VERSION } from '../../version.js';
import { trafficRoutingFor } from '../mesh/applies.js';
import type { ConfigRef, WriteResult } from '../sources.js';
import { ApiError } from './errors.js';
import { configRefFrom, summary } from './mesh-routes.js';
import { boolParam, parseJson } from './params.js';
import { raw, type ApiRequest, type RawResponse, type Route } from './router.js';

/** A refused write becomes a 4xx with the validations (lines refer to the submitted text). */
function result(r: WriteResult): unknown {
  if (r.ok) return r;
  throw new ApiError(r.code, r.message, { validations: r.validations });
}

/** YAML is sent as is (application/yaml) or wrapped in JSON (`{"yaml": "..."}`). */
async function yamlBody(req: ApiRequest): Promise<string> {
  const text = await req.body();
  const type = (req.raw.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json')) return text;
  const body = parseJson<{ yaml?: unknown }>(text);
  if (typeof body.yaml !== 'string') throw new ApiError('BAD_REQUEST', 'expected {"yaml": "<text>"}');
  return body.yaml;
}

export const writeRoutes: Route[] = [
  {
    // `?dryRun=true` validates as the write would and writes nothing (the editor's findings as the user types).
    method: 'POST',
    pattern: '/api/istio/config',
    write: true,
    istioApi: true,
    handler: async (req, ctx) => {
      const namespace = req.query.get('namespace') ?? undefined;
      return result(await ctx.mesh.apply(await yamlBody(req), { ...(namespace ? { namespace } : {}), dryRun: boolParam(req.query, 'dryRun', false) }));
    },
  },
  {
    method: 'PUT',
    pattern: '/api/namespaces/:ns/istio/:group/:kind/:name',
    write: true,
    istioApi: true,
    handler: async (req, ctx) => {
      const ref = configRefFrom(req);
      return result(await ctx.mesh.apply(await yamlBody(req), { namespace: ref.namespace, replace: ref, dryRun: boolParam(req.query, 'dryRun', false) }));
    },
  },
  {
    method: 'DELETE',
    pattern: '/api/namespaces/:ns/istio/:group/:kind/:name',
    write: true,
    istioApi: true,
    handler: async (req, ctx) => result(await ctx.mesh.delete([configRefFrom(req)])),
  },
  {
    // Kiali's "Delete Traffic Routing": the service's VirtualServices, DestinationRules and wizard-made Gateway at
    // once. `?dryRun=true` lists them and deletes nothing (the confirmation shows what goes).
    method: 'DELETE',
    pattern: '/api/namespaces/:ns/services/:name/routing',
    write: true,
    istioApi: true,
    handler: async (req, ctx) => {
      const { ns, name } = req.params as { ns: string; name: string };
      const inv = await ctx.mesh.inventory();
      if (!inv.services.some((s) => s.namespace === ns && s.name === name)) throw new ApiError('NOT_FOUND', `no service ${ns}/${name}`);
      const objects = trafficRoutingFor(inv, ns, name);
      if (boolParam(req.query, 'dryRun', false)) return { ok: true, objects: objects.map(summary) };
      if (objects.length === 0) return { ok: true, applied: [], validations: [] };
      return result(await ctx.mesh.delete(objects.map(({ kind, group, namespace, name: n }): ConfigRef => ({ kind, group, namespace, name: n }))));
    },
  },
  {
    method: 'PATCH',
    pattern: '/api/namespaces/:ns/workloads/:name/annotations',
    write: true,
    istioApi: true,
    handler: async (req, ctx) => {
      const body = parseJson<{ annotations?: unknown }>(await req.body());
      const a = body.annotations;
      if (!a || typeof a !== 'object' || Array.isArray(a)) throw new ApiError('BAD_REQUEST', 'expected {"annotations": {"key": "value" | null}}');
      return result(await ctx.mesh.annotateWorkload(req.params.ns!, req.params.name!, a as Record<string, string | null>));
    },
  },
];

export const sessionRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/api/status',
    public: true,
    handler: async (req, ctx) => ({
      version: VERSION,
      viewOnlyMode: ctx.viewOnlyMode,
      istioApiEnabled: ctx.istioApiEnabled,
      metricsEnabled: !!ctx.metrics,
      authRequired: ctx.auth.required,
      authenticated: !ctx.auth.required || !!ctx.auth.identify(req.raw),
    }),
  },
  {
    method: 'POST',
    pattern: '/api/authenticate',
    public: true,
    handler: async (req, ctx): Promise<RawResponse> => {
      const type = (req.raw.headers['content-type'] ?? '').toLowerCase();
      if (!type.startsWith('application/json')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
      const body = parseJson<{ token?: unknown }>(await req.body());
      if (typeof body.token !== 'string' || !ctx.auth.tokenMatches(body.token)) throw new ApiError('UNAUTHORIZED', 'wrong token');
      return raw(200, { authenticated: true }, { 'set-cookie': ctx.auth.sessionCookie(ctx.auth.newSession()) });
    },
  },
  {
    method: 'POST',
    pattern: '/api/logout',
    public: true,
    handler: async (req, ctx): Promise<RawResponse> => {
      ctx.auth.endSession(req.raw);
      return raw(200, { authenticated: false }, { 'set-cookie': ctx.auth.clearCookie() });
    },
  },
];
