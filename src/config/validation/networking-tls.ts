// Istio's TLS settings: the server side (Gateway servers, Sidecar ingress) and the client side (DestinationRule), schema and rules.

import type { SchemaObject } from 'ajv';
import { BOOLEAN, STRING, STRING_LIST, enumOf, listOf, strictObject } from './common-schemas.js';
import { at, asArray, asObject, asString, type Issues } from './object-check.js';

const TLS_VERSION = enumOf('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3');

export const SERVER_TLS: SchemaObject = strictObject({
  httpsRedirect: BOOLEAN,
  mode: enumOf('PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'),
  serverCertificate: STRING,
  privateKey: STRING,
  caCertificates: STRING,
  caCrl: STRING,
  credentialName: STRING,
  credentialNames: STRING_LIST,
  tlsCertificates: listOf(strictObject({ serverCertificate: STRING, privateKey: STRING, caCertificates: STRING })),
  subjectAltNames: STRING_LIST,
  verifyCertificateSpki: STRING_LIST,
  verifyCertificateHash: STRING_LIST,
  minProtocolVersion: TLS_VERSION,
  maxProtocolVersion: TLS_VERSION,
  cipherSuites: STRING_LIST,
});

export const CLIENT_TLS: SchemaObject = strictObject({
  mode: enumOf('DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'),
  clientCertificate: STRING,
  privateKey: STRING,
  caCertificates: STRING,
  caCrl: STRING,
  credentialName: STRING,
  subjectAltNames: STRING_LIST,
  sni: STRING,
  insecureSkipVerify: BOOLEAN,
});

/** Cipher suites Envoy (BoringSSL) accepts by name; `[A|B]` groups equal-preference suites. */
const CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-PSK-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-PSK-AES128-CBC-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'ECDHE-PSK-AES256-CBC-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA',
  'AES256-SHA',
  'PSK-AES128-CBC-SHA',
  'PSK-AES256-CBC-SHA',
  'DES-CBC3-SHA',
]);

const TLS_ORDER = ['TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'];

const nonEmpty = (v: unknown): boolean => (typeof v === 'string' ? v !== '' : asArray(v).length > 0);

/**
 * Server-side TLS (Gateway servers, Sidecar ingress listeners), following Istio's validateTLSOptions.
 * `credentialName: false` where Secrets cannot be used (sidecar ingress), so messages do not suggest them.
 */
export function checkServerTls(value: unknown, path: string, out: Issues, opts: { credentialName?: boolean } = {}): void {
  const tls = asObject(value);
  if (!tls) return;
  const mode = asString(tls.mode) ?? 'PASSTHROUGH';
  const min = asString(tls.minProtocolVersion);
  const max = asString(tls.maxProtocolVersion);
  if ((min === 'TLSV1_0' || min === 'TLSV1_1') && asArray(tls.cipherSuites).length === 0) {
    out.warn(at(path, 'minProtocolVersion'), `${min} needs cipherSuites that version supports: the default suites no longer include them`);
  }
  if (min && max && TLS_ORDER.includes(min) && TLS_ORDER.includes(max) && TLS_ORDER.indexOf(min) > TLS_ORDER.indexOf(max)) {
    out.error(at(path, 'minProtocolVersion'), `minProtocolVersion ${min} is above maxProtocolVersion ${max}`);
  }
  const seen = new Set<string>();
  asArray(tls.cipherSuites).forEach((suite, i) => {
    if (typeof suite !== 'string') return;
    const names = suite.startsWith('[') && suite.endsWith(']') ? suite.slice(1, -1).split('|') : [suite];
    if (!names.every((n) => CIPHER_SUITES.has(n))) out.warn(at(path, 'cipherSuites', i), `unknown cipher suite "${suite}" is ignored`);
    else if (seen.has(suite)) out.warn(at(path, 'cipherSuites', i), `duplicate cipher suite "${suite}" is ignored`);
    seen.add(suite);
  });
  const files = ['serverCertificate', 'privateKey', 'caCertificates'] as const;
  if (mode === 'ISTIO_MUTUAL') {
    for (const f of [...files, 'credentialName'] as const) if (nonEmpty(tls[f])) out.error(at(path, f), `must not be set with mode ISTIO_MUTUAL, which uses the mesh's own certificates`);
    return;
  }
  if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') {
    if ([...files, 'caCrl', 'credentialName'].some((f) => nonEmpty(tls[f]))) out.warn(path, `mode ${mode} does not terminate TLS, so the certificates set here are ignored`);
    return;
  }
  const hasCredential = nonEmpty(tls.credentialName) || nonEmpty(tls.credentialNames) || nonEmpty(tls.tlsCertificates);
  if (hasCredential) return;
  const needed = mode === 'SIMPLE' ? ['serverCertificate', 'privateKey'] : ['serverCertificate', 'privateKey', 'caCertificates'];
  const missing = needed.filter((f) => !nonEmpty(tls[f]));
  if (missing.length > 0) {
    const files = `${needed.slice(0, -1).join(', ')} and ${needed[needed.length - 1]!}`;
    const how = opts.credentialName === false ? files : `credentialName (a Secret holding the certificate), or ${files}`;
    out.error(path, `mode ${mode} needs ${how}; missing ${missing.join(', ')}`);
  }
  if (mode === 'SIMPLE' && nonEmpty(tls.caCrl)) out.error(at(path, 'caCrl'), 'a CRL is only used to check client certificates, which mode SIMPLE does not request');
}

/** Client-side TLS (DestinationRule), following Istio's ValidateTLS. */
export function checkClientTls(value: unknown, path: string, out: Issues): void {
  const tls = asObject(value);
  if (!tls) return;
  const mode = asString(tls.mode) ?? 'DISABLE';
  if (tls.insecureSkipVerify === true) {
    const clash = mode === 'SIMPLE' ? ['caCertificates', 'credentialName', 'subjectAltNames'] : mode === 'MUTUAL' ? ['caCertificates', 'subjectAltNames'] : [];
    for (const f of clash) if (nonEmpty(tls[f])) out.error(at(path, f), `must not be set together with insecureSkipVerify: true`);
  }
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && nonEmpty(tls.credentialName)) {
    for (const f of ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl']) {
      if (nonEmpty(tls[f])) out.error(at(path, f), 'must not be set together with credentialName: the Secret provides the certificates');
    }
    return;
  }
  if (mode === 'MUTUAL') {
    const missing = ['clientCertificate', 'privateKey'].filter((f) => !nonEmpty(tls[f]));
    if (missing.length > 0) out.error(path, `mode MUTUAL needs credentialName (a Secret with the client certificate), or clientCertificate and privateKey; missing ${missing.join(', ')}`);
  }
}
