// What a NACK carries (DiscoveryRequest.error_detail, a google.rpc.Status): INVALID_ARGUMENT, the error's message, and
// one google.rpc.ErrorInfo per rejected item whose reason is the item's catalogue code, so the control plane shows
// which codes a proxy rejected without reading them out of the message text. The proxy's side, in proto3 JSON that
// either client codec encodes (no protobuf library here); the server reads it back in nack-detail.ts.

/** google.rpc.Code INVALID_ARGUMENT: the update was read and refused (Envoy NACKs with it too). */
export const INVALID_ARGUMENT = 3;
export const ERROR_INFO_URL = 'type.googleapis.com/google.rpc.ErrorInfo';
/** ErrorInfo.domain: the reasons are codes of Trellis's catalogue (src/errors/catalogue.ts). */
export const ERROR_DOMAIN = 'trellis';

/** One rejected item of an xDS update: its code, the resource ("Cluster/<name>"), a JSON Pointer inside it, what is wrong. */
export interface RejectedItem {
  code: string;
  resource: string;
  field: string;
  message: string;
}

/** An error `AdsClient`'s onUpdate throws to NACK with coded items (the proxy's ProxyConfigError is one). */
export interface CodedRejection extends Error {
  readonly rejected: readonly RejectedItem[];
}

/** google.rpc.Status as protobufjs reads and writes it (Any keeps `type_url`). */
export interface WireStatus {
  code?: number;
  message?: string;
  details?: Array<{ type_url?: string; value?: Uint8Array }>;
}

/** What a proxy's NACK said, as the ADS server keeps it and /debug/syncz shows it. */
export interface NackDetail {
  /** The google.rpc.Code of error_detail (3, INVALID_ARGUMENT, from Trellis's and Envoy's proxies). */
  status: number;
  message: string;
  /** The coded items, when the proxy sent them (Trellis's proxy does; Envoy sends a message only). */
  rejected: RejectedItem[];
}

/** google.rpc.Status as a NACK's proto3 JSON: the ErrorInfo details as Anys (`{"@type", reason, domain, metadata}`). */
export interface NackStatus {
  [field: string]: unknown;
  code: number;
  message: string;
  details: Array<{ '@type': string; reason: string; domain: string; metadata: Record<string, string> }>;
}

function isCoded(err: unknown): err is CodedRejection {
  return err instanceof Error && Array.isArray((err as Partial<CodedRejection>).rejected);
}

/** The error_detail of a NACK for `err`. */
export function nackStatus(err: unknown): NackStatus {
  const message = err instanceof Error ? err.message : String(err);
  const rejected = isCoded(err) ? err.rejected : [];
  const details = rejected.map((r) => ({ '@type': ERROR_INFO_URL, reason: r.code, domain: ERROR_DOMAIN, metadata: { resource: r.resource, field: r.field, message: r.message } }));
  return { code: INVALID_ARGUMENT, message, details };
}
