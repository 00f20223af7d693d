// Opening upstream TCP connections with a connect timeout (Envoy's cluster connect_timeout).

import net from 'node:net';

export class ConnectTimeoutError extends Error {
  readonly code = 'TRL_CONNECT_TIMEOUT';
  constructor(target: string, ms: number) {
    super(`connect to ${target} timed out after ${ms} ms`);
  }
}

/** Starts a TCP connection; the socket is destroyed with ConnectTimeoutError if it is not connected within `timeoutMs`. */
export function connectTcp(address: string, port: number, timeoutMs: number, allowHalfOpen = false): net.Socket {
  const socket = net.connect({ host: address, port, noDelay: true, allowHalfOpen });
  if (timeoutMs > 0) {
    const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(`${address}:${port}`, timeoutMs)), timeoutMs);
    const clear = () => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
  }
  return socket;
}

/** Errors that mean the connection was never established. */
export function isConnectError(err: NodeJS.ErrnoException | undefined): boolean {
  const c = err?.code;
  return c === 'ECONNREFUSED' || c === 'TRL_CONNECT_TIMEOUT' || c === 'EHOSTUNREACH' || c === 'ENETUNREACH' || c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EADDRNOTAVAIL' || c === 'ETIMEDOUT';
}
