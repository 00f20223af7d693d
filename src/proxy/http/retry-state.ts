// The retry mechanism: decides whether an attempt's outcome is retriable under the route's policy and computes the backoff.

import type { IncomingHttpHeaders } from 'node:http';
import { RetryOn, type CompiledRetryPolicy } from '../config/route-action.js';
import type { ResetReason } from '../errors.js';

const GRPC_CODES: Record<string, number> = {
  '1': RetryOn.cancelled,
  '4': RetryOn['deadline-exceeded'],
  '8': RetryOn['resource-exhausted'],
  '13': RetryOn.internal,
  '14': RetryOn.unavailable,
};

export type RetryVerdict = 'retry' | 'no' | 'exhausted';

export class RetryState {
  private retriesUsed = 0;

  constructor(readonly policy: CompiledRetryPolicy, private readonly isGrpc: boolean) {}

  get used(): number {
    return this.retriesUsed;
  }

  private verdict(retriable: boolean): RetryVerdict {
    if (!retriable) return 'no';
    return this.retriesUsed < this.policy.numRetries ? 'retry' : 'exhausted';
  }

  /** On response headers: 5xx, gateway errors, retriable 4xx/status codes, or gRPC status in trailers-only headers. */
  onResponse(status: number, headers: IncomingHttpHeaders): RetryVerdict {
    const on = this.policy.retryOn;
    if (on === 0) return 'no';
    let retriable = false;
    if (on & RetryOn['5xx'] && status >= 500) retriable = true;
    else if (on & RetryOn['gateway-error'] && (status === 502 || status === 503 || status === 504)) retriable = true;
    else if (on & RetryOn['retriable-4xx'] && status === 409) retriable = true;
    else if (on & RetryOn['retriable-status-codes'] && this.policy.retriableStatusCodes.has(status)) retriable = true;
    if (!retriable && this.isGrpc && on & 0x1f0000) {
      const gs = headers['grpc-status'];
      if (typeof gs === 'string') {
        const bit = GRPC_CODES[gs];
        if (bit !== undefined && on & bit) retriable = true;
      }
    }
    return this.verdict(retriable);
  }

  /** On a reset before response headers (connection failure, termination, refused stream). */
  onReset(reason: ResetReason): RetryVerdict {
    const on = this.policy.retryOn;
    if (reason === 'overflow' || reason === 'local_reset') return 'no';
    let retriable = (on & (RetryOn['5xx'] | RetryOn['gateway-error'] | RetryOn.reset)) !== 0;
    if (!retriable && on & RetryOn['connect-failure'] && reason === 'connection_failure') retriable = true;
    if (!retriable && on & RetryOn['refused-stream'] && reason === 'remote_refused_stream_reset') retriable = true;
    if (!retriable && on & RetryOn['reset-before-request'] && reason === 'connection_failure') retriable = true;
    return this.verdict(retriable);
  }

  /** A per-try timeout counts as a read timeout: retried under 5xx, gateway-error and reset. */
  onPerTryTimeout(): RetryVerdict {
    return this.verdict((this.policy.retryOn & (RetryOn['5xx'] | RetryOn['gateway-error'] | RetryOn.reset)) !== 0);
  }

  /** Counts a retry and returns its backoff: fully jittered exponential, [0, (2^n − 1) × base], capped at max. */
  nextBackoffMs(): number {
    this.retriesUsed++;
    const base = this.policy.baseIntervalMs;
    const ceiling = Math.min(((1 << Math.min(this.retriesUsed, 20)) - 1) * base, this.policy.maxIntervalMs);
    return Math.floor(Math.random() * (ceiling + 1));
  }
}
