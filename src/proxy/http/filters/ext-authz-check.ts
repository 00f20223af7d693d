// The two ways envoy.filters.http.ext_authz asks an authorization service about a request, both sent through the
// proxy's own clusters (sideRequest): the raw HTTP protocol (the request's headers replayed to the service, its
// status decides) and gRPC envoy.service.auth.v3.Authorization/Check (a CheckRequest with the request's attributes,
// a CheckResponse back). Each returns a protocol-neutral Decision that the filter applies.

import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMap } from '../../config/header-mutation.js';
import type { StringPredicate } from '../../config/string-matcher.js';
import type { ProxyRuntime } from '../../runtime.js';
import { sideRequest, type CancelSide, type SideFailure, type SideResponse } from '../../upstream/side-request.js';

/**
 * The proto codec (protobufjs and the Envoy types it needs) loads when a gRPC check is first configured, not with
 * the proxy: an idle sidecar without ext_authz does not carry it.
 */
type Codec = typeof import('../../../xds/codec.js');
let codec: Codec | undefined;
let loadingCodec: Promise<Codec> | undefined;
export function loadCodec(): Promise<Codec> {
  return (loadingCodec ??= import('../../../xds/codec.js').then((m) => (codec = m)));
}

/** What the filter learned about the request, independent of the protocol used to ask. */
export interface CheckInput {
  requestId: string;
  method: string;
  /** :path with the query, as Envoy sends it. */
  path: string;
  host: string;
  scheme: string;
  protocol: string;
  /** Lower-case names (pseudo-headers included), repeated values joined by ","; already filtered by allowed_headers. */
  headers: Record<string, string>;
  body: Buffer | undefined;
  source: PeerInfo;
  destination: PeerInfo;
  contextExtensions: Record<string, string>;
  sni: string | undefined;
}

export interface PeerInfo {
  address: string;
  port: number;
  principal: string;
  /** URL-encoded PEM, when include_peer_certificate is set and the peer showed one. */
  certificate?: string;
}

export type HeaderPair = readonly [string, string];

/** How a header from the authorization service edits the request or response. */
export interface HeaderEdit {
  key: string;
  value: string;
  mode: 'set' | 'append' | 'addIfAbsent' | 'setIfExists';
}

export type Decision =
  | { kind: 'ok'; upstream: HeaderEdit[]; removeUpstream: string[]; downstream: HeaderPair[] }
  | { kind: 'denied'; status: number; headers: HeaderPair[]; body: string }
  | { kind: 'error'; reason: string };

export interface HttpServiceConfig {
  kind: 'http';
  cluster: string;
  timeoutMs: number;
  pathPrefix: string;
  headersToAdd: HeaderPair[];
  /** Response headers copied to the upstream request on 200 (overriding), or appended; none when unset. */
  upstreamHeaders: StringPredicate | undefined;
  upstreamHeadersToAppend: StringPredicate | undefined;
  /** Response headers copied to the client on denial; all but Host when unset. */
  clientHeaders: StringPredicate | undefined;
  /** Response headers copied to the client on success; none when unset. */
  clientHeadersOnSuccess: StringPredicate | undefined;
}

export interface GrpcServiceConfig {
  kind: 'grpc';
  cluster: string;
  /** :authority of the call (envoy_grpc.authority, else the cluster name, as Envoy does). */
  authority: string;
  timeoutMs: number;
  initialMetadata: HeaderPair[];
  packAsBytes: boolean;
}

export type ServiceConfig = HttpServiceConfig | GrpcServiceConfig;

export type DecisionCallback = (d: Decision) => void;

/** Sends the check by the configured protocol; `cb` gets the decision unless the returned function cancels it. */
export function sendCheck(runtime: ProxyRuntime, svc: ServiceConfig, input: CheckInput, cb: DecisionCallback): CancelSide {
  return svc.kind === 'http' ? httpCheck(runtime, svc, input, cb) : grpcCheck(runtime, svc, input, cb);
}

const errorDecision = (reason: SideFailure | string): Decision => ({ kind: 'error', reason });

// ---------------------------------------------------------------- raw HTTP

/** Never copied to or from the authorization request: connection-level headers and those the proxy sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'content-length']);
/** Headers Envoy always adds to a denial when allowed_client_headers is set. */
const ALWAYS_ON_DENY = new Set(['www-authenticate', 'location']);

function httpCheck(runtime: ProxyRuntime, svc: HttpServiceConfig, input: CheckInput, cb: DecisionCallback): CancelSide {
  const headers: HeaderMap = {};
  for (const [k, v] of Object.entries(input.headers)) if (k.charCodeAt(0) !== 58 /* : */ && !HOP_BY_HOP.has(k)) headers[k] = v;
  for (const [k, v] of svc.headersToAdd) headers[k] = v;
  const body = input.body?.length ? input.body : undefined;
  headers['content-length'] = String(body?.length ?? 0);
  const spec = { method: input.method, path: svc.pathPrefix + input.path, authority: input.host, headers, hasBody: body !== undefined };
  return sideRequest(runtime, { cluster: svc.cluster, spec, body, timeoutMs: svc.timeoutMs }, (failure, res) => {
    cb(failure || !res ? errorDecision(failure ?? 'no response') : httpDecision(svc, res));
  });
}

