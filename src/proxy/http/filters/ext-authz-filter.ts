// envoy.filters.http.ext_authz: asks an external authorization service (raw HTTP or gRPC envoy.service.auth.v3)
// about each request before it is routed, and applies the answer: allow (with header edits), deny with the
// service's status/headers/body, or, when the service fails or times out, status_on_error unless
// failure_mode_allow. This is what Istio's AuthorizationPolicy action CUSTOM becomes; Istio selects the requests to
// check with an RBAC shadow rule whose result lands in dynamic metadata, read here through filter_enabled_metadata.

import type { Any, StringMatcher } from '../../../xds/envoy/index.js';
import { DISABLED } from '../../config/route-table.js';
import { compileStringMatcher, type StringPredicate } from '../../config/string-matcher.js';
import { runtimeFraction, sample } from '../../config/values.js';
import { protoDurationMs, badProtoDuration } from '../../../duration.js';
import { ConfigCode, LocalReply, type IssueSink } from '../../errors.js';
import { registerHttpFilter } from '../filter-registry.js';
import { FilterStatus, type HttpFilter } from '../filter.js';
import type { HttpStream } from '../http-stream.js';
import { RequestBody } from '../request-body.js';
import { loadCodec, sendCheck, httpStatusCode, type CheckInput, type Decision, type HeaderEdit, type HeaderPair, type ServiceConfig } from './ext-authz-check.js';
import { localPrincipal, peerCertificate } from './ext-authz-peer.js';

export const EXT_AUTHZ_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const EXT_AUTHZ_PER_ROUTE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

/** Envoy's default timeout for the check when the config gives none. */
const DEFAULT_TIMEOUT_MS = 200;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface BodySettings {
  maxBytes: number;
  allowPartial: boolean;
}

export interface ExtAuthzConfig {
  service: ServiceConfig | undefined;
  failureModeAllow: boolean;
  failureModeAllowHeaderAdd: boolean;
  statusOnError: number;
  body: BodySettings | undefined;
  includePeerCertificate: boolean;
  /** Headers offered to the service (top-level allowed_headers, or the HTTP service's own list plus Envoy's defaults). */
  allowedHeader: (name: string) => boolean;
  /** filter_enabled_metadata: checks only requests whose dynamic metadata matches (Istio's CUSTOM selection). */
  enabledByMetadata: ((stream: HttpStream) => boolean) | undefined;
  enabledFraction: number;
  denyAtDisable: boolean;
}

interface PerRoute {
  disabled: boolean;
  contextExtensions: Record<string, string>;
  disableBody: boolean;
}

// ---------------------------------------------------------------- config

function stringList(list: Json | undefined, sink: IssueSink, field: string): StringPredicate | undefined {
  const patterns = (list?.patterns ?? []) as StringMatcher[];
  if (!list) return undefined;
  const preds: StringPredicate[] = [];
  patterns.forEach((m, i) => {
    try {
      preds.push(compileStringMatcher(m));
    } catch (e) {
      sink.error(ConfigCode.InvalidRegex, `${field}/patterns/${i}`, (e as Error).message);
    }
  });
  return (v) => preds.some((p) => p(v));
}

function timeoutOf(d: unknown, sink: IssueSink, field: string): number {
  if (badProtoDuration(d as string)) sink.error(ConfigCode.InvalidField, field, 'not a duration');
  return protoDurationMs(d as string) ?? DEFAULT_TIMEOUT_MS;
}

