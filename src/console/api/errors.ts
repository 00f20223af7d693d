// The console API's error catalogue: one stable code per failure, with its HTTP status. Tests assert codes.

export const ERRORS = {
  UNAUTHORIZED: { status: 401, message: 'a token is required: send "Authorization: Bearer <token>" or log in' },
  HOST_NOT_ALLOWED: { status: 403, message: 'this console only answers to a loopback host name' },
  VIEW_ONLY: { status: 403, message: 'the console is in view-only mode: changes are not allowed' },
  CROSS_SITE: { status: 403, message: 'the request comes from another site' },
  NOT_FOUND: { status: 404, message: 'not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'send JSON (application/json) or YAML (application/yaml)' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'request body too large' },
  BAD_REQUEST: { status: 400, message: 'bad request' },
  INVALID_YAML: { status: 422, message: 'the YAML does not parse' },
  VALIDATION_FAILED: { status: 422, message: 'the object does not pass validation' },
  NAME_MISMATCH: { status: 422, message: 'the object does not match the one being edited' },
  NAMESPACE_MISMATCH: { status: 422, message: 'the object is in another namespace' },
  UNSUPPORTED: { status: 422, message: 'this kind cannot be written from the console' },
  INVALID_ANNOTATION: { status: 422, message: 'invalid annotation' },
  ISTIO_API_DISABLED: { status: 503, message: 'this needs the control plane API, which is disabled (istio_api_enabled: false)' },
  METRICS_UNAVAILABLE: { status: 503, message: 'no Prometheus is configured' },
  PROMETHEUS_ERROR: { status: 502, message: 'Prometheus failed' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, message?: string, readonly details?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }

  toJSON(): Record<string, unknown> {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** Mesh write failures (`WriteResult.code`) mapped onto the catalogue. */
export function writeErrorCode(code: string): ErrorCode {
  return code in ERRORS ? (code as ErrorCode) : 'BAD_REQUEST';
}
