// The proxy agent's certificate request: a P-256 key and a PKCS#10 CSR asking for the workload's SPIFFE identity.
//
// Written with node:crypto and a few DER encoders rather than @peculiar/x509: that library (with its ASN.1 schemas
// and reflection metadata) adds about 19 MiB to every sidecar's resident memory, and a sidecar only ever builds this
// one structure (RFC 2986 with an extensionRequest carrying a URI subjectAltName, RFC 5280). The CA side still parses
// and checks CSRs with @peculiar/x509.

import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { spiffeId, type Identity } from './identity.js';
import { pem } from './pem.js';

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const oid = (hex: string) => Buffer.from(`06${(hex.length / 2).toString(16).padStart(2, '0')}${hex}`, 'hex');
const OID_ORGANIZATION = oid('55040a'); // 2.5.4.10
const OID_EXTENSION_REQUEST = oid('2a864886f70d01090e'); // 1.2.840.113549.1.9.14
const OID_SUBJECT_ALT_NAME = oid('551d11'); // 2.5.29.17
const OID_ECDSA_SHA256 = oid('2a8648ce3d040302'); // 1.2.840.10045.4.3.2

/** The DER CSR for `identity`, signed with `privateKey` (ECDSA P-256, SHA-256). */
export function encodeCsr(identity: Identity, publicKey: KeyObject, privateKey: KeyObject): Buffer {
  // subject: O=<trust domain>, as Istio's agent sets it; the identity itself is the URI SAN
  const subject = tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, OID_ORGANIZATION, tlv(0x0c, Buffer.from(identity.trustDomain, 'utf8')))));
  const generalNames = tlv(SEQUENCE, tlv(0x86 /* [6] uniformResourceIdentifier */, Buffer.from(spiffeId(identity), 'ascii')));
  const extensions = tlv(SEQUENCE, tlv(SEQUENCE, OID_SUBJECT_ALT_NAME, tlv(0x04, generalNames)));
  const attributes = tlv(0xa0 /* [0] attributes */, tlv(SEQUENCE, OID_EXTENSION_REQUEST, tlv(SET, extensions)));
  const info = tlv(SEQUENCE, Buffer.from([0x02, 0x01, 0x00]) /* version 0 */, subject, publicKey.export({ type: 'spki', format: 'der' }), attributes);
  const signature = sign('sha256', info, privateKey); // DER Ecdsa-Sig-Value
  return tlv(SEQUENCE, info, tlv(SEQUENCE, OID_ECDSA_SHA256), tlv(0x03, Buffer.from([0]), signature));
}

/** A new P-256 key (PKCS#8 PEM) and a CSR (PEM) for `identity`. */
export async function createCsr(identity: Identity): Promise<{ keyPem: string; csrPem: string }> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv }))),
  );
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, csrPem: pem('CERTIFICATE REQUEST', encodeCsr(identity, publicKey, privateKey)) };
}
