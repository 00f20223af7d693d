// HBONE, Istio's tunnel between workloads in ambient mode: each TCP connection is an HTTP/2 CONNECT stream, its
// original destination in `:authority`, over mutual TLS to port 15008 of the destination's node proxy (or of an
// HBONE-capable sidecar or waypoint). The client keeps one HTTP/2 session per (own identity, peer, peer identities
// accepted) and opens a stream per connection; the server terminates TLS (a client certificate from the mesh roots is
// required), then HTTP/2, and hands each CONNECT stream on with the peer's identity. Built on node:tls and node:http2.

import http2 from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';
import { parseHostPort } from '../http/router.js';
import { peerPrincipal } from '../tls/tls-context.js';

/** A workload identity in PEM: its certificate chain and key, and the mesh roots it trusts. */
export interface TlsIdentity {
  certChain: string;
  privateKey: string;
  rootCert: string;
}

/** Larger than HTTP/2's 64 KiB default: a tunnel carries whole responses, and a small window stalls them. */
const WINDOW = 4 * 1024 * 1024;
const SETTINGS: http2.Settings = { initialWindowSize: WINDOW, enablePush: false };
/** A session with no stream closes after this long (ztunnel's pool keeps idle connections briefly too). */
const IDLE_SESSION_MS = 10_000;

/** An HBONE request failed: the peer answered with a status (401 for a policy denial), or the session failed. */
export class HboneError extends Error {
  readonly code = 'TRL_HBONE';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface HboneTarget {
  /** The peer's HBONE address and port (15008). */
  address: string;
  port: number;
  /** Who this side is, and a key that tells identities apart (sessions are per identity). */
  identity: TlsIdentity;
  identityKey: string;
  /** SPIFFE IDs the peer may present (the destination workload's, or its waypoint's); empty: any the roots vouch for. */
  peerPrincipals: readonly string[];
  /** Opens the TCP connection under the session (the node proxy opens it from inside the source pod). */
  dial(): net.Socket;
}

interface Session {
  session: http2.ClientHttp2Session;
  streams: number;
}

const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** The client side: sessions pooled by (identity, peer, accepted peer identities), a CONNECT stream per tunnel. */
export class HboneClient {
  private readonly sessions = new Map<string, Session>();

  /** Sessions open now (tests and the admin port read it). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private session(t: HboneTarget): Session {
    const key = `${t.identityKey}|${hostPort(t.address, t.port)}|${[...t.peerPrincipals].sort().join(',')}`;
    const existing = this.sessions.get(key);
    if (existing && !existing.session.closed && !existing.session.destroyed) return existing;
    const principals = new Set(t.peerPrincipals);
    const session = http2.connect(`https://${hostPort(t.address, t.port)}`, {
      settings: SETTINGS,
      createConnection: () =>
        tls.connect({
          socket: t.dial(),
          cert: t.identity.certChain,
          key: t.identity.privateKey,
          ca: t.identity.rootCert,
          ALPNProtocols: ['h2'],
          minVersion: 'TLSv1.2',
          // The chain is checked against the mesh roots (rejectUnauthorized); the name is the peer's SPIFFE ID.
          checkServerIdentity: (_host, cert) => {
            const san = /URI:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1];
            if (principals.size && (!san || !principals.has(san))) return new Error(`HBONE peer ${hostPort(t.address, t.port)} is ${san ?? 'no workload'}, expected ${[...principals].join(' or ')}`);
            return undefined;
          },
        }),
    });
    const s: Session = { session, streams: 0 };
    this.sessions.set(key, s);
    const forget = () => {
      if (this.sessions.get(key) === s) this.sessions.delete(key);
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.once('close', forget);
    session.setTimeout(IDLE_SESSION_MS, () => {
      if (s.streams === 0) session.close();
    });
    // Streams keep the process alive; an idle session does not.
    session.unref();
    return s;
  }

  /**
   * Opens a tunnel to `authority` (`ip:port`) through the peer: resolves with the stream once the peer answered 200,
   * rejects with an HboneError on any other answer or a failure of the session.
   */
  connect(t: HboneTarget, authority: string, headers: Record<string, string> = {}): Promise<http2.ClientHttp2Stream> {
    const s = this.session(t);
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = s.session.request({ ':method': 'CONNECT', ':authority': authority, ...headers }, { endStream: false });
      } catch (err) {
        reject(new HboneError(`HBONE to ${hostPort(t.address, t.port)}: ${(err as Error).message}`));
        return;
      }
      s.streams++;
      s.session.ref();
      stream.once('close', () => {
        if (--s.streams === 0) s.session.unref();
      });
      const fail = (err: Error) => reject(err instanceof HboneError ? err : new HboneError(`HBONE to ${hostPort(t.address, t.port)} for ${authority}: ${err.message}`));
      stream.once('error', fail);
      stream.once('response', (h) => {
        const status = Number(h[':status']);
        stream.removeListener('error', fail);
        if (status === 200) resolve(stream);
        else {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(new HboneError(`HBONE to ${hostPort(t.address, t.port)} for ${authority}: ${status}`, status));
        }
      });
      // A stream closed without any answer (the session failed).
      stream.once('close', () => fail(new HboneError(`HBONE to ${hostPort(t.address, t.port)} for ${authority}: closed before an answer`)));
    });
  }

  close(): void {
    for (const s of this.sessions.values()) s.session.destroy();
    this.sessions.clear();
  }
}

