// The HTTP filter contract: decode on request headers in order, encode on response headers in reverse order.

import type { HeaderMap } from '../config/header-mutation.js';
import type { HttpStream } from './http-stream.js';

/** Returned by decodeHeaders: go on to the next filter, or stop (the filter replied or will call stream.continueDecoding()). */
export const enum FilterStatus {
  Continue = 0,
  Stop = 1,
}

export interface HttpFilter {
  /** The name it is configured under in the connection manager (the key of typed_per_filter_config). */
  readonly name: string;
  decodeHeaders(stream: HttpStream): FilterStatus;
  /** Sees (and may edit) every response's headers, upstream or local, before they are written. */
  encodeHeaders?(stream: HttpStream, status: number, headers: HeaderMap): void;
}
