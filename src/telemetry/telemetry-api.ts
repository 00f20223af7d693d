// The Telemetry API (telemetry.istio.io) and the mesh config's extension providers: the effective metrics, access
// logging and tracing settings of one workload with Istio's precedence (mesh → namespace → workload), and their
// translation into the proxy's configuration (HTTP filters and access logs on each connection manager).

import YAML from 'yaml';
import type { Resource } from '../config/resource.js';

export interface Provider {
  name: string;
  prometheus?: Record<string, never>;
  envoyFileAccessLog?: { path?: string; logFormat?: { text?: string; labels?: Record<string, string> } };
  zipkin?: { service?: string; port?: number; maxTagLength?: number };
  opentelemetry?: { service?: string; port?: number; http?: { path?: string } };
}

export interface MeshTelemetry {
  extensionProviders: Provider[];
  defaultProviders: { metrics?: string[]; accessLogging?: string[]; tracing?: string[] };
}

/** Istio's built-in providers: `prometheus` and `envoy` (the default access log on the proxy's stdout). */
const BUILT_IN: Provider[] = [{ name: 'prometheus', prometheus: {} }, { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } }];

/** The mesh config as Istio keeps it: the `istio` ConfigMap in the root namespace, key `mesh` (YAML). */
export function meshTelemetry(resources: readonly Resource[], rootNamespace: string): MeshTelemetry {
  const cm = resources.find((r) => r.group === '' && r.kind === 'ConfigMap' && r.metadata.name === 'istio' && r.metadata.namespace === rootNamespace);
  const text = (cm?.raw.data as Record<string, string> | undefined)?.mesh;
  let mesh: Partial<MeshTelemetry> = {};
  if (text) {
    try {
      mesh = (YAML.parse(text) as Partial<MeshTelemetry>) ?? {};
    } catch {
      mesh = {};
    }
  }
  return { extensionProviders: [...(mesh.extensionProviders ?? []), ...BUILT_IN], defaultProviders: mesh.defaultProviders ?? { metrics: ['prometheus'] } };
}

type MetricMode = 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER';

export interface MetricOverride {
  /** Istio's metric enum (REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE, TCP_*, ALL_METRICS). */
  metric: string;
  mode: MetricMode;
  disabled?: boolean;
  tagOverrides?: Record<string, { operation?: 'UPSERT' | 'REMOVE'; value?: string }>;
}

export interface TracingSettings {
  providers: Provider[];
  /** 0–100. */
  sampling: number;
  customTags: Record<string, { literal?: { value?: string }; header?: { name?: string; defaultValue?: string }; environment?: { name?: string; defaultValue?: string } }>;
}

export interface EffectiveTelemetry {
  metricOverrides: MetricOverride[];
  metricsDisabled: boolean;
  accessLogging: Array<{ provider: Provider; filter?: string }>;
  tracing: TracingSettings | undefined;
}

interface TelemetrySpec {
  selector?: { matchLabels?: Record<string, string> };
  metrics?: Array<{ providers?: Array<{ name?: string }>; overrides?: Array<{ match?: { metric?: string; mode?: MetricMode; customMetric?: string }; disabled?: boolean; tagOverrides?: MetricOverride['tagOverrides'] }> }>;
  accessLogging?: Array<{ providers?: Array<{ name?: string }>; disabled?: boolean; filter?: { expression?: string }; match?: { mode?: MetricMode } }>;
  tracing?: Array<{ providers?: Array<{ name?: string }>; randomSamplingPercentage?: number; disableSpanReporting?: boolean; customTags?: TracingSettings['customTags'] }>;
}

