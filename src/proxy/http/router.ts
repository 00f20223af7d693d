// The router filter: takes the matched route's action — direct response, redirect, or forward with retries, timeouts and mirrors.

import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Clock, Timer } from '../../clock.js';
import type { HeaderMap } from '../config/header-mutation.js';
import type { DirectResponseActionC, ForwardAction, RedirectActionC, WeightedTarget } from '../config/route-action.js';
import { stripPort } from '../config/route-table.js';
import { applyRegexRewrite } from '../config/string-matcher.js';
import { LocalReply, replyForReset, retriedBody, type ResetReason } from '../errors.js';
import { OVERFLOW, type UpstreamCluster, type UpstreamRequestHandle } from '../upstream/upstream-cluster.js';
import type { UpstreamHandler, UpstreamRequestSpec, UpstreamStream } from '../upstream/pool.js';
import type { UpstreamHost } from '../upstream/upstream-host.js';
import { computeHash } from './hash-policy.js';
import { cleanResponseHeaders, parseGrpcTimeout } from './headers.js';
import type { HttpStream } from './http-stream.js';
import { startMirrors } from './mirror.js';
import { tunnelUpgrade } from './websocket.js';
import { DEFAULT_BUFFER_LIMIT, RequestBody } from './request-body.js';
import { RetryState } from './retry-state.js';

/** Entry point from the router filter: the route (or its absence) decides what happens. */
export function routeRequest(stream: HttpStream): void {
  const route = stream.route;
  if (!route) {
    stream.hcm.counters.no_route++;
    stream.sendLocalReply(LocalReply.NoRoute);
    return;
  }
  const action = route.action;
  switch (action.kind) {
    case 'direct':
      sendDirectResponse(stream, action);
      return;
    case 'redirect':
      sendRedirect(stream, action);
      return;
    case 'nonForwarding':
      stream.sendLocalReply(LocalReply.NoRoute);
      return;
    case 'forward':
      if (stream.upgradeType) tunnelUpgrade(stream, action);
      else new ForwardRequest(stream, action).start();
  }
}

/**
 * The route's cluster (weighted choice, cluster header or name); sends the cluster-not-found reply and returns
 * undefined when it does not exist.
 */
export function resolveCluster(stream: HttpStream, action: ForwardAction): UpstreamCluster | undefined {
  let name: string | undefined;
  let notFoundStatus = action.clusterNotFoundStatus;
  if (action.weighted) {
    const t = pickWeighted(stream, action.weighted);
    stream.weightedTarget = t;
    name = t?.clusterHeader ? stream.header(t.clusterHeader) : t?.name;
  } else if (action.clusterHeader) {
    name = stream.header(action.clusterHeader);
    if (notFoundStatus === 503) notFoundStatus = 404;
  } else {
    name = action.cluster;
  }
  const cluster = name ? stream.hcm.runtime.cluster(name) : undefined;
  stream.upstreamCluster = name ?? '';
  if (!cluster) {
    stream.hcm.counters.no_cluster++;
    stream.sendLocalReply(LocalReply.ClusterNotFound, { status: notFoundStatus });
    return undefined;
  }
  return cluster;
}

/** Path (prefix or regex) and host rewrites of a forward action, applied to the stream's upstream request. */
export function applyRewrites(stream: HttpStream, action: ForwardAction): void {
  const route = stream.route!;
  if (action.prefixRewrite !== undefined && route.pathKind !== 'regex') {
    const matched = route.pathKind === 'path' ? stream.pathOnly.length : route.pathValue.length;
    let rest = stream.pathOnly.slice(matched);
    if (action.prefixRewrite === '' && rest === '') rest = '/';
    const path = action.prefixRewrite + rest;
    stream.path = stream.query ? `${path}?${stream.query}` : path;
  } else if (action.regexRewrite) {
    const path = applyRegexRewrite(action.regexRewrite, stream.pathOnly);
    stream.path = stream.query ? `${path}?${stream.query}` : path;
  }
  const original = stream.headers.host;
  const hostRewrite = stream.weightedTarget?.hostRewrite ?? action.hostRewrite;
  if (hostRewrite) stream.headers.host = hostRewrite;
  else if (action.hostRewriteHeader) {
    const v = stream.header(action.hostRewriteHeader);
    if (v) stream.headers.host = v;
  } else if (action.hostRewritePathRegex) {
    stream.headers.host = applyRegexRewrite(action.hostRewritePathRegex, stream.pathOnly);
  }
  if (action.appendXForwardedHost && stream.headers.host !== original && original !== undefined) {
    const prev = stream.headers['x-forwarded-host'];
    stream.headers['x-forwarded-host'] = prev ? `${prev},${original}` : String(original);
  }
}

