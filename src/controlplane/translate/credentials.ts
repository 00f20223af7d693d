// credentialName → SDS: Kubernetes Secrets named by Gateway servers and DestinationRules become Envoy Secret resources
// that the control plane serves over ADS, as istiod's secret controller does. A proxy only ever receives Secrets from
// its own namespace (a gateway's Secrets live with the gateway workload, a sidecar's with the client), whatever
// namespace the config that names them comes from.

import type { Resource } from '../../config/resource.js';
import type { Secret } from '../../xds/envoy/index.js';

/** Finds a Secret by namespace and name (the push context's index). */
export type SecretLookup = (namespace: string, name: string) => Resource | undefined;

/** SDS names Istio gives Secret-backed credentials: the certificate + key, and the trust bundle beside it. */
export const SDS_PREFIX = 'kubernetes://';
export const CA_SUFFIX = '-cacert';
export const sdsCertName = (credentialName: string) => `${SDS_PREFIX}${credentialName}`;
export const sdsCaName = (credentialName: string) => `${SDS_PREFIX}${credentialName}${CA_SUFFIX}`;
/**
 * Istio's SDS name for a Gateway API listener's certificate in another namespace (`kubernetes-gateway://<ns>/<name>`):
 * translation writes one only when a ReferenceGrant there permits it, so serving it crosses no boundary the user did
 * not open.
 */
export const GATEWAY_SDS_PREFIX = 'kubernetes-gateway://';
export const sdsGatewayCertName = (namespace: string, name: string) => `${GATEWAY_SDS_PREFIX}${namespace}/${name}`;

export interface Credential {
  certChain?: string;
  privateKey?: string;
  ca?: string;
}

/** A Secret's payload: `data` is base64, `stringData` plain text (and wins, as the API server merges it last). */
export function secretData(secret: Resource): Map<string, string> {
  const out = new Map<string, string>();
  const put = (v: unknown, decode: boolean) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out.set(k, decode ? Buffer.from(x, 'base64').toString('utf8') : x);
  };
  put(secret.raw.data, true);
  put(secret.raw.stringData, false);
  return out;
}

/**
 * The credential a `credentialName` names in `namespace`, read the way Istio reads it: a `kubernetes.io/tls` Secret
 * (`tls.crt`, `tls.key`, optional `ca.crt`) or a generic one (`cert`, `key`, optional `cacert`); the trust bundle may
 * also sit in a separate Secret called `<name>-cacert`.
 */
export function credentialOf(secret: SecretLookup, namespace: string, name: string): Credential | undefined {
  const own = secret(namespace, name);
  const caOnly = secret(namespace, name + CA_SUFFIX);
  if (!own && !caOnly) return undefined;
  const d = own ? secretData(own) : new Map<string, string>();
  const c = caOnly ? secretData(caOnly) : new Map<string, string>();
  const out: Credential = {
    certChain: d.get('tls.crt') ?? d.get('cert'),
    privateKey: d.get('tls.key') ?? d.get('key'),
    ca: d.get('ca.crt') ?? d.get('cacert') ?? c.get('ca.crt') ?? c.get('cacert'),
  };
  return out.certChain || out.ca ? out : undefined;
}

const bytes = (pem: string) => ({ inlineBytes: Buffer.from(pem, 'utf8').toString('base64') });

/**
 * Envoy Secret resources for the `kubernetes://` names a proxy's config references, resolved in the proxy's own
 * namespace (and `kubernetes-gateway://<ns>/<name>`, which translation wrote only where a ReferenceGrant allows it). Names that do not resolve are left out: the proxy then refuses those TLS connections, as Envoy does
 * while a secret is missing, rather than falling back to something weaker.
 */
export function sdsSecrets(secret: SecretLookup, namespace: string, names: Iterable<string>): Secret[] {
  const out: Secret[] = [];
  for (const n of new Set(names)) {
    if (n.startsWith(GATEWAY_SDS_PREFIX)) {
      const [ns = '', name = ''] = n.slice(GATEWAY_SDS_PREFIX.length).split('/');
      const cred = credentialOf(secret, ns, name);
      if (cred?.certChain && cred.privateKey) out.push({ name: n, tlsCertificate: { certificateChain: bytes(cred.certChain), privateKey: bytes(cred.privateKey) } });
      continue;
    }
    if (!n.startsWith(SDS_PREFIX)) continue;
    const ref = n.slice(SDS_PREFIX.length);
    if (ref.endsWith(CA_SUFFIX)) {
      // `<name>-cacert`: the trust bundle of `<name>` (or of a Secret literally named so).
      const cred = credentialOf(secret, namespace, ref.slice(0, -CA_SUFFIX.length)) ?? credentialOf(secret, namespace, ref);
      if (cred?.ca) out.push({ name: n, validationContext: { trustedCa: bytes(cred.ca) } });
      continue;
    }
    const cred = credentialOf(secret, namespace, ref);
    if (cred?.certChain && cred.privateKey) out.push({ name: n, tlsCertificate: { certificateChain: bytes(cred.certChain), privateKey: bytes(cred.privateKey) } });
  }
  return out;
}
