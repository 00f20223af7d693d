// The console API's errors: one per failure, named as the JSON body's `error.code` (VIEW_ONLY), with its catalogue
// code (`error.trl`, TRL3003) and HTTP status from src/errors/catalogue.ts, and the default message sent. Tests assert codes.

import { ConsoleApiCodes, type ConsoleApiEntry } from '../../errors/catalogue.js';

const C = ConsoleApiCodes;

function error(entry: ConsoleApiEntry, message: string): { trl: string; status: number; message: string } {
  return { trl: entry.code, status: entry.status, message };
}

export const ERRORS = {
  UNAUTHORIZED: error(C.UNAUTHORIZED, 'a token is required: send "Authorization: Bearer <token>" or log in'),
  HOST_NOT_ALLOWED: error(C.HOST_NOT_ALLOWED, 'this console only answers to a loopback host name'),
  VIEW_ONLY: error(C.VIEW_ONLY, 'the console is in view-only mode: changes are not allowed'),
  CROSS_SITE: error(C.CROSS_SITE, 'the request comes from another site'),
  NOT_FOUND: error(C.NOT_FOUND, 'not found'),
  METHOD_NOT_ALLOWED: error(C.METHOD_NOT_ALLOWED, 'method not allowed'),
  UNSUPPORTED_MEDIA_TYPE: error(C.UNSUPPORTED_MEDIA_TYPE, 'send JSON (application/json) or YAML (application/yaml)'),
  PAYLOAD_TOO_LARGE: error(C.PAYLOAD_TOO_LARGE, 'request body too large'),
  BAD_REQUEST: error(C.BAD_REQUEST, 'bad request'),
  INVALID_YAML: error(C.INVALID_YAML, 'the YAML does not parse'),
  VALIDATION_FAILED: error(C.VALIDATION_FAILED, 'the object does not pass validation'),
  NAME_MISMATCH: error(C.NAME_MISMATCH, 'the object does not match the one being edited'),
  NAMESPACE_MISMATCH: error(C.NAMESPACE_MISMATCH, 'the object is in another namespace'),
  UNSUPPORTED: error(C.UNSUPPORTED, 'this kind cannot be written from the console'),
  INVALID_ANNOTATION: error(C.INVALID_ANNOTATION, 'invalid annotation'),
  ISTIO_API_DISABLED: error(C.ISTIO_API_DISABLED, 'this needs the control plane API, which is disabled (istio_api_enabled: false)'),
  METRICS_UNAVAILABLE: error(C.METRICS_UNAVAILABLE, 'no Prometheus is configured'),
  PROMETHEUS_ERROR: error(C.PROMETHEUS_ERROR, 'Prometheus failed'),
  INTERNAL: error(C.INTERNAL, 'internal error'),
  CONTROL_PLANE_ERROR: error(C.CONTROL_PLANE_ERROR, 'the control plane did not answer'),
} as const satisfies Record<keyof typeof ConsoleApiCodes, unknown>;

export type ErrorCode = keyof typeof ERRORS;

/** An API failure. Its JSON body is `{error: {code: 'VIEW_ONLY', trl: 'TRL3003', message, ...details}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly trl: string;
  constructor(readonly code: ErrorCode, message?: string, readonly details?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
    this.trl = ERRORS[code].trl;
  }

  toJSON(): Record<string, unknown> {
    return { error: { code: this.code, trl: this.trl, message: this.message, ...this.details } };
  }
}