function sendDirectResponse(stream: HttpStream, a: DirectResponseActionC): void {
  stream.hcm.counters.rq_direct_response++;
  stream.sendLocalReply(LocalReply.DirectResponse, { status: a.status, body: a.body ?? '' });
}

function sendRedirect(stream: HttpStream, a: RedirectActionC): void {
  stream.hcm.counters.rq_redirect++;
  const original = String(stream.headers.host ?? stream.authority);
  const scheme = a.scheme ?? 'http';
  let host = a.host ?? stripPort(original);
  let port: string | undefined;
  if (a.port) port = String(a.port);
  else if (!a.host) {
    const origPort = original.length > stripPort(original).length ? original.slice(stripPort(original).length + 1) : undefined;
    // A scheme change drops the old scheme's default port, as Envoy does.
    if (origPort && !(a.scheme === 'https' && origPort === '80') && !(a.scheme === 'http' && origPort === '443')) port = origPort;
  } else if (a.host.includes(':') && !a.host.startsWith('[')) {
    // host_redirect may carry its own port
  }
  if (port && !(scheme === 'https' && port === '443') && !(scheme === 'http' && port === '80')) host = `${stripPort(host)}:${port}`;
  let path = stream.pathOnly;
  let query = stream.query;
  const route = stream.route!;
  if (a.path !== undefined) {
    const q = a.path.indexOf('?');
    if (q >= 0) {
      path = a.path.slice(0, q);
      query = a.path.slice(q + 1);
    } else {
      path = a.path;
    }
  } else if (a.prefixRewrite !== undefined && (route.pathKind === 'prefix' || route.pathKind === 'path' || route.pathKind === 'separated')) {
    path = a.prefixRewrite + path.slice(route.pathValue.length);
  } else if (a.regexRewrite) {
    path = applyRegexRewrite(a.regexRewrite, path);
  }
  if (a.stripQuery) query = '';
  const location = `${scheme}://${host}${path}${query ? '?' + query : ''}`;
  stream.sendLocalReply(LocalReply.Redirect, { status: a.status, headers: { location } });
}

function pickWeighted(stream: HttpStream, w: NonNullable<ForwardAction['weighted']>): WeightedTarget | undefined {
  let r: number;
  const hv = w.headerName ? stream.header(w.headerName) : undefined;
  if (hv !== undefined && /^\d+$/.test(hv)) r = Number(hv) % w.total;
  else r = Math.floor(Math.random() * w.total);
  for (const t of w.targets) {
    if (r < t.weight) return t;
    r -= t.weight;
  }
  return w.targets[w.targets.length - 1];
}

/** Per-attempt callbacks; a late callback from an abandoned attempt finds itself no longer current and is ignored. */
class Attempt implements UpstreamHandler {
  handle: UpstreamRequestHandle | undefined;
  upstream: UpstreamStream | undefined;
  readonly startedAt = performance.now();
  private waitingDrain = false;
  done = false;

  constructor(private readonly fr: ForwardRequest, readonly host: UpstreamHost, readonly isRetry: boolean) {}

  onStart(stream: UpstreamStream): void {
    if (this.fr.current !== this) return;
    this.upstream = stream;
    this.fr.sendBody(stream);
  }

