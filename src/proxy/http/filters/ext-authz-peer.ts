// The TLS identities ext_authz reports in a CheckRequest, read from the downstream connection's TLS socket: the
// proxy's own identity (the URI SAN of the certificate it presented, Envoy's destination principal) and the
// peer's certificate (include_peer_certificate). Plaintext connections have neither.

import type tls from 'node:tls';
import type { HttpStream } from '../http-stream.js';

/** The TLS socket under a request, HTTP/1.1 or HTTP/2; undefined on plaintext. */
function tlsSocket(stream: HttpStream): tls.TLSSocket | undefined {
  if (!stream.conn.tls) return undefined;
  const s = stream.req.socket as unknown as Partial<tls.TLSSocket> | undefined;
  return typeof s?.getPeerCertificate === 'function' ? (s as tls.TLSSocket) : undefined;
}

/** The first URI SAN of the certificate this proxy presented on the connection. */
export function localPrincipal(stream: HttpStream): string | undefined {
  const cert = tlsSocket(stream)?.getCertificate();
  const san = cert && 'subjectaltname' in cert ? cert.subjectaltname : undefined;
  return (san && /URI:([^,\s]+)/.exec(san)?.[1]) || undefined;
}

/** The peer's certificate as URL-encoded PEM, the form Envoy puts in AttributeContext.Peer.certificate. */
export function peerCertificate(stream: HttpStream): string | undefined {
  const raw = tlsSocket(stream)?.getPeerCertificate()?.raw;
  if (!raw?.length) return undefined;
  const b64 = raw.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
}
