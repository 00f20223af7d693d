// envoy.filters.http.fault: delays (DI) and aborts (FI, "fault filter abort"), by percentage, headers, or request headers.

import type { HttpFault, Any } from '../../../xds/envoy/index.js';
import { allOf, compileHeaderMatcher, type RequestPredicate } from '../../config/header-matcher.js';
import { fraction, sample } from '../../config/values.js';
import { protoDurationMs, badProtoDuration } from '../../../duration.js';
import { ConfigCode, LocalReply, type IssueSink } from '../../errors.js';
import { registerHttpFilter } from '../filter-registry.js';
import { FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../http-stream.js';
import { DISABLED } from '../../config/route-table.js';

export const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

export interface FaultConfig {
  /** Fixed delay in ms, or 'header' to read x-envoy-fault-delay-request. */
  delay: { ms: number | 'header'; fraction: number } | undefined;
  abort: { httpStatus: number | undefined; grpcStatus: number | undefined; header: boolean; fraction: number } | undefined;
  headers: RequestPredicate | undefined;
  upstreamCluster: string | undefined;
  downstreamNodes: ReadonlySet<string> | undefined;
  maxActiveFaults: number | undefined;
}

function parseFault(value: Any | undefined, sink: IssueSink, field: string): FaultConfig {
  const f = (value ?? {}) as HttpFault;
  let delay: FaultConfig['delay'];
  if (f.delay) {
    if (f.delay.headerDelay) delay = { ms: 'header', fraction: fraction(f.delay.percentage) };
    else {
      if (badProtoDuration(f.delay.fixedDelay)) sink.error(ConfigCode.InvalidField, field + '/delay/fixedDelay', 'not a duration');
      delay = { ms: protoDurationMs(f.delay.fixedDelay) ?? 0, fraction: fraction(f.delay.percentage) };
    }
  }
  let abort: FaultConfig['abort'];
  if (f.abort) {
    const s = f.abort.httpStatus;
    if (s !== undefined && (s < 200 || s >= 600)) sink.error(ConfigCode.InvalidField, field + '/abort/httpStatus', 'must be in [200, 600)');
    if (s === undefined && f.abort.grpcStatus === undefined && !f.abort.headerAbort) sink.error(ConfigCode.InvalidField, field + '/abort', 'abort sets no httpStatus, grpcStatus or headerAbort');
    abort = { httpStatus: s, grpcStatus: f.abort.grpcStatus, header: !!f.abort.headerAbort, fraction: fraction(f.abort.percentage) };
  }
  const preds: RequestPredicate[] = [];
  (f.headers ?? []).forEach((h, i) => {
    try {
      preds.push(compileHeaderMatcher(h));
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, `${field}/headers/${i}`, (e as Error).message);
    }
  });
  return {
    delay,
    abort,
    headers: allOf(preds),
    upstreamCluster: f.upstreamCluster || undefined,
    downstreamNodes: f.downstreamNodes?.length ? new Set(f.downstreamNodes) : undefined,
    maxActiveFaults: f.maxActiveFaults,
  };
}

/** A percentage header (x-envoy-fault-*-percentage) can only lower the configured one. */
function headerFraction(stream: HttpStream, name: string, configured: number): number {
  const v = stream.header(name);
  if (v === undefined || !/^\d+$/.test(v)) return configured;
  return Math.min(configured, Number(v) / 100);
}

class FaultFilter implements HttpFilter {
  private active = 0;
  constructor(readonly name: string, private readonly config: FaultConfig) {}

  decodeHeaders(stream: HttpStream): FilterStatus {
    const per = stream.filterConfig(this.name);
    if (per === DISABLED) return FilterStatus.Continue;
    const cfg = (per as FaultConfig | undefined) ?? this.config;
    if (!cfg.delay && !cfg.abort) return FilterStatus.Continue;
    if (cfg.headers && !cfg.headers(stream)) return FilterStatus.Continue;
    if (cfg.upstreamCluster && stream.route?.action.kind === 'forward' && stream.route.action.cluster !== cfg.upstreamCluster) return FilterStatus.Continue;
    if (cfg.downstreamNodes && !cfg.downstreamNodes.has(stream.header('x-envoy-downstream-service-node') ?? '')) return FilterStatus.Continue;
    if (cfg.maxActiveFaults !== undefined && this.active >= cfg.maxActiveFaults) return FilterStatus.Continue;

    let delayMs = 0;
    if (cfg.delay) {
      let ms: number | undefined;
      if (cfg.delay.ms === 'header') {
        const v = stream.header('x-envoy-fault-delay-request');
        ms = v && /^\d+$/.test(v) ? Number(v) : undefined;
      } else ms = cfg.delay.ms;
      if (ms !== undefined && ms > 0 && sample(headerFraction(stream, 'x-envoy-fault-delay-request-percentage', cfg.delay.fraction))) delayMs = ms;
    }
    if (delayMs > 0) {
      stream.addFlag('DI');
      stream.hcm.counters['fault.delays_injected']++;
      this.active++;
      const clock = stream.hcm.runtime.clock;
      const timer = clock.setTimeout(() => {
        this.active--;
        stream.onDownstreamReset = undefined;
        if (stream.closed) return;
        if (this.maybeAbort(stream, cfg)) return;
        stream.continueDecoding();
      }, delayMs);
      stream.onDownstreamReset = () => {
        clock.clearTimeout(timer);
        this.active--;
      };
      return FilterStatus.Stop;
    }
    return this.maybeAbort(stream, cfg) ? FilterStatus.Stop : FilterStatus.Continue;
  }

  private maybeAbort(stream: HttpStream, cfg: FaultConfig): boolean {
    const a = cfg.abort;
    if (!a) return false;
    let status = a.httpStatus;
    let grpc = a.grpcStatus;
    if (a.header) {
      const hs = stream.header('x-envoy-fault-abort-request');
      const gs = stream.header('x-envoy-fault-abort-grpc-request');
      status = hs && /^\d+$/.test(hs) && Number(hs) >= 200 && Number(hs) < 600 ? Number(hs) : undefined;
      grpc = gs && /^\d+$/.test(gs) ? Number(gs) : undefined;
      if (status === undefined && grpc === undefined) return false;
    }
    if (!sample(headerFraction(stream, 'x-envoy-fault-abort-request-percentage', a.fraction))) return false;
    stream.hcm.counters['fault.aborts_injected']++;
    if (grpc !== undefined) {
      // A gRPC abort is a trailers-only response (HTTP 200) whatever the request's content type.
      const reply = { ...LocalReply.FaultAbort, status: 200 };
      if (stream.isGrpc) stream.sendLocalReply(reply, { grpcStatus: grpc });
      else stream.sendLocalReply(reply, { status: 200, body: '', headers: { 'content-type': 'application/grpc', 'grpc-status': String(grpc), 'grpc-message': 'fault filter abort' } });
      return true;
    }
    stream.sendLocalReply(LocalReply.FaultAbort, { status: status ?? 503 });
    return true;
  }
}

registerHttpFilter<FaultConfig, FaultConfig>({
  names: ['envoy.filters.http.fault', 'envoy.fault'],
  configTypes: [FAULT_TYPE],
  parseConfig: parseFault,
  create: (cfg, name) => new FaultFilter(name, cfg),
});
