// Telemetry inside a proxy: reads what the control plane put on each HTTP connection manager (the `istio.stats` and
// `trellis.tracing` filters, `accessLog`) from every applied snapshot, and acts on finished requests — metric
// overrides, access log lines, spans — keyed by the connection manager's stat prefix that each record carries.

import type { EnvoySnapshot } from '../xds/envoy/index.js';
import { registerHttpFilter } from '../proxy/http/filter-registry.js';
import type { HttpRequestRecord, ProxyObserver } from '../proxy/records.js';
import { compileJson, compileText, sinkFor } from './access-log.js';
import { compileExpression, type Attributes, type Compiled } from './expression.js';
import { METRIC_NAMES } from './metric-names.js';
import type { MetricOverride } from './telemetry-api.js';
import { injectContext, startSpan, SpanExporter } from './tracing.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export interface StatsPolicy {
  disabled: Set<string>;
  tags: Array<{ name: string; remove: boolean; value?: Compiled }>;
}

interface TracingConfig {
  sampling: number;
  collectors: Array<{ kind: 'zipkin' | 'otlp'; url: string }>;
  customTags: Record<string, { literal?: { value?: string }; header?: { name?: string; defaultValue?: string }; environment?: { name?: string; defaultValue?: string } }>;
  spanKind: 'CLIENT' | 'SERVER';
}

interface HcmTelemetry {
  stats?: StatsPolicy;
  logs: Array<{ format: (r: HttpRequestRecord) => string; filter?: Compiled; write: (line: string) => void }>;
  tracing?: TracingConfig;
}

let registered = false;

/** The proxy-side filters: `istio.stats` only carries config; `trellis.tracing` starts or continues the trace. */
export function registerTelemetryFilters(): void {
  if (registered) return;
  registered = true;
  registerHttpFilter<unknown, unknown>({
    names: ['istio.stats'],
    configTypes: [],
    parseConfig: (v) => v,
    create: (_c, name) => ({ name, decodeHeaders: () => 0 }),
  });
  registerHttpFilter<TracingConfig, unknown>({
    names: ['trellis.tracing'],
    configTypes: [],
    parseConfig: (v) => ({ sampling: 1, collectors: [], customTags: {}, spanKind: 'CLIENT', ...((v as Json | undefined)?.value as Partial<TracingConfig>) }),
    create: (config, name) => ({
      name,
      decodeHeaders(stream) {
        // The forwarded headers carry this hop's span; the app (and the next sidecar) continue from it.
        injectContext(stream.headers as Json, startSpan(stream.headers as Json, config.sampling));
        return 0;
      },
    }),
  });
}

/** Attributes for Telemetry expressions, from a finished request. */
export function attributesOf(r: HttpRequestRecord): Attributes {
  return (name, key) => {
    switch (name) {
      case 'response.code':
        return r.responseCode;
      case 'response.flags':
        return r.responseFlags;
      case 'response.grpc_status':
        return r.grpcStatus;
      case 'request.method':
        return r.method;
      case 'request.host':
        return r.authority;
      case 'request.url_path':
      case 'request.path':
        return r.path.split('?')[0];
      case 'request.protocol':
        return r.protocol;
      case 'request.headers': {
        const v = r.requestHeaders[key ?? ''];
        return Array.isArray(v) ? v[0] : v;
      }
      case 'response.headers': {
        const v = r.responseHeaders?.[key ?? ''];
        return Array.isArray(v) ? v[0] : v;
      }
      case 'response.total_size':
        return r.bytesSent;
      case 'request.total_size':
        return r.bytesReceived;
      default:
        return undefined;
    }
  };
}

export class ProxyTelemetry implements ProxyObserver {
  private byPrefix = new Map<string, HcmTelemetry>();
  readonly exporter = new SpanExporter();

  constructor(private readonly o: { nodeId: string; serviceName: string; log?: (line: string) => void }) {
    registerTelemetryFilters();
  }