/** What the server knows of a CONNECT stream. */
export interface HboneStreamInfo {
  /** The original destination, `ip:port`. */
  authority: string;
  headers: http2.IncomingHttpHeaders;
  /** The client's SPIFFE ID, from its certificate. */
  peerPrincipal: string | undefined;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export interface HboneServer {
  /** The TLS server: give it connections (`listen`, or `emit('connection', socket)`). */
  readonly server: tls.Server;
  /** A new certificate (rotation): new connections present it. */
  setIdentity(identity: TlsIdentity): void;
  /** Closes the listener and every session. */
  close(): void;
}

const normalize = (a: string | undefined) => (a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : (a ?? ''));

/**
 * The server side: mutual TLS with `identity` (client certificates from the roots required, as Node's TLS server
 * enforces them), HTTP/2, and `onStream` for each CONNECT; anything but CONNECT is answered 405.
 */
export function hboneServer(identity: TlsIdentity, onStream: (stream: http2.ServerHttp2Stream, info: HboneStreamInfo) => void): HboneServer {
  const options = (id: TlsIdentity): tls.SecureContextOptions => ({ cert: id.certChain, key: id.privateKey, ca: id.rootCert, minVersion: 'TLSv1.2' });
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = tls.createServer({ ...options(identity), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] }, (socket) => {
    const principal = peerPrincipal(socket);
    const base = { peerPrincipal: principal, remoteAddress: normalize(socket.remoteAddress), remotePort: socket.remotePort ?? 0, localAddress: normalize(socket.localAddress), localPort: socket.localPort ?? 0 };
    const session = http2.performServerHandshake(socket, { settings: SETTINGS });
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => socket.destroy());
    session.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      if (headers[':method'] !== 'CONNECT' || !headers[':authority']) {
        stream.respond({ ':status': 405 }, { endStream: true });
        return;
      }
      onStream(stream, { ...base, authority: String(headers[':authority']), headers });
    });
  });
  server.on('tlsClientError', () => undefined);
  return {
    server,
    setIdentity: (id) => server.setSecureContext(options(id)),
    close: () => {
      server.close();
      for (const s of sessions) s.destroy();
    },
  };
}

/** A CONNECT authority (`10.0.0.1:9080`, `[fd00::1]:9080`) as host and port; undefined when it is not one. */
export function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const target = parseHostPort(authority, 0);
  return target && target.port > 0 ? target : undefined;
}

export { hostPort as authorityOf };
