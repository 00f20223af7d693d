// The proxy's errors: config issues (codes TRL20xx) and the local replies it generates (TRL21xx), with Envoy's status,
// body, response flag and details. The codes, names and default statuses come from the catalogue (src/errors/catalogue.ts).

import { codesOf, ProxyConfigCodes, ProxyReplyCodes, type ProxyReplyEntry } from '../errors/catalogue.js';
import type { CodedRejection } from '../xds/nack.js';
import type { ResponseFlag } from './response-flags.js';

// ---------------------------------------------------------------- configuration

/** The config codes by name (ConfigCode.InvalidField is 'TRL2001'). */
export const ConfigCode = codesOf(ProxyConfigCodes);

export type ConfigCodeValue = (typeof ConfigCode)[keyof typeof ConfigCode];

/** One problem found while compiling a snapshot. `resource` is "<type>/<name>", `field` a JSON Pointer inside it. */
export interface ConfigIssue {
  code: ConfigCodeValue;
  level: 'error' | 'warning';
  resource: string;
  field: string;
  message: string;
}

/** `TRL2001 Cluster/outbound|9080||reviews.default.svc.cluster.local/connectTimeout: not a duration` */
export function formatIssue(i: ConfigIssue): string {
  return `${i.code} ${i.resource}${i.field}: ${i.message}`;
}

/**
 * Thrown by `proxy.apply()` when a snapshot has errors; nothing of it was applied. The message lists the errors, each
 * led by its code; `rejected` is what an xDS NACK carries (src/xds/nack.ts).
 */
export class ProxyConfigError extends Error implements CodedRejection {
  readonly code = ConfigCode.Rejected;
  readonly rejected: readonly ConfigIssue[];
  constructor(readonly issues: ConfigIssue[]) {
    const errors = issues.filter((i) => i.level === 'error');
    super(errors.map(formatIssue).join('; '));
    this.name = 'ProxyConfigError';
    this.rejected = errors;
  }
}

/** Collects issues while a compiler walks one resource; compilers never throw on bad input. */
export class IssueSink {
  readonly issues: ConfigIssue[] = [];
  constructor(private resource = '') {}

  get resourceName(): string {
    return this.resource;
  }

  at(resource: string): this {
    this.resource = resource;
    return this;
  }

  error(code: ConfigCodeValue, field: string, message: string): void {
    this.issues.push({ code, level: 'error', resource: this.resource, field, message });
  }

  warn(code: ConfigCodeValue, field: string, message: string): void {
    this.issues.push({ code, level: 'warning', resource: this.resource, field, message });
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.level === 'error');
  }
}

// ---------------------------------------------------------------- local replies

/** A reply the proxy generates itself, with Envoy's status, body text, response flag and response-code details. */
export interface LocalReplyType {
  code: string;
  status: number;
  body: string;
  flag: ResponseFlag | undefined;
  details: string;
}

const CONNECT_ERROR = 'upstream connect error or disconnect/reset before headers.';

function reply(entry: ProxyReplyEntry, body: string, flag: ResponseFlag | undefined, details: string): LocalReplyType {
  return { code: entry.code, status: entry.status, body, flag, details };
}

const R = ProxyReplyCodes;

export const LocalReply = {
  NoRoute: reply(R.NoRoute, '', 'NR', 'route_not_found'),
  ClusterNotFound: reply(R.ClusterNotFound, '', 'NC', 'cluster_not_found'),
  NoHealthyUpstream: reply(R.NoHealthyUpstream, 'no healthy upstream', 'UH', 'no_healthy_upstream'),
  ConnectFailure: reply(R.ConnectFailure, `${CONNECT_ERROR} reset reason: connection failure`, 'UF', 'upstream_reset_before_response_started{connection_failure}'),
  Overflow: reply(R.Overflow, `${CONNECT_ERROR} reset reason: overflow`, 'UO', 'upstream_reset_before_response_started{overflow}'),
  ConnectionTermination: reply(R.ConnectionTermination, `${CONNECT_ERROR} reset reason: connection termination`, 'UC', 'upstream_reset_before_response_started{connection_termination}'),
  RemoteReset: reply(R.RemoteReset, `${CONNECT_ERROR} reset reason: remote reset`, 'UR', 'upstream_reset_before_response_started{remote_reset}'),
  RefusedStream: reply(R.RefusedStream, `${CONNECT_ERROR} reset reason: remote refused stream reset`, 'UR', 'upstream_reset_before_response_started{remote_refused_stream_reset}'),
  UpstreamTimeout: reply(R.UpstreamTimeout, 'upstream request timeout', 'UT', 'upstream_response_timeout'),
  PerTryTimeout: reply(R.PerTryTimeout, 'upstream request timeout', 'UT', 'upstream_per_try_timeout'),
  FaultAbort: reply(R.FaultAbort, 'fault filter abort', 'FI', 'fault_filter_abort'),
  UpgradeNotAllowed: reply(R.UpgradeNotAllowed, '', undefined, 'upgrade_failed'),
  ListenerDraining: reply(R.ListenerDraining, 'proxy is draining', undefined, 'listener_draining'),
  BadRequest: reply(R.BadRequest, 'Bad Request', 'DPE', 'http1.codec_error'),
  MaxStreamDuration: reply(R.MaxStreamDuration, 'downstream duration timeout', 'UMSDR', 'max_duration_timeout'),
  DirectResponse: reply(R.DirectResponse, '', undefined, 'direct_response'),
  Redirect: reply(R.Redirect, '', undefined, 'redirect'),
  CorsPreflight: reply(R.CorsPreflight, '', undefined, 'cors_response'),
  RbacDenied: reply(R.RbacDenied, 'RBAC: access denied', undefined, 'rbac_access_denied_matched_policy'),
  JwtDenied: reply(R.JwtDenied, 'Jwt verification fails', undefined, 'jwt_authn_access_denied{Jwt_verification_fails}'),
  // The two ways ext_authz ends a request itself carry Envoy's flag UAEX; a body over its limit does not.
  ExtAuthzDenied: reply(R.ExtAuthzDenied, '', 'UAEX', 'ext_authz_denied'),
  ExtAuthzError: reply(R.ExtAuthzError, '', 'UAEX', 'ext_authz_error'),
  ExtAuthzBodyTooLarge: reply(R.ExtAuthzBodyTooLarge, 'Payload Too Large', undefined, 'request_payload_too_large'),
} as const;

/** Why an upstream attempt ended without a response; the names follow Envoy's stream reset reasons. */
export type ResetReason =
  | 'connection_failure'
  | 'connection_termination'
  | 'remote_reset'
  | 'remote_refused_stream_reset'
  | 'local_reset'
  | 'overflow'
  | 'timeout';

/** The local reply Envoy sends when an attempt ends with `reason` before response headers. */
export function replyForReset(reason: ResetReason): LocalReplyType {
  switch (reason) {
    case 'connection_failure':
      return LocalReply.ConnectFailure;
    case 'overflow':
      return LocalReply.Overflow;
    case 'remote_reset':
      return LocalReply.RemoteReset;
    case 'remote_refused_stream_reset':
      return LocalReply.RefusedStream;
    case 'timeout':
      return LocalReply.PerTryTimeout;
    default:
      return LocalReply.ConnectionTermination;
  }
}

/** Envoy's wording once the router retried: "retried and the latest reset reason: …". */
export function retriedBody(reason: ResetReason): string {
  return `${CONNECT_ERROR} retried and the latest reset reason: ${reason.replace(/_/g, ' ')}`;
}