  /** Read the telemetry settings of every connection manager in a snapshot (after it was applied). */
  configure(snapshot: EnvoySnapshot): void {
    const next = new Map<string, HcmTelemetry>();
    for (const l of (snapshot.listeners ?? []) as Json[]) {
      const chains = [...(l.filterChains ?? []), ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])] as Json[];
      for (const chain of chains) {
        for (const f of (chain.filters ?? []) as Json[]) {
          const tc = f.typedConfig as Json | undefined;
          if (tc?.['@type'] !== HCM) continue;
          try {
            next.set(tc.statPrefix ?? '', this.compile(tc));
          } catch (err) {
            this.o.log?.(`telemetry: ${(err as Error).message}; that listener keeps default telemetry`);
          }
        }
      }
    }
    this.byPrefix = next;
  }

  private compile(hcm: Json): HcmTelemetry {
    const out: HcmTelemetry = { logs: [] };
    for (const f of (hcm.httpFilters ?? []) as Json[]) {
      if (f.name === 'istio.stats') {
        const overrides = ((f.typedConfig?.value?.overrides ?? []) as MetricOverride[]);
        const disabled = new Set<string>();
        const tags: StatsPolicy['tags'] = [];
        for (const o of overrides) {
          const metrics = o.metric === 'ALL_METRICS' ? Object.values(METRIC_NAMES) : [METRIC_NAMES[o.metric] ?? o.metric];
          if (o.disabled) for (const m of metrics) disabled.add(m);
          for (const [name, t] of Object.entries(o.tagOverrides ?? {})) {
            tags.push({ name, remove: t.operation === 'REMOVE', value: t.operation === 'REMOVE' || !t.value ? undefined : compileExpression(t.value) });
          }
        }
        out.stats = { disabled, tags };
      }
      if (f.name === 'trellis.tracing') out.tracing = { sampling: 1, collectors: [], customTags: {}, spanKind: 'CLIENT', ...(f.typedConfig?.value as Partial<TracingConfig>) };
    }
    for (const a of (hcm.accessLog ?? []) as Json[]) {
      const cfg = a.typedConfig as Json;
      const lf = cfg.logFormat as Json | undefined;
      const format = lf?.jsonFormat ? compileJson(lf.jsonFormat) : compileText(lf?.textFormatSource?.inlineString ?? lf?.textFormat ?? '');
      const expr = a.filter?.extensionFilter?.typedConfig?.expression as string | undefined;
      out.logs.push({ format, filter: expr ? compileExpression(expr) : undefined, write: sinkFor(cfg.path ?? '/dev/stdout') });
    }
    return out;
  }

  /** Metric overrides for the collector. */
  statsPolicy(statPrefix: string): StatsPolicy | undefined {
    return this.byPrefix.get(statPrefix)?.stats;
  }

  onHttpRequest(r: HttpRequestRecord): void {
    const t = this.byPrefix.get(r.statPrefix);
    if (!t) return;
    if (t.logs.length) {
      const attrs = attributesOf(r);
      for (const log of t.logs) {
        if (log.filter && !log.filter(attrs)) continue;
        log.write(log.format(r));
      }
    }
    if (t.tracing?.collectors.length) {
      const h = r.forwardedHeaders;
      if (h['x-b3-sampled'] !== '1') return;
      const tags: Record<string, string> = {
        'http.method': r.method,
        'http.url': `http://${r.authority}${r.path}`,
        'http.status_code': String(r.responseCode),
        'http.protocol': r.protocol,
        upstream_cluster: r.upstreamCluster,
        'upstream_cluster.name': r.upstreamCluster,
        node_id: this.o.nodeId,
        component: 'proxy',
        response_flags: r.responseFlags || '-',
        'guid:x-request-id': r.requestId,
        'istio.canonical_service': this.o.serviceName.split('.')[0]!,
      };
      if (r.responseCode >= 500 || r.responseCode === 0) tags.error = 'true';
      for (const [name, ct] of Object.entries(t.tracing.customTags ?? {})) {
        if (ct.literal) tags[name] = ct.literal.value ?? '';
        else if (ct.header) tags[name] = String(r.requestHeaders[(ct.header.name ?? '').toLowerCase()] ?? ct.header.defaultValue ?? '');
        else if (ct.environment) tags[name] = process.env[ct.environment.name ?? ''] ?? ct.environment.defaultValue ?? '';
      }
      const span = {
        traceId: String(h['x-b3-traceid']),
        id: String(h['x-b3-spanid']),
        parentId: h['x-b3-parentspanid'] ? String(h['x-b3-parentspanid']) : undefined,
        name: `${r.authority.replace(/:\d+$/, '')}:${r.authority.match(/:(\d+)$/)?.[1] ?? '80'}/*`,
        kind: t.tracing.spanKind,
        timestamp: r.startTime * 1000,
        duration: Math.max(1, Math.round(r.duration * 1000)),
        serviceName: this.o.serviceName,
        tags,
      };
      for (const c of t.tracing.collectors) this.exporter.export(c, span);
    }
  }
}