/** 200 allows, a 5xx is the service failing (status_on_error applies), any other status denies with itself. */
export function httpDecision(svc: HttpServiceConfig, res: SideResponse): Decision {
  if (res.status >= 500 || res.status < 200) return errorDecision(`authorization service answered ${res.status}`);
  const pairs = responsePairs(res.headers);
  if (res.status === 200) {
    const upstream: HeaderEdit[] = [];
    for (const [key, value] of pairs) {
      if (svc.upstreamHeaders?.(key)) upstream.push({ key, value, mode: 'set' });
      else if (svc.upstreamHeadersToAppend?.(key)) upstream.push({ key, value, mode: 'append' });
    }
    // Envoy's convention: the service names request headers to drop in x-envoy-auth-headers-to-remove.
    const remove = String(res.headers['x-envoy-auth-headers-to-remove'] ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '' && s.charCodeAt(0) !== 58 && s !== 'host');
    const downstream = svc.clientHeadersOnSuccess ? pairs.filter(([k]) => svc.clientHeadersOnSuccess!(k)) : [];
    return { kind: 'ok', upstream, removeUpstream: remove, downstream };
  }
  const allowed = svc.clientHeaders;
  const headers = pairs.filter(([k]) => (allowed ? allowed(k) || ALWAYS_ON_DENY.has(k) : true));
  return { kind: 'denied', status: res.status, headers, body: res.body.toString('utf8') };
}

function responsePairs(h: IncomingHttpHeaders): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'date') continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, one]);
  }
  return out;
}

// ---------------------------------------------------------------- gRPC (envoy.service.auth.v3)

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
const CHECK_REQUEST = 'envoy.service.auth.v3.CheckRequest';
const CHECK_RESPONSE = 'envoy.service.auth.v3.CheckResponse';
const GRPC_OK = 0;

/**
 * gRPC over the cluster's HTTP/2 pool rather than @grpc/grpc-js: the pool already gives the call the cluster's
 * endpoints, load balancing, circuit breakers and upstream mTLS, and a unary call is one framed message each way.
 */
