// @peculiar/x509 on Node's WebCrypto, set up once (it needs the reflect-metadata polyfill).

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import { pem } from './pem.js';

export type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export const subtle = webcrypto.subtle;
export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export { pem } from './pem.js';

export async function exportKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

/**
 * A private key from PEM as CA files hold it: PKCS#8, SEC1 (`EC PRIVATE KEY`, what cfssl writes) or PKCS#1
 * (`RSA PRIVATE KEY`, what Istio's sample Makefile writes); ECDSA P-256/P-384 or RSA.
 */
export async function importKeyPem(text: string): Promise<CryptoKey> {
  const key = createPrivateKey(text);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', pkcs8, algorithmFor(key), true, ['sign']);
}

/** The WebCrypto algorithm (with its hash) a CA key signs with. */
export function signingAlgorithm(key: CryptoKey): { name: string; hash: string; namedCurve?: string } {
  const a = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } };
  if (a.name === 'ECDSA') return { name: 'ECDSA', namedCurve: a.namedCurve, hash: a.namedCurve === 'P-384' ? 'SHA-384' : a.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256' };
  return { name: a.name, hash: a.hash?.name ?? 'SHA-256' };
}

function algorithmFor(key: KeyObject) {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = ({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' } as Record<string, string>)[d.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported EC curve ${d.namedCurve}`);
    return { name: 'ECDSA', namedCurve: curve };
  }
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}