  onResponse(status: number, headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.fr.current === this) this.fr.onResponse(this, status, headers, endStream);
  }

  onData(chunk: Buffer): void {
    if (this.fr.current !== this) return;
    const s = this.fr.stream;
    if (!s.writeData(chunk) && !this.waitingDrain && this.upstream) {
      this.waitingDrain = true;
      const up = this.upstream;
      up.pauseResponse();
      s.res.once('drain', () => {
        this.waitingDrain = false;
        up.resumeResponse();
      });
    }
  }

  onEnd(trailers: IncomingHttpHeaders | undefined): void {
    this.finish();
    if (this.fr.current === this) this.fr.onEnd(trailers);
  }

  onError(reason: ResetReason, err: Error | undefined, afterResponse: boolean): void {
    this.finish();
    if (this.fr.current === this) this.fr.onError(this, reason, err, afterResponse);
  }

  abort(): void {
    this.finish();
    this.handle?.abort();
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.isRetry) this.fr.cluster.endRetry();
  }
}

/** Forwarding one request: cluster choice, rewrites, attempts with retries, timeouts, and streaming the response back. */
class ForwardRequest {
  cluster!: UpstreamCluster;
  current: Attempt | undefined;
  private body: RequestBody | undefined;
  private retry: RetryState | undefined;
  private tried: Set<UpstreamHost> | undefined;
  private hash: number | undefined;
  private protocol: 'http1' | 'http2' = 'http1';
  private spec!: UpstreamRequestSpec;
  private globalTimer: Timer | undefined;
  private perTryTimer: Timer | undefined;
  private backoffTimer: Timer | undefined;
  private timeoutMs = 0;
  private finished = false;

  constructor(readonly stream: HttpStream, private readonly action: ForwardAction) {}

  /** The proxy's clock, read where a timer is set rather than kept per request. */
  private get clock(): Clock {
    return this.stream.hcm.runtime.clock;
  }

  start(): void {
    const { stream, action } = this;
    // 1. the cluster
    const cluster = resolveCluster(stream, action);
    if (!cluster) return;
    this.cluster = cluster;
    // 2. header edits and rewrites, in Envoy's order: route header mutations, then path and host rewrites
    stream.applyRequestMutations();
    applyRewrites(stream, action);
    // 3. load-balancing hash, protocol, timeouts, retry policy
    if (action.hashPolicies.length) this.hash = computeHash(stream, action.hashPolicies);
    const p = cluster.config.protocol;
    this.protocol = p === 'downstream' ? (stream.protocol === 'HTTP/2' ? 'http2' : 'http1') : p;
    this.timeoutMs = action.timeoutMs;
    if (action.grpcTimeoutHeaderMaxMs !== undefined && stream.isGrpc) {
      const t = parseGrpcTimeout(stream.headers['grpc-timeout']);
      if (t !== undefined) {
        const capped = action.grpcTimeoutHeaderMaxMs > 0 ? Math.min(t, action.grpcTimeoutHeaderMaxMs) : t;
        this.timeoutMs = Math.max(1, capped - action.grpcTimeoutHeaderOffsetMs);
      }
    }
    if (action.retry && action.retry.numRetries > 0 && action.retry.retryOn !== 0) {
      if (!action.retry.retriableRequestHeaders || action.retry.retriableRequestHeaders(stream)) this.retry = new RetryState(action.retry, stream.isGrpc);
    }
    // 4. the body: streamed, and kept for replay when a retry or a mirror may need it
    if (stream.hasBody) {
      const keep = this.retry !== undefined || action.mirrors.length > 0;
      const limit = keep ? DEFAULT_BUFFER_LIMIT : 0;
      // A filter (ext_authz) may have read part of the body already: continue with its reader.
      this.body = stream.requestBody ?? new RequestBody(stream.req, limit, (n) => (stream.bytesReceived += n));
      this.body.setLimit(limit);
    }
    this.spec = {
      method: stream.method,
      path: stream.path,
      authority: String(stream.headers.host ?? ''),
      headers: stream.headers,
      hasBody: stream.hasBody,
    };
    if (action.mirrors.length) startMirrors(stream, action.mirrors, this.spec, this.body, this.hash, this.timeoutMs);
    stream.onDownstreamReset = () => this.onDownstreamReset();
    // 5. the route timeout runs from the end of the request body to the end of the response
    if (this.timeoutMs > 0) {
      if (this.body) this.body.whenComplete(() => this.startGlobalTimer());
      else this.startGlobalTimer();
    }
    this.attempt(false);
  }

