// Opening upstream TCP connections with a connect timeout (Envoy's cluster connect_timeout).

import net from 'node:net';
import tls from 'node:tls';

export class ConnectTimeoutError extends Error {
  readonly code = 'TRL_CONNECT_TIMEOUT';
  constructor(target: string, ms: number) {
    super(`connect to ${target} timed out after ${ms} ms`);
  }
}

/**
 * Starts a TCP (or, with `tlsOptions`, TLS) connection; the socket is destroyed with ConnectTimeoutError if it is not
 * connected (for TLS: the handshake done) within `timeoutMs`. Writes before that are buffered by the socket. `localAddress`
 * is the cluster's upstreamBindConfig source address.
 */
export function connectTcp(address: string, port: number, timeoutMs: number, allowHalfOpen = false, tlsOptions?: tls.ConnectionOptions, localAddress?: string): net.Socket {
  const local = localAddress ? { localAddress } : {};
  const socket: net.Socket = tlsOptions ? tls.connect({ ...tlsOptions, ...local, host: address, port } as tls.ConnectionOptions) : net.connect({ host: address, port, noDelay: true, allowHalfOpen, ...local });
  if (tlsOptions) socket.setNoDelay(true);
  if (timeoutMs > 0) {
    const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(`${address}:${port}`, timeoutMs)), timeoutMs);
    const clear = () => clearTimeout(timer);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', clear);
    socket.once('close', clear);
  }
  return socket;
}

/** Errors that mean the connection was never established. */
export function isConnectError(err: NodeJS.ErrnoException | undefined): boolean {
  const c = err?.code;
  return c === 'ECONNREFUSED' || c === 'TRL_CONNECT_TIMEOUT' || c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EADDRNOTAVAIL' || c === 'ETIMEDOUT';
}