function parseService(c: Json, sink: IssueSink, field: string): ServiceConfig | undefined {
  if (c.httpService) {
    const h = c.httpService as Json;
    const f = `${field}/httpService`;
    const cluster = String(h.serverUri?.cluster ?? '');
    if (!cluster) sink.error(ConfigCode.InvalidField, `${f}/serverUri/cluster`, 'the HTTP authorization service needs a cluster');
    const resp = (h.authorizationResponse ?? {}) as Json;
    const rf = `${f}/authorizationResponse`;
    return {
      kind: 'http',
      cluster,
      timeoutMs: timeoutOf(h.serverUri?.timeout, sink, `${f}/serverUri/timeout`),
      pathPrefix: String(h.pathPrefix ?? ''),
      headersToAdd: ((h.authorizationRequest?.headersToAdd ?? []) as Json[]).map((x) => [String(x.key ?? '').toLowerCase(), String(x.value ?? '')] as const),
      upstreamHeaders: stringList(resp.allowedUpstreamHeaders, sink, `${rf}/allowedUpstreamHeaders`),
      upstreamHeadersToAppend: stringList(resp.allowedUpstreamHeadersToAppend, sink, `${rf}/allowedUpstreamHeadersToAppend`),
      clientHeaders: stringList(resp.allowedClientHeaders, sink, `${rf}/allowedClientHeaders`),
      clientHeadersOnSuccess: stringList(resp.allowedClientHeadersOnSuccess, sink, `${rf}/allowedClientHeadersOnSuccess`),
    };
  }
  if (c.grpcService) {
    // Start loading the proto codec now, so the first check rarely waits for it.
    void loadCodec().catch(() => undefined);
    const g = c.grpcService as Json;
    const f = `${field}/grpcService`;
    if (!g.envoyGrpc) {
      // google_grpc would need a second gRPC stack outside the cluster machinery.
      sink.error(ConfigCode.UnsupportedField, f, 'only envoyGrpc authorization services are supported');
      return undefined;
    }
    const cluster = String(g.envoyGrpc.clusterName ?? '');
    if (!cluster) sink.error(ConfigCode.InvalidField, `${f}/envoyGrpc/clusterName`, 'the gRPC authorization service needs a cluster');
    return {
      kind: 'grpc',
      cluster,
      authority: String(g.envoyGrpc.authority || cluster),
      timeoutMs: timeoutOf(g.timeout, sink, `${f}/timeout`),
      initialMetadata: ((g.initialMetadata ?? []) as Json[]).map((x) => [String(x.key ?? '').toLowerCase(), String(x.value ?? '')] as const),
      packAsBytes: c.withRequestBody?.packAsBytes === true,
    };
  }
  sink.error(ConfigCode.InvalidField, field, 'ext_authz needs a grpcService or an httpService');
  return undefined;
}

/** The HTTP protocol always offers these to the service (Envoy's defaults), whatever allowed_headers says. */
const HTTP_DEFAULT_HEADERS = new Set([':authority', ':method', ':path', 'host', 'content-length', 'authorization']);

function headerFilter(c: Json, service: ServiceConfig | undefined, sink: IssueSink, field: string): (name: string) => boolean {
  const legacy = c.httpService?.authorizationRequest?.allowedHeaders as Json | undefined;
  const allowed = stringList(c.allowedHeaders ?? legacy, sink, `${field}/allowedHeaders`);
  const disallowed = stringList(c.disallowedHeaders, sink, `${field}/disallowedHeaders`);
  const http = service?.kind === 'http';
  return (name) => {
    if (disallowed?.(name)) return false;
    if (http && HTTP_DEFAULT_HEADERS.has(name)) return true;
    // gRPC services get every header unless a list narrows them; HTTP services only the listed ones.
    return allowed ? allowed(name) : !http;
  };
}

/** filter_enabled_metadata (Envoy's MetadataMatcher) over the stream's dynamic metadata. */
export function compileMetadataMatcher(m: Json | undefined, sink: IssueSink, field: string): ((stream: HttpStream) => boolean) | undefined {
  if (!m) return undefined;
  const filter = String(m.filter ?? '');
  const path = ((m.path ?? []) as Json[]).map((p) => String(p.key ?? ''));
  const value = (m.value ?? {}) as Json;
  let test: (v: unknown) => boolean;
  try {
    if (value.stringMatch) {
      const p = compileStringMatcher(value.stringMatch as StringMatcher);
      test = (v) => typeof v === 'string' && p(v);
    } else if (value.presentMatch !== undefined) test = (v) => (v !== undefined) === (value.presentMatch === true);
    else if (value.boolMatch !== undefined) test = (v) => v === value.boolMatch;
    else {
      sink.error(ConfigCode.UnsupportedField, `${field}/value`, `metadata value matcher ${Object.keys(value).join(', ') || '(empty)'} is not supported`);
      // Unknown matcher: check every request rather than none (an authorization filter must not fail open).
      return () => true;
    }
  } catch (e) {
    sink.error(ConfigCode.InvalidRegex, `${field}/value/stringMatch`, (e as Error).message);
    return () => true;
  }
  const invert = m.invert === true;
  return (stream) => {
    let v: unknown = stream.dynamicMetadata?.[filter];
    for (const k of path) v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    return test(v) !== invert;
  };
}

