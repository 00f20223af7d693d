// One downstream request/response (HTTP/1.1 or HTTP/2): normalised request, filter iteration, response writing, local replies, the record.

import { requestId } from './request-id.js';
import type http from 'node:http';
import type http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { applyHeaderMutation, type HeaderFormatContext, type HeaderMap, type HeaderMutation } from '../config/header-mutation.js';
import type { MatchInput } from '../config/match-input.js';
import type { WeightedTarget } from '../config/route-action.js';
import type { CompiledRoute, RouteTable } from '../config/route-table.js';
import { stripPort } from '../config/route-table.js';
import type { LocalReplyType } from '../errors.js';
import type { HttpRequestRecord } from '../records.js';
import { formatFlags, type ResponseFlag } from '../response-flags.js';
import type { ConnectionManager } from './connection-manager.js';
import { FilterStatus } from './filter.js';
import { encodeGrpcMessage, httpToGrpcStatus, isGrpcContentType, upstreamRequestHeaders } from './headers.js';
import type { RequestBody } from './request-body.js';

export type DownstreamRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type DownstreamResponse = http.ServerResponse | http2.Http2ServerResponse;

/** Addresses of the downstream connection, captured once per connection. */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Set on connections whose TLS the proxy terminated; mtls when the peer showed a verified certificate. */
  readonly tls?: boolean;
  readonly mtls?: boolean;
  /** The peer's SPIFFE identity from its certificate. */
  readonly peerPrincipal?: string;
  /** The server name the client asked for in its TLS hello (SNI). */
  readonly sni?: string;
  /**
   * The local address and port are the connection's original destination, restored from traffic capture (Envoy's
   * original_dst listener filter): ORIGINAL_DST clusters connect there rather than to what a request names.
   */
  readonly restored?: boolean;
}

