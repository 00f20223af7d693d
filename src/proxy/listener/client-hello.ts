// Reads the server name (SNI) and ALPN list from a TLS ClientHello without terminating TLS: Envoy's tls_inspector
// role, so a listener can pick a filter chain by server name before deciding to terminate or pass the bytes through.

export interface ClientHello {
  /** The requested server name, lower-cased (absent when the client sent none, e.g. when dialling an IP). */
  serverName?: string;
  /** Protocols the client offers with ALPN, in its order. */
  alpn: string[];
}

/** A ClientHello larger than this is not a ClientHello we want to keep buffering (Envoy's inspector caps it too). */
const MAX_HELLO = 64 * 1024;

/**
 * Parses the ClientHello at the start of `buf` (one or more TLS handshake records). Returns undefined while more
 * bytes are needed, `null` when the bytes are not a ClientHello we can read (the caller then proceeds without SNI).
 */
export function parseClientHello(buf: Buffer): ClientHello | null | undefined {
  // Reassemble the handshake message from consecutive handshake records (a large hello may span records).
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (off + 5 > buf.length) return buf.length > MAX_HELLO ? null : undefined;
    if (buf[off] !== 0x16 || buf[off + 1] !== 0x03) return null;
    const len = buf.readUInt16BE(off + 3);
    if (off + 5 + len > buf.length) return buf.length > MAX_HELLO ? null : undefined;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const head = Buffer.concat(parts);
      if (head[0] !== 0x01) return null; // handshake type 1: ClientHello
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_HELLO) return null;
    }
  }
  try {
    return readHello(Buffer.concat(parts).subarray(4, need));
  } catch {
    return null;
  }
}

function readHello(h: Buffer): ClientHello {
  let p = 2 + 32; // client_version, random
  p += 1 + h[p]!; // session_id
  p += 2 + h.readUInt16BE(p); // cipher_suites
  p += 1 + h[p]!; // compression_methods
  const out: ClientHello = { alpn: [] };
  if (p + 2 > h.length) return out; // no extensions at all
  const end = Math.min(h.length, p + 2 + h.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    const ext = h.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    if (type === 0 && ext.length >= 2) {
      // server_name: a list of (type, name); type 0 is host_name, the only one defined.
      let q = 2;
      while (q + 3 <= ext.length) {
        const nameType = ext[q]!;
        const nameLen = ext.readUInt16BE(q + 1);
        if (nameType === 0) out.serverName = ext.toString('latin1', q + 3, q + 3 + nameLen).toLowerCase();
        q += 3 + nameLen;
      }
    } else if (type === 16 && ext.length >= 2) {
      let q = 2;
      while (q < ext.length) {
        const l = ext[q]!;
        out.alpn.push(ext.toString('latin1', q + 1, q + 1 + l));
        q += 1 + l;
      }
    }
  }
  return out;
}

/**
 * Envoy's server name matching for filter chains: an exact name wins over wildcards, and among wildcards
 * (`*.example.com`) the longest suffix wins. Returns the specificity of the best match (higher is better), or -1.
 */
export function serverNameScore(names: readonly string[], sni: string | undefined): number {
  if (!sni) return -1;
  let best = -1;
  for (const n of names) {
    const name = n.toLowerCase();
    if (name === sni) return Number.MAX_SAFE_INTEGER;
    if (name.startsWith('*.') && sni.endsWith(name.slice(1)) && sni.length > name.length - 1) best = Math.max(best, name.length);
    else if (name.startsWith('.') && sni.endsWith(name)) best = Math.max(best, name.length);
  }
  return best;
}