function parseExtAuthz(value: Any | undefined, sink: IssueSink, field: string): ExtAuthzConfig {
  const c = (value ?? {}) as Json;
  if (c.transportApiVersion !== undefined && c.transportApiVersion !== 'V3' && c.transportApiVersion !== 2) {
    sink.error(ConfigCode.InvalidField, `${field}/transportApiVersion`, 'only transport API version V3 is supported');
  }
  const service = parseService(c, sink, field);
  const statusOnError = c.statusOnError?.code === undefined ? 403 : httpStatusCode(c.statusOnError.code);
  if (statusOnError === undefined) sink.error(ConfigCode.InvalidField, `${field}/statusOnError/code`, `unknown HTTP status ${JSON.stringify(c.statusOnError.code)}`);
  const wb = c.withRequestBody as Json | undefined;
  const maxBytes = Number(wb?.maxRequestBytes ?? 0);
  if (wb && !(maxBytes > 0)) sink.error(ConfigCode.InvalidField, `${field}/withRequestBody/maxRequestBytes`, 'must be greater than 0');
  return {
    service,
    failureModeAllow: c.failureModeAllow === true,
    failureModeAllowHeaderAdd: c.failureModeAllowHeaderAdd === true,
    statusOnError: statusOnError ?? 403,
    body: wb ? { maxBytes: maxBytes > 0 ? maxBytes : 1, allowPartial: wb.allowPartialMessage === true } : undefined,
    includePeerCertificate: c.includePeerCertificate === true,
    allowedHeader: headerFilter(c, service, sink, field),
    enabledByMetadata: compileMetadataMatcher(c.filterEnabledMetadata, sink, `${field}/filterEnabledMetadata`),
    enabledFraction: c.filterEnabled ? runtimeFraction(c.filterEnabled, 1) : 1,
    denyAtDisable: c.denyAtDisable?.defaultValue === true || c.denyAtDisable?.defaultValue?.value === true,
  };
}

function parsePerRoute(value: Any, sink: IssueSink, field: string): PerRoute {
  const v = value as Json;
  if (v.checkSettings?.withRequestBody) sink.warn(ConfigCode.UnsupportedField, `${field}/checkSettings/withRequestBody`, 'per-route body settings are not supported; the filter-level ones apply');
  return {
    disabled: v.disabled === true,
    contextExtensions: (v.checkSettings?.contextExtensions ?? {}) as Record<string, string>,
    disableBody: v.checkSettings?.disableRequestBodyBuffering === true,
  };
}

// ---------------------------------------------------------------- the filter

class ExtAuthzFilter implements HttpFilter {
  constructor(
    readonly name: string,
    private readonly config: ExtAuthzConfig,
  ) {}

  decodeHeaders(stream: HttpStream): FilterStatus {
    const per = stream.filterConfig(this.name) as PerRoute | typeof DISABLED | undefined;
    // A route that disables the filter is not denied even with deny_at_disable (Envoy's rule).
    if (per === DISABLED || per?.disabled) return FilterStatus.Continue;
    const cfg = this.config;
    const counters = stream.hcm.counters;
    if (!this.enabled(stream)) {
      counters['ext_authz.disabled']++;
      if (!cfg.denyAtDisable) return FilterStatus.Continue;
      stream.sendLocalReply(LocalReply.ExtAuthzError, { status: cfg.statusOnError });
      return FilterStatus.Stop;
    }
    if (!cfg.service) {
      this.onDecision(stream, { kind: 'error', reason: 'no authorization service configured' });
      return FilterStatus.Stop;
    }
    if (cfg.body && stream.hasBody && !per?.disableBody) this.checkWithBody(stream, cfg.body, per);
    else this.check(stream, undefined, per);
    return FilterStatus.Stop;
  }

  private enabled(stream: HttpStream): boolean {
    const cfg = this.config;
    if (cfg.enabledByMetadata && !cfg.enabledByMetadata(stream)) return false;
    return cfg.enabledFraction >= 1 || sample(cfg.enabledFraction);
  }

  /** Buffers up to max_request_bytes (holding the client past it), then checks; the router replays the body later. */
  private checkWithBody(stream: HttpStream, body: BodySettings, per: PerRoute | undefined): void {
    const declared = Number(stream.header('content-length') ?? -1);
    if (!body.allowPartial && declared > body.maxBytes) {
      stream.sendLocalReply(LocalReply.ExtAuthzBodyTooLarge);
      return;
    }
    const reader = (stream.requestBody ??= new RequestBody(stream.req, body.maxBytes, (n) => (stream.bytesReceived += n)));
    let waiting = true;
    stream.onDownstreamReset = () => {
      waiting = false;
    };
    // Without allow_partial_message a body of exactly max_request_bytes is fine: wait for one byte more or the end.
    reader.whenBuffered(body.allowPartial ? body.maxBytes : body.maxBytes + 1, () => {
      if (!waiting || stream.closed) return;
      stream.onDownstreamReset = undefined;
      const all = Buffer.concat(reader.buffered as Buffer[]);
      const partial = all.length > body.maxBytes || !reader.ended;
      if (partial && !body.allowPartial) {
        stream.sendLocalReply(LocalReply.ExtAuthzBodyTooLarge);
        return;
      }
      this.check(stream, { data: all.subarray(0, body.maxBytes), partial }, per);
    });
  }