  private startGlobalTimer(): void {
    if (this.finished || this.globalTimer) return;
    this.globalTimer = this.clock.setTimeout(() => this.onGlobalTimeout(), this.timeoutMs);
  }

  private chooseHost(): UpstreamHost | undefined {
    const c = this.cluster;
    if (c.config.type === 'ORIGINAL_DST') {
      const od = c.config.originalDst;
      // Envoy: the downstream connection's original destination, unless the cluster reads it from a header; a request
      // that reached a listener directly (HTTP_PROXY) names it in its authority instead.
      const conn = this.stream.conn;
      if (!od.useHttpHeader && conn.restored) return c.originalDstHost(conn.localAddress, conn.localPort);
      const target = od.useHttpHeader ? this.stream.header(od.headerName) : String(this.stream.headers.host ?? '');
      const parsed = target ? parseHostPort(target, 80) : undefined;
      return parsed ? c.originalDstHost(parsed.host, parsed.port) : undefined;
    }
    const retryPolicy = this.retry?.policy;
    if (this.tried && retryPolicy?.avoidPreviousHosts) return c.chooseHost(this.hash, this.tried, Math.max(retryPolicy.hostSelectionMaxAttempts, 2));
    return c.chooseHost(this.hash);
  }

  private attempt(isRetry: boolean): void {
    if (this.finished || this.stream.closed) {
      if (isRetry) this.cluster.endRetry();
      return;
    }
    const stream = this.stream;
    const host = this.chooseHost();
    if (!host) {
      if (isRetry) this.cluster.endRetry();
      this.finish();
      stream.sendLocalReply(LocalReply.NoHealthyUpstream);
      return;
    }
    stream.attempts++;
    stream.upstreamHostId = host.id;
    if (this.retry?.policy.avoidPreviousHosts) (this.tried ??= new Set()).add(host);
    if (this.cluster.config.type === 'STRICT_DNS' || this.cluster.config.type === 'LOGICAL_DNS') {
      if (this.action.autoHostRewrite && host.hostname) this.spec.authority = stream.headers.host = host.hostname;
    }
    this.spec.path = stream.path;
    const attempt = new Attempt(this, host, isRetry);
    this.current = attempt;
    const handle = this.cluster.dispatch(host, this.protocol, this.spec, attempt);
    if (handle === OVERFLOW) {
      attempt.finish();
      this.current = undefined;
      this.finish();
      stream.sendLocalReply(LocalReply.Overflow);
      return;
    }
    attempt.handle = handle;
    const perTry = this.retry?.policy.perTryTimeoutMs ?? 0;
    if (perTry > 0) this.perTryTimer = this.clock.setTimeout(() => this.onPerTryTimeout(attempt), perTry);
  }

  sendBody(up: UpstreamStream): void {
    if (this.body) this.body.attach(up);
    else up.end();
  }

  onResponse(attempt: Attempt, status: number, headers: IncomingHttpHeaders, endStream: boolean): void {
    const stream = this.stream;
    this.clearPerTry();
    stream.firstUpstreamByteMs ??= stream.elapsedMs();
    this.cluster.reportHttpStatus(attempt.host, status);
    if (this.retry) {
      const v = this.retry.onResponse(status, headers);
      if (v === 'retry' && this.retryNow(attempt)) return;
      if (v === 'exhausted') this.markExhausted();
    }
    if (attempt.isRetry && status < 500) this.cluster.counters.upstream_rq_retry_success++;
    stream.upstreamServiceTime = performance.now() - attempt.startedAt;
    // The request body keeps flowing after the response started (streaming gRPC, early responses).
    const out = cleanResponseHeaders(headers);
    if (!stream.writeHead(status, out, false, endStream)) {
      attempt.abort();
      this.finish();
    }
  }

  onEnd(trailers: IncomingHttpHeaders | undefined): void {
    this.finish();
    this.stream.endResponse(trailers as HeaderMap | undefined);
  }