/** Mesh-wide (root namespace, no selector), then the namespace's, then those selecting the workload. */
function applicable(telemetries: readonly Resource[], rootNamespace: string, namespace: string, labels: Record<string, string>): TelemetrySpec[] {
  const spec = (r: Resource) => r.spec as TelemetrySpec;
  const selects = (r: Resource) => {
    const sel = spec(r).selector?.matchLabels;
    return sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
  };
  const unselected = (r: Resource) => !spec(r).selector?.matchLabels || Object.keys(spec(r).selector!.matchLabels!).length === 0;
  const list = telemetries.filter((r) => r.group === 'telemetry.istio.io' && r.kind === 'Telemetry');
  return [
    ...list.filter((r) => r.metadata.namespace === rootNamespace && unselected(r)),
    ...(namespace !== rootNamespace ? list.filter((r) => r.metadata.namespace === namespace && unselected(r)) : []),
    ...list.filter((r) => r.metadata.namespace === namespace && selects(r)),
  ].map(spec);
}

export function effectiveTelemetry(resources: readonly Resource[], mesh: MeshTelemetry, rootNamespace: string, namespace: string, labels: Record<string, string>): EffectiveTelemetry {
  const provider = (name: string | undefined) => mesh.extensionProviders.find((p) => p.name === name);
  const specs = applicable(resources, rootNamespace, namespace, labels);
  const out: EffectiveTelemetry = { metricOverrides: [], metricsDisabled: false, accessLogging: [], tracing: undefined };
  // Metrics: overrides accumulate from the broadest to the narrowest scope; later ones win.
  for (const s of specs) {
    for (const m of s.metrics ?? []) {
      if (m.providers && !m.providers.some((p) => p.name === 'prometheus')) continue;
      for (const o of m.overrides ?? []) out.metricOverrides.push({ metric: o.match?.metric ?? 'ALL_METRICS', mode: o.match?.mode ?? 'CLIENT_AND_SERVER', disabled: o.disabled, tagOverrides: o.tagOverrides });
    }
  }
  // Access logging and tracing: the narrowest scope that configures them wins, as in Istio.
  let logging: TelemetrySpec['accessLogging'];
  for (const s of specs) if (s.accessLogging?.length) logging = s.accessLogging;
  const defaultLog = (mesh.defaultProviders.accessLogging ?? []).map(provider).filter((p): p is Provider => !!p);
  if (logging) {
    for (const l of logging) {
      if (l.disabled) continue;
      const providers = l.providers?.length ? l.providers.map((p) => provider(p.name)).filter((p): p is Provider => !!p) : defaultLog.length ? defaultLog : [provider('envoy')!];
      for (const p of providers) if (p.envoyFileAccessLog) out.accessLogging.push({ provider: p, filter: l.filter?.expression });
    }
  } else {
    for (const p of defaultLog) if (p.envoyFileAccessLog) out.accessLogging.push({ provider: p });
  }
  let tracing: TracingSettings | undefined;
  for (const s of specs) {
    for (const t of s.tracing ?? []) {
      const providers = t.providers?.length ? t.providers.map((p) => provider(p.name)).filter((p): p is Provider => !!p) : (mesh.defaultProviders.tracing ?? []).map(provider).filter((p): p is Provider => !!p);
      tracing = {
        providers: t.disableSpanReporting ? [] : providers.length ? providers : (tracing?.providers ?? []),
        sampling: t.randomSamplingPercentage ?? tracing?.sampling ?? 1,
        customTags: { ...tracing?.customTags, ...t.customTags },
      };
    }
  }
  if (!tracing && mesh.defaultProviders.tracing?.length) {
    tracing = { providers: mesh.defaultProviders.tracing.map(provider).filter((p): p is Provider => !!p), sampling: 1, customTags: {} };
  }
  out.tracing = tracing;
  return out;
}

// ------------------------------------------------------------------ to xDS

const TYPED_STRUCT = 'type.googleapis.com/udpa.type.v1.TypedStruct';
const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const CEL_FILTER = 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

/** Istio's default access log format (text). */
export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

type Json = Record<string, unknown>;

