// The proxy's error catalogue: stable codes for rejected config (TRL20xx) and for locally generated replies (TRL21xx).

import type { ResponseFlag } from './response-flags.js';

// ---------------------------------------------------------------- configuration

export const ConfigCode = {
  /** The whole snapshot was rejected (the xDS client NACKs it with the issues). */
  Rejected: 'TRL2000',
  /** A field has the wrong type or an impossible value. */
  InvalidField: 'TRL2001',
  /** A regular expression does not compile. */
  InvalidRegex: 'TRL2002',
  /** A reference (route config, cluster) names nothing in the snapshot. */
  UnknownReference: 'TRL2003',
  /** A filter or extension the proxy does not implement; ignored when optional. */
  UnsupportedExtension: 'TRL2004',
  /** A feature the proxy reads past (ignored, with a warning). */
  UnsupportedField: 'TRL2005',
  /** Two resources of one type share a name. */
  DuplicateName: 'TRL2006',
  /** A listener could not bind its address. */
  BindFailed: 'TRL2007',
} as const;

export type ConfigCodeValue = (typeof ConfigCode)[keyof typeof ConfigCode];

/** One problem found while compiling a snapshot. `resource` is "<type>/<name>", `field` a JSON Pointer inside it. */
export interface ConfigIssue {
  code: ConfigCodeValue;
  level: 'error' | 'warning';
  resource: string;
  field: string;
  message: string;
}

/** Thrown by `proxy.apply()` when a snapshot has errors; nothing of it was applied. */
export class ProxyConfigError extends Error {
  readonly code = ConfigCode.Rejected;
  constructor(readonly issues: ConfigIssue[]) {
    super(`config rejected: ${issues.filter((i) => i.level === 'error').map((i) => `${i.resource}${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'ProxyConfigError';
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

function reply(code: string, status: number, body: string, flag: ResponseFlag | undefined, details: string): LocalReplyType {
  return { code, status, body, flag, details };
}

export const LocalReply = {
  NoRoute: reply('TRL2101', 404, '', 'NR', 'route_not_found'),
  ClusterNotFound: reply('TRL2102', 503, '', 'NC', 'cluster_not_found'),
  NoHealthyUpstream: reply('TRL2103', 503, 'no healthy upstream', 'UH', 'no_healthy_upstream'),
  ConnectFailure: reply('TRL2104', 503, `${CONNECT_ERROR} reset reason: connection failure`, 'UF', 'upstream_reset_before_response_started{connection_failure}'),
  Overflow: reply('TRL2105', 503, `${CONNECT_ERROR} reset reason: overflow`, 'UO', 'upstream_reset_before_response_started{overflow}'),
  ConnectionTermination: reply('TRL2106', 503, `${CONNECT_ERROR} reset reason: connection termination`, 'UC', 'upstream_reset_before_response_started{connection_termination}'),
  RemoteReset: reply('TRL2107', 503, `${CONNECT_ERROR} reset reason: remote reset`, 'UR', 'upstream_reset_before_response_started{remote_reset}'),
  RefusedStream: reply('TRL2108', 503, `${CONNECT_ERROR} reset reason: remote refused stream reset`, 'UR', 'upstream_reset_before_response_started{remote_refused_stream_reset}'),
  UpstreamTimeout: reply('TRL2109', 504, 'upstream request timeout', 'UT', 'upstream_response_timeout'),
  PerTryTimeout: reply('TRL2110', 504, 'upstream request timeout', 'UT', 'upstream_per_try_timeout'),
  FaultAbort: reply('TRL2111', 503, 'fault filter abort', 'FI', 'fault_filter_abort'),
  UpgradeNotAllowed: reply('TRL2112', 403, '', undefined, 'upgrade_failed'),
  ListenerDraining: reply('TRL2113', 503, 'proxy is draining', undefined, 'listener_draining'),
  BadRequest: reply('TRL2114', 400, 'Bad Request', 'DPE', 'http1.codec_error'),
  MaxStreamDuration: reply('TRL2115', 408, 'downstream duration timeout', 'UMSDR', 'max_duration_timeout'),
  DirectResponse: reply('TRL2116', 200, '', undefined, 'direct_response'),
  Redirect: reply('TRL2117', 301, '', undefined, 'redirect'),
  CorsPreflight: reply('TRL2118', 200, '', undefined, 'cors_response'),
  RbacDenied: reply('TRL2119', 403, 'RBAC: access denied', undefined, 'rbac_access_denied_matched_policy'),
  JwtDenied: reply('TRL2120', 401, 'Jwt verification fails', undefined, 'jwt_authn_access_denied{Jwt_verification_fails}'),
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
