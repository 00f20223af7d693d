// The Telemetry API (telemetry.istio.io) and the mesh config's extension providers: the effective metrics, access
// logging and tracing settings of one workload with Istio's precedence (mesh → namespace → workload), and their
// translation into the proxy's configuration (HTTP filters and access logs on each connection manager).

import type { ExtensionProvider, MeshConfig } from '../config/mesh-config.js';
import type { TelemetrySpec } from '../config/types/telemetry.js';
import { STRUCT_TYPE, TYPE, typed, typedStruct, type AccessLog, type TypedExtension } from '../xds/envoy/index.js';

/** A telemetry provider: an entry of the mesh config's extensionProviders (or one of Istio's built-in ones). */
export type Provider = ExtensionProvider;

export interface MeshTelemetry {
  extensionProviders: Provider[];
  defaultProviders: MeshConfig['defaultProviders'];
  /** The mesh config's `accessLogFile` as a provider: every proxy logs there unless a Telemetry says otherwise. */
  meshAccessLog?: Provider;
}

/** Istio's built-in providers: `prometheus` and `envoy` (the default access log on the proxy's stdout). */
const BUILT_IN: Provider[] = [{ name: 'prometheus', prometheus: {} }, { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } }];

/** Istio's JSON access log format (`accessLogEncoding: JSON` without an `accessLogFormat`). */
const ISTIO_JSON_FORMAT: Record<string, string> = {
  authority: '%REQ(:AUTHORITY)%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  duration: '%DURATION%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  request_id: '%REQ(X-REQUEST-ID)%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  response_code: '%RESPONSE_CODE%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  response_flags: '%RESPONSE_FLAGS%',
  route_name: '%ROUTE_NAME%',
  start_time: '%START_TIME%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  user_agent: '%REQ(USER-AGENT)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
};

/** The telemetry side of the mesh config: providers (the mesh's, then Istio's built-in ones), defaults, accessLogFile. */
export function meshTelemetry(mesh: MeshConfig): MeshTelemetry {
  const names = new Set(mesh.extensionProviders.map((p) => p.name));
  const out: MeshTelemetry = { extensionProviders: [...mesh.extensionProviders, ...BUILT_IN.filter((p) => !names.has(p.name))], defaultProviders: mesh.defaultProviders };
  if (mesh.accessLogFile) {
    const logFormat = mesh.accessLogEncoding === 'JSON' ? { labels: ISTIO_JSON_FORMAT } : mesh.accessLogFormat ? { text: mesh.accessLogFormat } : undefined;
    out.meshAccessLog = { name: 'mesh-access-log-file', envoyFileAccessLog: { path: mesh.accessLogFile, ...(logFormat ? { logFormat } : {}) } };
  }
  return out;
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

/**
 * The telemetry of one workload from the Telemetry specs that apply to it, broadest scope first (mesh-wide, then its
 * namespace's, then those selecting it: PolicyIndex.telemetriesFor).
 */
export function effectiveTelemetry(specs: readonly TelemetrySpec[], mesh: MeshTelemetry): EffectiveTelemetry {
  const provider = (name: string | undefined) => mesh.extensionProviders.find((p) => p.name === name);
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
  const defaultLog = [...(mesh.defaultProviders.accessLogging ?? []).map(provider).filter((p): p is Provider => !!p), ...(mesh.meshAccessLog ? [mesh.meshAccessLog] : [])];
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

/** Istio's default access log format (text). */
export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Where a provider's collector is: `service` may be a host name the proxy resolves, or an address. */
export function collectorUrl(p: Provider): { kind: 'zipkin' | 'otlp'; url: string } | undefined {
  if (p.zipkin) return { kind: 'zipkin', url: `http://${p.zipkin.service ?? 'zipkin.istio-system'}:${p.zipkin.port ?? 9411}/api/v2/spans` };
  if (p.opentelemetry) return { kind: 'otlp', url: `http://${p.opentelemetry.service ?? 'opentelemetry-collector.istio-system'}:${p.opentelemetry.port ?? 4318}${p.opentelemetry.http?.path ?? '/v1/traces'}` };
  return undefined;
}

/** What telemetry adds to one HTTP connection manager: filters at the head and before the router, access logs. */
export interface HcmTelemetry {
  head: TypedExtension[];
  beforeRouter: TypedExtension[];
  accessLog: AccessLog[];
}

export const NO_TELEMETRY: HcmTelemetry = Object.freeze({ head: [], beforeRouter: [], accessLog: [] });

/** The connection manager additions for one side (CLIENT for outbound and gateways, SERVER for inbound). */
export function telemetryForHcm(t: EffectiveTelemetry, mode: 'CLIENT' | 'SERVER'): HcmTelemetry {
  if (!t.metricOverrides.length && !t.accessLogging.length && !t.tracing) return NO_TELEMETRY;
  const head: TypedExtension[] = [];
  const beforeRouter: TypedExtension[] = [];
  const overrides = t.metricOverrides.filter((o) => o.mode === 'CLIENT_AND_SERVER' || o.mode === mode);
  if (overrides.length) beforeRouter.push({ name: 'istio.stats', typedConfig: typedStruct(STRUCT_TYPE.statsPlugin, { overrides }) });
  if (t.tracing) {
    const collectors = t.tracing.providers.map(collectorUrl).filter((c): c is NonNullable<typeof c> => !!c);
    head.push({ name: 'trellis.tracing', typedConfig: typedStruct(STRUCT_TYPE.tracing, { sampling: t.tracing.sampling, collectors, customTags: t.tracing.customTags, spanKind: mode === 'SERVER' ? 'SERVER' : 'CLIENT' }) });
  }
  const accessLog = t.accessLogging.map(({ provider, filter }): AccessLog => {
    const f = provider.envoyFileAccessLog!;
    const logFormat = f.logFormat?.labels ? { jsonFormat: f.logFormat.labels } : { textFormatSource: { inlineString: f.logFormat?.text ? (f.logFormat.text.endsWith('\n') ? f.logFormat.text : f.logFormat.text + '\n') : ENVOY_DEFAULT_FORMAT } };
    return {
      name: 'envoy.access_loggers.file',
      typedConfig: typed(TYPE.fileAccessLog, { path: f.path ?? '/dev/stdout', logFormat }),
      ...(filter ? { filter: { extensionFilter: { name: 'envoy.access_loggers.extension_filters.cel', typedConfig: typed(TYPE.celFilter, { expression: filter }) } } } : {}),
    };
  });
  return { head, beforeRouter, accessLog };
}