/** Where a provider's collector is: `service` may be a host name the proxy resolves, or an address. */
export function collectorUrl(p: Provider): { kind: 'zipkin' | 'otlp'; url: string } | undefined {
  if (p.zipkin) return { kind: 'zipkin', url: `http://${p.zipkin.service ?? 'zipkin.istio-system'}:${p.zipkin.port ?? 9411}/api/v2/spans` };
  if (p.opentelemetry) return { kind: 'otlp', url: `http://${p.opentelemetry.service ?? 'opentelemetry-collector.istio-system'}:${p.opentelemetry.port ?? 4318}${p.opentelemetry.http?.path ?? '/v1/traces'}` };
  return undefined;
}

/** The connection manager additions for one side (CLIENT for outbound and gateways, SERVER for inbound). */
export function telemetryForHcm(t: EffectiveTelemetry, mode: 'CLIENT' | 'SERVER'): { filters: { head: Json[]; beforeRouter: Json[] }; accessLog: Json[] } {
  const head: Json[] = [];
  const beforeRouter: Json[] = [];
  const overrides = t.metricOverrides.filter((o) => o.mode === 'CLIENT_AND_SERVER' || o.mode === mode);
  if (overrides.length) {
    beforeRouter.push({ name: 'istio.stats', typedConfig: { '@type': TYPED_STRUCT, typeUrl: 'type.googleapis.com/stats.PluginConfig', value: { overrides } } });
  }
  if (t.tracing) {
    const collectors = t.tracing.providers.map(collectorUrl).filter((c): c is NonNullable<typeof c> => !!c);
    head.push({ name: 'trellis.tracing', typedConfig: { '@type': TYPED_STRUCT, typeUrl: 'type.googleapis.com/trellis.telemetry.Tracing', value: { sampling: t.tracing.sampling, collectors, customTags: t.tracing.customTags, spanKind: mode === 'SERVER' ? 'SERVER' : 'CLIENT' } } });
  }
  const accessLog = t.accessLogging.map(({ provider, filter }) => {
    const f = provider.envoyFileAccessLog!;
    const logFormat = f.logFormat?.labels ? { jsonFormat: f.logFormat.labels } : { textFormatSource: { inlineString: f.logFormat?.text ? (f.logFormat.text.endsWith('\n') ? f.logFormat.text : f.logFormat.text + '\n') : ENVOY_DEFAULT_FORMAT } };
    return {
      name: 'envoy.access_loggers.file',
      typedConfig: { '@type': FILE_LOG, path: f.path ?? '/dev/stdout', logFormat },
      ...(filter ? { filter: { extensionFilter: { name: 'envoy.access_loggers.extension_filters.cel', typedConfig: { '@type': CEL_FILTER, expression: filter } } } } : {}),
    };
  });
  return { filters: { head, beforeRouter }, accessLog };
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Add telemetry to every HTTP connection manager of these listeners (returns new listener objects). */
export function withTelemetry(listeners: Json[], t: EffectiveTelemetry, modeOf: (l: Json) => 'CLIENT' | 'SERVER'): Json[] {
  if (!t.metricOverrides.length && !t.accessLogging.length && !t.tracing) return listeners;
  return listeners.map((l) => {
    const add = telemetryForHcm(t, modeOf(l));
    const patchChain = (chain: Json) => ({
      ...chain,
      filters: ((chain.filters as Json[] | undefined) ?? []).map((f) => {
        const tc = f.typedConfig as Json | undefined;
        if (tc?.['@type'] !== HCM) return f;
        const filters = [...((tc.httpFilters as Json[]) ?? [])];
        const router = filters.pop()!;
        return { ...f, typedConfig: { ...tc, httpFilters: [...add.filters.head, ...filters, ...add.filters.beforeRouter, router], ...(add.accessLog.length ? { accessLog: add.accessLog } : {}) } };
      }),
    });
    return {
      ...l,
      ...(l.filterChains ? { filterChains: (l.filterChains as Json[]).map(patchChain) } : {}),
      ...(l.defaultFilterChain ? { defaultFilterChain: patchChain(l.defaultFilterChain as Json) } : {}),
    };
  });
}
