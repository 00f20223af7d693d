// The server's reading of a NACK: a request's error_detail (google.rpc.Status, decoded by protobufjs) → the message
// and the coded items Trellis's proxies attach as google.rpc.ErrorInfo (nack.ts writes them).

import { ERROR_DOMAIN, ERROR_INFO_URL, type NackDetail, type RejectedItem, type WireStatus } from './nack.js';
import { envoyType } from './protos.js';

/** The NACK a request's error_detail holds, or undefined when the request is an ACK. */
export function nackDetail(status: WireStatus | undefined): NackDetail | undefined {
  if (!status || (!status.message && !status.code)) return undefined;
  const info = envoyType('google.rpc.ErrorInfo');
  const rejected: RejectedItem[] = [];
  for (const d of status.details ?? []) {
    if (d.type_url !== ERROR_INFO_URL || !d.value) continue;
    const e = info.toObject(info.decode(d.value), { objects: true, defaults: true }) as { reason: string; domain: string; metadata: Record<string, string> };
    if (e.domain !== ERROR_DOMAIN) continue;
    rejected.push({ code: e.reason, resource: e.metadata.resource ?? '', field: e.metadata.field ?? '', message: e.metadata.message ?? '' });
  }
  return { status: status.code ?? 0, message: status.message || `code ${status.code}`, rejected };
}