function grpcCheck(runtime: ProxyRuntime, svc: GrpcServiceConfig, input: CheckInput, cb: DecisionCallback): CancelSide {
  if (!codec) {
    // Only the first calls after start wait for the codec.
    let cancelled = false;
    let cancel: CancelSide = () => undefined;
    loadCodec().then(
      () => {
        if (!cancelled) cancel = grpcCheck(runtime, svc, input, cb);
      },
      (err: Error) => cb(errorDecision(`cannot load the gRPC codec: ${err.message}`)),
    );
    return () => {
      cancelled = true;
      cancel();
    };
  }
  let message: Uint8Array;
  try {
    message = codec.encodeJson(CHECK_REQUEST, checkRequestJson(input, svc.packAsBytes));
  } catch (err) {
    queueMicrotask(() => cb(errorDecision(`cannot encode CheckRequest: ${(err as Error).message}`)));
    return () => undefined;
  }
  const headers: HeaderMap = { 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${Math.max(1, Math.ceil(svc.timeoutMs))}m` };
  for (const [k, v] of svc.initialMetadata) headers[k] = v;
  const spec = { method: 'POST', path: CHECK_PATH, authority: svc.authority, headers, hasBody: true };
  return sideRequest(runtime, { cluster: svc.cluster, protocol: 'http2', spec, body: grpcFrame(message), timeoutMs: svc.timeoutMs }, (failure, res) => {
    cb(failure || !res ? errorDecision(failure ?? 'no response') : grpcDecision(res));
  });
}

/** The CheckRequest as proto3 JSON (what the codec encodes). */
export function checkRequestJson(input: CheckInput, packAsBytes: boolean): Record<string, unknown> {
  const peer = (p: PeerInfo) => ({
    address: { socketAddress: { address: p.address, portValue: p.port } },
    ...(p.principal ? { principal: p.principal } : {}),
    ...(p.certificate ? { certificate: p.certificate } : {}),
  });
  const body = input.body?.length ? (packAsBytes ? { rawBody: input.body.toString('base64') } : { body: input.body.toString('utf8') }) : {};
  return {
    attributes: {
      source: peer(input.source),
      destination: peer(input.destination),
      request: {
        time: new Date().toISOString(),
        http: {
          id: input.requestId,
          method: input.method,
          headers: input.headers,
          path: input.path,
          host: input.host,
          scheme: input.scheme,
          protocol: input.protocol,
          size: String(input.body?.length ?? 0),
          ...body,
        },
      },
      ...(Object.keys(input.contextExtensions).length ? { contextExtensions: input.contextExtensions } : {}),
      ...(input.sni ? { tlsSession: { sni: input.sni } } : {}),
    },
  };
}

function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0); // not compressed
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A failed call (transport or gRPC status) is an error; a CheckResponse with a non-OK status is a denial. */
export function grpcDecision(res: SideResponse): Decision {
  const grpcStatus = res.trailers?.['grpc-status'] ?? res.headers['grpc-status'];
  if (res.status !== 200) return errorDecision(`authorization service answered HTTP ${res.status}`);
  if (String(grpcStatus) !== '0') return errorDecision(`Check failed with grpc-status ${String(grpcStatus)}`);
  if (res.body.length < 5 || res.body.readUInt8(0) !== 0) return errorDecision('no (uncompressed) CheckResponse in the reply');
  let response: Json;
  try {
    response = codec!.decodeToJson(CHECK_RESPONSE, res.body.subarray(5, 5 + res.body.readUInt32BE(1)));
  } catch (err) {
    return errorDecision(`cannot decode CheckResponse: ${(err as Error).message}`);
  }
  if ((response.status?.code ?? GRPC_OK) === GRPC_OK) {
    const ok = (response.okResponse ?? {}) as Json;
    return {
      kind: 'ok',
      upstream: ((ok.headers ?? []) as Json[]).map(headerEdit),
      removeUpstream: ((ok.headersToRemove ?? []) as string[]).map((h) => h.toLowerCase()),
      downstream: ((ok.responseHeadersToAdd ?? []) as Json[]).map((o) => [String(o.header?.key ?? '').toLowerCase(), String(o.header?.value ?? '')] as const),
    };
  }
  const denied = (response.deniedResponse ?? {}) as Json;
  return {
    kind: 'denied',
    status: httpStatusCode(denied.status?.code) ?? 403,
    headers: ((denied.headers ?? []) as Json[]).map((o) => [String(o.header?.key ?? '').toLowerCase(), String(o.header?.value ?? '')] as const),
    body: String(denied.body ?? ''),
  };
}

/** HeaderValueOption: `append` defaults to false in ext_authz (overwrite); append_action, when set, is more precise. */
function headerEdit(o: Json): HeaderEdit {
  const key = String(o.header?.key ?? '').toLowerCase();
  const value = String(o.header?.value ?? '');
  switch (o.appendAction) {
    case 'ADD_IF_ABSENT':
      return { key, value, mode: 'addIfAbsent' };
    case 'OVERWRITE_IF_EXISTS_OR_ADD':
      return { key, value, mode: 'set' };
    case 'OVERWRITE_IF_EXISTS':
      return { key, value, mode: 'setIfExists' };
  }
  return { key, value, mode: o.append === true ? 'append' : 'set' };
}

/** Envoy's `envoy.type.v3.StatusCode` names (statusOnError may name one); a table, so parsing needs no protos. */
const STATUS_CODES: Record<string, number> = Object.fromEntries(
  'Continue:100 OK:200 Created:201 Accepted:202 NonAuthoritativeInformation:203 NoContent:204 ResetContent:205 PartialContent:206 MultiStatus:207 AlreadyReported:208 IMUsed:226 MultipleChoices:300 MovedPermanently:301 Found:302 SeeOther:303 NotModified:304 UseProxy:305 TemporaryRedirect:307 PermanentRedirect:308 BadRequest:400 Unauthorized:401 PaymentRequired:402 Forbidden:403 NotFound:404 MethodNotAllowed:405 NotAcceptable:406 ProxyAuthenticationRequired:407 RequestTimeout:408 Conflict:409 Gone:410 LengthRequired:411 PreconditionFailed:412 PayloadTooLarge:413 URITooLong:414 UnsupportedMediaType:415 RangeNotSatisfiable:416 ExpectationFailed:417 MisdirectedRequest:421 UnprocessableEntity:422 Locked:423 FailedDependency:424 UpgradeRequired:426 PreconditionRequired:428 TooManyRequests:429 RequestHeaderFieldsTooLarge:431 InternalServerError:500 NotImplemented:501 BadGateway:502 ServiceUnavailable:503 GatewayTimeout:504 HTTPVersionNotSupported:505 VariantAlsoNegotiates:506 InsufficientStorage:507 LoopDetected:508 NotExtended:510 NetworkAuthenticationRequired:511'
    .split(' ')
    .map((kv) => [kv.split(':')[0]!, Number(kv.split(':')[1])]),
);

/** envoy.type.v3.StatusCode by name ("Forbidden") or number; undefined for Empty/unknown (the caller's default applies). */
export function httpStatusCode(code: unknown): number | undefined {
  if (typeof code === 'number') return code >= 200 && code < 600 ? code : undefined;
  if (typeof code !== 'string' || code === '') return undefined;
  if (/^\d+$/.test(code)) return httpStatusCode(Number(code));
  return httpStatusCode(STATUS_CODES[code]);
}