  private check(stream: HttpStream, body: { data: Buffer; partial: boolean } | undefined, per: PerRoute | undefined): void {
    const input = checkInput(stream, this.config, body, per);
    let decided = false;
    const cancel = sendCheck(stream.hcm.runtime, this.config.service!, input, (d) => {
      decided = true;
      stream.onDownstreamReset = undefined;
      if (!stream.closed) this.onDecision(stream, d);
    });
    // A pool can fail synchronously; by then later filters (the router) may own the reset hook.
    if (!decided) stream.onDownstreamReset = cancel;
  }

  private onDecision(stream: HttpStream, d: Decision): void {
    const counters = stream.hcm.counters;
    const cfg = this.config;
    switch (d.kind) {
      case 'ok':
        counters['ext_authz.ok']++;
        for (const e of d.upstream) editHeader(stream, e);
        for (const h of d.removeUpstream) delete stream.headers[h];
        if (d.downstream.length) stream.extraResponseHeaders = addPairs(stream.extraResponseHeaders ?? {}, d.downstream);
        stream.continueDecoding();
        return;
      case 'denied':
        counters['ext_authz.denied']++;
        stream.sendLocalReply(LocalReply.ExtAuthzDenied, { status: d.status, body: d.body, headers: addPairs({}, d.headers) });
        return;
      case 'error':
        counters['ext_authz.error']++;
        if (cfg.failureModeAllow) {
          counters['ext_authz.failure_mode_allowed']++;
          if (cfg.failureModeAllowHeaderAdd) stream.headers['x-envoy-auth-failure-mode-allowed'] = 'true';
          stream.continueDecoding();
          return;
        }
        stream.sendLocalReply(LocalReply.ExtAuthzError, { status: cfg.statusOnError });
    }
  }
}

function addPairs(into: Record<string, string | string[] | undefined>, pairs: readonly HeaderPair[]) {
  for (const [k, v] of pairs) {
    const prev = into[k];
    into[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return into;
}

function editHeader(stream: HttpStream, e: HeaderEdit): void {
  if (!e.key || e.key.charCodeAt(0) === 58 /* : */) return; // pseudo-headers are not the service's to change
  const prev = stream.headers[e.key];
  if (e.mode === 'addIfAbsent' && prev !== undefined) return;
  if (e.mode === 'setIfExists' && prev === undefined) return;
  stream.headers[e.key] = e.mode === 'append' && prev !== undefined ? `${Array.isArray(prev) ? prev.join(',') : prev},${e.value}` : e.value;
}

/** The request as the service sees it: attributes of the connection and request, headers the config offers. */
function checkInput(stream: HttpStream, cfg: ExtAuthzConfig, body: { data: Buffer; partial: boolean } | undefined, per: PerRoute | undefined): CheckInput {
  const conn = stream.conn;
  const headers: Record<string, string> = {};
  const offer = (k: string, v: string | string[] | undefined) => {
    if (v !== undefined && cfg.allowedHeader(k)) headers[k] = Array.isArray(v) ? v.join(',') : v;
  };
  const host = String(stream.headers.host ?? stream.authority);
  offer(':authority', host);
  offer(':method', stream.method);
  offer(':path', stream.path);
  offer(':scheme', conn.tls ? 'https' : 'http');
  for (const [k, v] of Object.entries(stream.headers)) if (k !== 'host') offer(k, v);
  if (body) headers['x-envoy-auth-partial-body'] = String(body.partial);
  return {
    requestId: stream.requestId,
    method: stream.method,
    path: stream.path,
    host,
    scheme: conn.tls ? 'https' : 'http',
    protocol: stream.protocol,
    headers,
    body: body?.data,
    source: { address: conn.remoteAddress, port: conn.remotePort, principal: conn.peerPrincipal ?? '', certificate: cfg.includePeerCertificate ? peerCertificate(stream) : undefined },
    destination: { address: conn.localAddress, port: conn.localPort, principal: localPrincipal(stream) ?? '' },
    contextExtensions: per?.contextExtensions ?? {},
    sni: conn.sni,
  };
}

registerHttpFilter<ExtAuthzConfig, PerRoute>({
  names: ['envoy.filters.http.ext_authz', 'envoy.ext_authz'],
  configTypes: [EXT_AUTHZ_TYPE],
  perRouteTypes: [EXT_AUTHZ_PER_ROUTE_TYPE],
  parseConfig: parseExtAuthz,
  parsePerRoute,
  create: (config, name) => new ExtAuthzFilter(name, config),
});
