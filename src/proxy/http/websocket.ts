// HTTP/1.1 upgrades (WebSocket): route like a request, then tunnel raw bytes both ways between the client and the chosen host.

import http from 'node:http';
import type net from 'node:net';
import type { ForwardAction } from '../config/route-action.js';
import { LocalReply } from '../errors.js';
import type { ConnectionManager } from './connection-manager.js';
import { computeHash } from './hash-policy.js';
import { HttpStream, type ConnectionInfo } from './http-stream.js';
import { applyRewrites, resolveCluster } from './router.js';

/** Entry point from the HTTP/1.1 codec's 'upgrade' event. */
export function handleUpgrade(cm: ConnectionManager, info: ConnectionInfo, req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
  // A ServerResponse bound to the raw socket lets local replies (403, 503…) go out like any other response.
  const res = new http.ServerResponse(req);
  res.assignSocket(socket);
  res.sendDate = false;
  res.shouldKeepAlive = false;
  cm.counters.downstream_rq_total++;
  cm.counters.downstream_rq_http1_total++;
  cm.gauges.downstream_rq_active++;
  let stream: HttpStream;
  try {
    stream = new HttpStream(cm, info, req, res, false);
  } catch {
    cm.gauges.downstream_rq_active--;
    socket.destroy();
    return;
  }
  const type = String(req.headers.upgrade ?? '').toLowerCase();
  // "Upgrade: h2c" (curl --http2 on http://) is ignored as Envoy does: a plain HTTP/1.1 exchange, then the
  // connection closes (the codec has already handed the socket over).
  stream.upgradeType = type === 'h2c' ? undefined : type;
  (stream as UpgradeStream).head = head;
  let closed = false;
  const close = (finished: boolean) => {
    if (closed) return;
    closed = true;
    cm.gauges.downstream_rq_active--;
    stream.onClose(finished);
  };
  res.once('finish', () => {
    // a local reply (no tunnel): the connection ends with it
    if (!(stream as UpgradeStream).tunnelled) {
      socket.end();
      close(true);
    }
  });
  socket.once('close', () => {
    if ((stream as UpgradeStream).tunnelled) {
      stream.bytesReceived = socket.bytesRead;
      stream.bytesSent = socket.bytesWritten;
    }
    close(stream.responseStarted);
  });
  const table = cm.routeTable();
  stream.routeTable = table;
  stream.route = table?.route(stream);
  stream.decode();
}

interface UpgradeStream extends HttpStream {
  head: Buffer;
  tunnelled: boolean;
}

function upgradeAllowed(stream: HttpStream, action: ForwardAction): boolean {
  const type = stream.upgradeType!;
  const routeSetting = action.upgrades.get(type);
  if (routeSetting !== undefined) return routeSetting;
  return stream.hcm.config.upgrades.get(type) === true;
}

/** Called by the router for an upgrade request whose route forwards. */
export function tunnelUpgrade(s: HttpStream, action: ForwardAction): void {
  const stream = s as UpgradeStream;
  if (!upgradeAllowed(stream, action)) {
    stream.hcm.counters.downstream_rq_ws_on_non_ws_route++;
    stream.sendLocalReply(LocalReply.UpgradeNotAllowed);
    return;
  }
  const cluster = resolveCluster(stream, action);
  if (!cluster) return;
  stream.applyRequestMutations();
  applyRewrites(stream, action);
  const hash = action.hashPolicies.length ? computeHash(stream, action.hashPolicies) : undefined;
  const host = cluster.chooseHost(hash);
  if (!host) {
    stream.sendLocalReply(LocalReply.NoHealthyUpstream);
    return;
  }
  stream.upstreamHostId = host.id;
  stream.attempts = 1;
  if (!cluster.tryOpenTcpConnection(host)) {
    stream.sendLocalReply(LocalReply.Overflow);
    return;
  }
  const downstream = stream.res.socket as net.Socket;
  const upstream = cluster.dial(host, { allowHalfOpen: false, downstream: stream.conn }).socket;
  let connected = false;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    cluster.closeTcpConnection(host, upstream.bytesRead, upstream.bytesWritten);
  };
  upstream.once('close', release);
  upstream.on('error', (err) => {
    stream.upstreamFailure = err.message;
    if (!connected) {
      cluster.counters.upstream_cx_connect_fail++;
      cluster.reportLocalOrigin(host, 'connect_failed');
      stream.sendLocalReply(LocalReply.ConnectFailure);
    } else {
      downstream.destroy();
    }
  });
  // Upgrades are not retried and have no route timeout; the stream idle timeout bounds a silent tunnel.
  const idle = stream.hcm.config.streamIdleTimeoutMs;
  upstream.once('connect', () => {
    connected = true;
    stream.tunnelled = true;
    cluster.reportLocalOrigin(host, 'connect_success');
    const headers = { ...stream.headers, connection: 'Upgrade', upgrade: String(stream.req.headers.upgrade) };
    let head = `${stream.method} ${stream.path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) head += `${k}: ${one}\r\n`;
      else head += `${k}: ${v}\r\n`;
    }
    upstream.write(head + '\r\n');
    if (stream.head.length) upstream.write(stream.head);
    // The upstream's response (101 or an error) is relayed as is; its status line is read for the record.
    upstream.once('data', (chunk: Buffer) => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 16)));
      stream.responseCode = m ? Number(m[1]) : 0;
      stream.responseStarted = true;
      stream.firstUpstreamByteMs = stream.elapsedMs();
      if (stream.responseCode === 101) stream.hcm.counters.downstream_cx_upgrades_total++;
    });
    upstream.pipe(downstream);
    downstream.pipe(upstream);
    if (idle > 0) {
      downstream.setTimeout(idle, () => {
        downstream.destroy();
        upstream.destroy();
      });
    }
  });
  downstream.once('close', () => upstream.destroy());
  upstream.once('end', () => downstream.end());
  downstream.once('end', () => upstream.end());
}