  onError(attempt: Attempt, reason: ResetReason, err: Error | undefined, afterResponse: boolean): void {
    const stream = this.stream;
    this.clearPerTry();
    if (attempt.upstream) this.body?.detach(attempt.upstream);
    stream.upstreamFailure = err?.message ?? reason;
    this.cluster.reportLocalOrigin(attempt.host, reason === 'connection_failure' ? 'connect_failed' : 'request_failed');
    if (afterResponse || stream.responseStarted) {
      stream.addFlag(this.protocol === 'http2' && reason === 'remote_reset' ? 'UR' : 'UC');
      this.finish();
      stream.resetDownstream();
      return;
    }
    if (this.retry) {
      const v = this.retry.onReset(reason);
      if (v === 'retry' && this.retryNow(attempt)) return;
      if (v === 'exhausted') this.markExhausted();
    }
    this.finish();
    const type = replyForReset(reason);
    stream.sendLocalReply(type, this.retry && this.retry.used > 0 ? { body: retriedBody(reason) } : undefined);
  }

  private onPerTryTimeout(attempt: Attempt): void {
    this.perTryTimer = undefined;
    if (this.current !== attempt || this.finished) return;
    const stream = this.stream;
    this.cluster.counters.upstream_rq_per_try_timeout++;
    attempt.host.rqTimeout++;
    attempt.abort();
    if (attempt.upstream) this.body?.detach(attempt.upstream);
    this.cluster.reportLocalOrigin(attempt.host, 'timeout');
    if (stream.responseStarted) {
      stream.addFlag('UT');
      this.finish();
      stream.resetDownstream();
      return;
    }
    if (this.retry) {
      const v = this.retry.onPerTryTimeout();
      if (v === 'retry' && this.retryNow(attempt)) return;
      if (v === 'exhausted') this.markExhausted();
    }
    this.finish();
    stream.sendLocalReply(LocalReply.PerTryTimeout);
  }

  private onGlobalTimeout(): void {
    this.globalTimer = undefined;
    if (this.finished) return;
    const stream = this.stream;
    this.cluster.counters.upstream_rq_timeout++;
    const attempt = this.current;
    if (attempt && !attempt.done) {
      attempt.host.rqTimeout++;
      attempt.abort();
      this.cluster.reportLocalOrigin(attempt.host, 'timeout');
    }
    this.finish();
    if (stream.responseStarted) {
      stream.addFlag('UT');
      stream.resetDownstream();
      return;
    }
    stream.sendLocalReply(LocalReply.UpstreamTimeout);
  }

  /** Starts a retry after the backoff if the body can be replayed and the cluster's retry budget allows. */
  private retryNow(failed: Attempt): boolean {
    if (this.body && !this.body.replayable) return false;
    if (!this.cluster.tryBeginRetry()) return false;
    failed.abort();
    this.current = undefined;
    const delay = this.retry!.nextBackoffMs();
    this.cluster.counters.upstream_rq_retry_backoff_exponential++;
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.attempt(true);
    }, delay);
    return true;
  }

  private markExhausted(): void {
    this.stream.addFlag('URX');
    this.cluster.counters.upstream_rq_retry_limit_exceeded++;
  }

  private onDownstreamReset(): void {
    if (this.finished) return;
    this.current?.abort();
    this.finish();
  }

  private clearPerTry(): void {
    if (this.perTryTimer) {
      this.clock.clearTimeout(this.perTryTimer);
      this.perTryTimer = undefined;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearPerTry();
    if (this.globalTimer) this.clock.clearTimeout(this.globalTimer);
    if (this.backoffTimer) {
      this.clock.clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
      this.cluster.endRetry();
    }
    this.globalTimer = undefined;
  }
}

/** "host:port", "[v6]:port" or "host" → parts. */
export function parseHostPort(s: string, defaultPort: number): { host: string; port: number } | undefined {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    const host = s.slice(1, close);
    const port = s[close + 1] === ':' ? Number(s.slice(close + 2)) : defaultPort;
    return Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : undefined;
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0 || s.indexOf(':') !== colon) return s ? { host: s, port: defaultPort } : undefined;
  const port = Number(s.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host: s.slice(0, colon), port } : undefined;
}