export interface LocalReplyOptions {
  status?: number;
  body?: string;
  grpcStatus?: number;
  headers?: HeaderMap;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export class HttpStream implements MatchInput, HeaderFormatContext {
  readonly startTimeMs = Date.now();
  private readonly t0 = performance.now();
  readonly method: string;
  /** The authority used for matching: lower-case, port stripped when the connection manager says so. */
  authority: string;
  /** :path as it will be sent upstream (rewrites change it). */
  path: string;
  pathOnly: string;
  query: string;
  readonly originalPath: string;
  readonly isGrpc: boolean;
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  /** Headers for the upstream request, edited in place by filters and the router; `host` carries the authority. */
  readonly headers: HeaderMap;
  requestId: string;
  readonly hasBody: boolean;

  routeTable: RouteTable | undefined;
  route: CompiledRoute | undefined;
  weightedTarget: WeightedTarget | undefined;

  responseStarted = false;
  /** The downstream side is finished (response complete or connection gone). */
  closed = false;
  responseCode = 0;
  private flags: ResponseFlag[] = [];
  details = '';
  upstreamCluster = '';
  upstreamHostId: string | undefined;
  upstreamFailure = '';
  attempts = 0;
  bytesReceived = 0;
  bytesSent = 0;
  firstUpstreamByteMs: number | undefined;
  upstreamServiceTime: number | undefined;
  grpcStatus: number | undefined;
  responseHeaders: HeaderMap | undefined;
  /** Headers to add to the response (e.g. a hash-policy cookie). */
  extraResponseHeaders: HeaderMap | undefined;
  /** Per-request state of filters, keyed by filter name. */
  filterState: Record<string, unknown> | undefined;
  /**
   * Envoy's dynamic metadata, by filter namespace: what one filter tells later ones (jwt_authn's verified claims for
   * RBAC, RBAC's shadow-rule result for ext_authz). Created on first write.
   */
  dynamicMetadata: Record<string, Record<string, unknown>> | undefined;
  /**
   * The downstream body reader when a filter had to read the body before the router (ext_authz's with_request_body);
   * the router then takes it over instead of reading the request itself.
   */
  requestBody: RequestBody | undefined;
  /** Set for HTTP/1.1 upgrade requests (e.g. "websocket"); the router tunnels them instead of forwarding. */
  upgradeType: string | undefined;
  /** Called once when the downstream goes away before the response completed. */
  onDownstreamReset: (() => void) | undefined;

  private filterIndex = 0;
  /** The response has been ended (res.end() called or headers sent with END_STREAM). */
  private ended = false;
  private params: URLSearchParams | undefined;
  private readonly originalHeaders: http.IncomingHttpHeaders;

  constructor(
    readonly hcm: ConnectionManager,
    readonly conn: ConnectionInfo,
    readonly req: DownstreamRequest,
    readonly res: DownstreamResponse,
    isH2: boolean,
  ) {
    const h = req.headers;
    this.originalHeaders = h;
    this.protocol = isH2 ? 'HTTP/2' : req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    this.method = req.method ?? 'GET';
    let url = req.url ?? '/';
    let authority = (isH2 ? ((h[':authority'] as string | undefined) ?? h.host) : h.host) ?? '';
    // Absolute-form request targets (a client using the proxy as HTTP_PROXY) carry the authority.
    if (url.charCodeAt(0) !== 47 /* / */ && /^https?:\/\//i.test(url)) {
      const start = url.indexOf('//') + 2;
      let end = start;
      while (end < url.length && url[end] !== '/' && url[end] !== '?') end++;
      authority = url.slice(start, end);
      url = end < url.length ? (url[end] === '?' ? '/' + url.slice(end) : url.slice(end)) : '/';
    }
    if (hcm.config.mergeSlashes) url = url.replace(/\/{2,}/g, '/');
    this.path = url;
    this.originalPath = url;
    const q = url.indexOf('?');
    this.pathOnly = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? '' : url.slice(q + 1);
    this.headers = upstreamRequestHeaders(h);
    this.headers.host = authority;
    let match = authority.toLowerCase();
    if (hcm.config.stripPort === 'any') match = stripPort(match);
    else if (hcm.config.stripPort === 'matching' && match.endsWith(`:${conn.localPort}`)) match = stripPort(match);
    this.authority = match;
    this.isGrpc = isGrpcContentType(h['content-type']);
    if (isH2) this.hasBody = !(req as http2.Http2ServerRequest).stream.endAfterHeaders;
    else this.hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
    // x-request-id: generated unless present (Envoy's generate_request_id default).
    const rid = h['x-request-id'];
    if (typeof rid === 'string' && rid !== '') {
      this.requestId = rid;
    } else if (hcm.config.generateRequestId) {
      this.requestId = requestId();
      this.headers['x-request-id'] = this.requestId;
    } else {
      this.requestId = '';
    }
    if (this.headers['x-forwarded-proto'] === undefined) this.headers['x-forwarded-proto'] = 'http';
    if (hcm.config.useRemoteAddress && !hcm.config.skipXffAppend && conn.remoteAddress) {
      const xff = first(this.headers['x-forwarded-for']);
      this.headers['x-forwarded-for'] = xff ? `${xff},${conn.remoteAddress}` : conn.remoteAddress;
    }
  }

  // ------------------------------------------------------------ MatchInput / HeaderFormatContext

  header(name: string): string | undefined {
    if (name.charCodeAt(0) === 58 /* : */) {
      switch (name) {
        case ':method':
          return this.method;
        case ':path':
          return this.path;
        case ':authority':
          return this.authority;
        case ':scheme':
          return 'http';
        default:
          return undefined;
      }
    }
    if (name === 'host') return this.authority;
    return first(this.headers[name]);
  }

  requestHeader(name: string): string | undefined {
    return this.header(name);
  }

  queryParams(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.query));
  }

  get downstreamRemoteAddress(): string {
    return this.conn.remoteAddress;
  }
  get downstreamRemotePort(): number {
    return this.conn.remotePort;
  }
  get downstreamLocalAddress(): string {
    return this.conn.localAddress;
  }
  get downstreamLocalPort(): number {
    return this.conn.localPort;
  }
  get protocolName(): string {
    return this.protocol;
  }

  /** This filter's per-route config: the route's (merged with its virtual host and route configuration). */
  filterConfig(name: string): unknown {
    return this.route?.filterConfigs.get(name);
  }

  addFlag(flag: ResponseFlag): void {
    if (!this.flags.includes(flag)) this.flags.push(flag);
  }

  hasFlag(flag: ResponseFlag): boolean {
    return this.flags.includes(flag);
  }

  elapsedMs(): number {
    return performance.now() - this.t0;
  }

  // ------------------------------------------------------------ decoding

  /** Runs the decoder filters from the first; the router (last filter) takes it from there. */
  decode(): void {
    this.runFilters(0);
  }

  /** Resumes a filter chain a filter stopped (after a fault delay, for example). */
  continueDecoding(): void {
    if (this.closed || this.responseStarted) return;
    this.runFilters(this.filterIndex + 1);
  }

  private runFilters(from: number): void {
    const filters = this.hcm.filters;
    for (let i = from; i < filters.length; i++) {
      this.filterIndex = i;
      if (filters[i]!.decodeHeaders(this) === FilterStatus.Stop) return;
      if (this.closed || this.responseStarted) return;
    }
  }

  /** Request header edits: weighted cluster, route, virtual host, route configuration (outermost last unless most-specific wins). */
  applyRequestMutations(): void {
    const r = this.route;
    if (!r) return;
    const levels: Array<HeaderMutation | undefined> = [this.weightedTarget?.requestHeaders, r.requestHeaders, r.vhost.requestHeaders, r.vhost.table.requestHeaders];
    if (r.vhost.table.mostSpecificHeaderMutationsWins) levels.reverse();
    for (const m of levels) if (m && (m.add.length || m.remove.length)) applyHeaderMutation(m, this.headers, this);
  }

  private applyResponseMutations(headers: HeaderMap): void {
    const r = this.route;
    if (!r) return;
    const levels: Array<HeaderMutation | undefined> = [this.weightedTarget?.responseHeaders, r.responseHeaders, r.vhost.responseHeaders, r.vhost.table.responseHeaders];
    if (r.vhost.table.mostSpecificHeaderMutationsWins) levels.reverse();
    for (const m of levels) if (m && (m.add.length || m.remove.length)) applyHeaderMutation(m, headers, this);
  }

  // ------------------------------------------------------------ encoding

  /**
   * Writes response headers after the encoder filters (reverse order) and the route's header edits ran. With
   * `endStream` the response ends with its headers: on HTTP/2 one HEADERS frame with END_STREAM, which gRPC
   * clients need to see a trailers-only response.
   */
  writeHead(status: number, headers: HeaderMap, local: boolean, endStream = false): boolean {
    if (this.responseStarted || this.closed) return false;
    this.responseStarted = true;
    this.responseCode = status;
    if (!local) this.details ||= 'via_upstream';
    const filters = this.hcm.filters;
    for (let i = filters.length - 1; i >= 0; i--) filters[i]!.encodeHeaders?.(this, status, headers);
    this.applyResponseMutations(headers);
    if (this.extraResponseHeaders) Object.assign(headers, this.extraResponseHeaders);
    if (this.hcm.config.alwaysSetRequestIdInResponse && this.requestId) headers['x-request-id'] = this.requestId;
    if (this.hcm.config.serverName) headers.server = this.hcm.config.serverName;
    if (this.protocol !== 'HTTP/2' && this.hcm.isDraining) headers.connection = 'close';
    this.responseHeaders = headers;
    const res = this.res as http.ServerResponse;
    try {
      if (endStream) {
        this.ended = true;
        const h2 = (this.res as http2.Http2ServerResponse).stream as http2.ServerHttp2Stream | undefined;
        if (this.protocol === 'HTTP/2' && h2) h2.respond({ ...(headers as http2.OutgoingHttpHeaders), ':status': status }, { endStream: true });
        else {
          res.writeHead(status, headers as http.OutgoingHttpHeaders);
          res.end();
        }
      } else {
        res.writeHead(status, headers as http.OutgoingHttpHeaders);
      }
    } catch {
      // a header value the downstream codec refuses: nothing usable can be sent
      this.resetDownstream();
      return false;
    }
    return true;
  }

  writeData(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    return (this.res as http.ServerResponse).write(chunk);
  }

  endResponse(trailers?: HeaderMap): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    const res = this.res as http.ServerResponse;
    if (trailers) {
      const gs = trailers['grpc-status'];
      if (gs !== undefined) this.grpcStatus = Number(gs);
      try {
        res.addTrailers(trailers as http.OutgoingHttpHeaders);
      } catch {
        // trailers the codec cannot send (HTTP/1.1 without chunked encoding) are dropped
      }
    }
    res.end();
  }

  /** Aborts the downstream mid-response (HTTP/1.1: the connection closes; HTTP/2: the stream is reset). */
  resetDownstream(): void {
    if (this.closed) return;
    const res = this.res as http.ServerResponse & { stream?: http2.ServerHttp2Stream };
    if (res.stream) res.stream.close(0x2 /* INTERNAL_ERROR */);
    else res.destroy();
  }

  /**
   * Sends a locally generated reply the way Envoy does: text/plain body, or for gRPC requests a trailers-only
   * response (HTTP 200, grpc-status mapped from the HTTP status, grpc-message from the body).
   */
  sendLocalReply(type: LocalReplyType, o?: LocalReplyOptions): void {
    if (type.flag) this.addFlag(type.flag);
    this.details = type.details;
    if (this.responseStarted) {
      this.resetDownstream();
      return;
    }
    const status = o?.status ?? type.status;
    const body = o?.body ?? type.body;
    const headers: HeaderMap = o?.headers ? { ...o.headers } : {};
    if (this.isGrpc) {
      const grpcStatus = o?.grpcStatus ?? httpToGrpcStatus(status);
      headers['content-type'] = 'application/grpc';
      headers['grpc-status'] = String(grpcStatus);
      if (body) headers['grpc-message'] = encodeGrpcMessage(body);
      this.grpcStatus = grpcStatus;
      this.writeHead(200, headers, true, true);
      return;
    }
    const buf = body ? Buffer.from(body, 'utf8') : undefined;
    if (buf && headers['content-type'] === undefined) headers['content-type'] = 'text/plain';
    headers['content-length'] = String(buf ? buf.length : 0);
    if (!buf) {
      this.writeHead(status, headers, true, true);
      return;
    }
    if (!this.writeHead(status, headers, true)) return;
    if (buf && this.method !== 'HEAD') this.writeData(buf);
    this.endResponse();
  }

  // ------------------------------------------------------------ completion

  /** Called by the connection manager when the response finished or the downstream went away. */
  onClose(finished: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (!finished) {
      this.addFlag('DC');
      this.hcm.counters.downstream_rq_rx_reset++;
      const cb = this.onDownstreamReset;
      this.onDownstreamReset = undefined;
      cb?.();
    }
    const c = this.hcm.counters;
    const code = this.responseCode;
    if (finished) {
      c.downstream_rq_completed++;
      if (code < 200) c.downstream_rq_1xx++;
      else if (code < 300) c.downstream_rq_2xx++;
      else if (code < 400) c.downstream_rq_3xx++;
      else if (code < 500) c.downstream_rq_4xx++;
      else c.downstream_rq_5xx++;
    }
    const obs = this.hcm.runtime.observers;
    if (obs.wantsHttp) obs.http(this.record(finished));
  }

  record(finished: boolean): HttpRequestRecord {
    const h = this.originalHeaders;
    return {
      listener: this.hcm.listenerName,
      statPrefix: this.hcm.config.statPrefix,
      routeName: this.route?.name ?? '',
      virtualHost: this.route?.vhost.name ?? '',
      startTime: this.startTimeMs,
      method: this.method,
      path: this.originalPath,
      authority: String(this.headers.host ?? this.authority),
      protocol: this.protocol,
      requestId: this.requestId,
      userAgent: first(h['user-agent']) ?? '',
      xForwardedFor: first(this.headers['x-forwarded-for']) ?? '',
      downstreamRemoteAddress: hostPort(this.conn.remoteAddress, this.conn.remotePort),
      downstreamLocalAddress: hostPort(this.conn.localAddress, this.conn.localPort),
      responseCode: finished || this.responseStarted ? this.responseCode : 0,
      responseFlags: formatFlags(this.flags),
      responseCodeDetails: this.details || (finished ? 'via_upstream' : 'downstream_remote_disconnect'),
      grpcStatus: this.grpcStatus ?? (this.isGrpc && this.responseHeaders?.['grpc-status'] !== undefined ? Number(this.responseHeaders['grpc-status']) : undefined),
      upstreamCluster: this.upstreamCluster,
      upstreamHost: this.upstreamHostId ?? '',
      upstreamTransportFailureReason: this.upstreamFailure,
      duration: this.elapsedMs(),
      responseDuration: this.firstUpstreamByteMs,
      upstreamServiceTime: this.upstreamServiceTime,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      attempts: this.attempts,
      requestHeaders: h,
      forwardedHeaders: this.headers,
      connectionSecurity: this.conn.mtls ? 'mutual_tls' : this.conn.tls ? 'tls' : 'none',
      peerPrincipal: this.conn.peerPrincipal,
      responseHeaders: this.responseHeaders,
      websocket: this.upgradeType === 'websocket',
    };
  }
}

export function hostPort(addr: string, port: number): string {
  if (!addr) return '';
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
