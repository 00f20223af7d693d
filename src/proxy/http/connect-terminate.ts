// CONNECT termination (a route whose CONNECT upgrade has connect_config; Istio's `connect_terminate` listener): an
// HTTP/2 CONNECT stream becomes a TCP connection to the route's cluster — for HBONE, an internal listener that serves
// it as a connection to the authority (the original destination), from the peer whose certificate the downstream TLS
// verified. The stream is answered 200 once the upstream is connected, then bytes flow both ways.

import type http2 from 'node:http2';
import type { MatchInput } from '../config/match-input.js';
import { splitAuthority } from '../hbone/hbone.js';
import { bridge } from '../tcp/bridge.js';
import type { ConnectionManager } from './connection-manager.js';
import type { ConnectionInfo } from './http-stream.js';

/** What a CONNECT request offers route matching: its method and authority, no path. */
function connectInput(authority: string, headers: http2.IncomingHttpHeaders): MatchInput {
  return {
    method: 'CONNECT',
    authority: authority.toLowerCase(),
    pathOnly: '',
    query: '',
    header: (name) => {
      const v = headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    },
    queryParams: () => new URLSearchParams(),
    isGrpc: false,
  };
}

/** Answers a CONNECT stream on `cm`'s HTTP/2 connection from a peer described by `conn`. */
export function terminateConnect(cm: ConnectionManager, conn: ConnectionInfo, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const reply = (status: number) => {
    if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
  };
  stream.on('error', () => undefined);
  cm.counters.downstream_rq_total++;
  const authority = String(headers[':authority'] ?? '');
  const target = splitAuthority(authority);
  const route = cm.routeTable()?.route(connectInput(authority, headers));
  const action = route?.action;
  if (!target || !action || action.kind !== 'forward' || !action.connectTerminate || !action.cluster) return reply(404);
  const cluster = cm.runtime.cluster(action.cluster);
  const host = cluster?.chooseHost(undefined);
  if (!cluster || !host) return reply(503);
  if (!cluster.tryOpenTcpConnection(host)) return reply(503);
  // The stream's peer, with the destination it asked for: an internal listener restores it as the local address.
  const info: ConnectionInfo = { ...conn, localAddress: target.host, localPort: target.port, restored: true };
  const { socket, ready } = cluster.dial(host, { allowHalfOpen: true, downstream: info, target: { address: target.host, port: target.port } });
  let connected = false;
  socket.once(ready, () => {
    connected = true;
    if (stream.destroyed) return void socket.destroy();
    stream.respond({ ':status': 200 });
    bridge(stream, socket).closed.then(({ aToB, bToA }) => cluster.closeTcpConnection(host, bToA, aToB));
  });
  socket.once('error', () => {
    if (connected) return;
    cluster.closeTcpConnection(host, 0, 0);
    cluster.counters.upstream_cx_connect_fail++;
    reply(503);
  });
}
