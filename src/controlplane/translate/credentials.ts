// credentialName → SDS: Kubernetes Secrets named by Gateway servers and DestinationRules become Envoy Secret resources
// that the control plane serves over ADS, as istiod's secret controller does. A proxy only ever receives Secrets from
// its own namespace (a gateway's Secrets live with the gateway workload, a sidecar's with the client), whatever
// namespace the config that names them comes from.

import type { Resource } from '../../config/resource.js';

type Json = Record<string, unknown>;

/** SDS names Istio gives Secret-backed credentials: the certificate + key, and the trust bundle beside it. */
export const SDS_PREFIX = 'kubernetes://';
export const CA_SUFFIX = '-cacert';
export const sdsCertName = (credentialName: string) => `${SDS_PREFIX}${credentialName}`;
export const sdsCaName = (credentialName: string) => `${SDS_PREFIX}${credentialName}${CA_SUFFIX}`;

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
    for (const [k, x] of Object.entries(v as Json)) if (typeof x === 'string') out.set(k, decode ? Buffer.from(x, 'base64').toString('utf8') : x);
  };
  put(secret.raw.data, true);
  put(secret.raw.stringData, false);
  return out;
}

function findSecret(resources: readonly Resource[], namespace: string, name: string): Resource | undefined {
  return resources.find((r) => r.group === '' && r.kind === 'Secret' && r.metadata.namespace === namespace && r.metadata.name === name);
}

/**
 * The credential a `credentialName` names in `namespace`, read the way Istio reads it: a `kubernetes.io/tls` Secret
 * (`tls.crt`, `tls.key`, optional `ca.crt`) or a generic one (`cert`, `key`, optional `cacert`); the trust bundle may
 * also sit in a separate Secret called `<name>-cacert`.
 */
export function credentialOf(resources: readonly Resource[], namespace: string, name: string): Credential | undefined {
  const own = findSecret(resources, namespace, name);
  const caOnly = findSecret(resources, namespace, name + CA_SUFFIX);
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
 * namespace. Names that do not resolve are left out: the proxy then refuses those TLS connections, as Envoy does
 * while a secret is missing, rather than falling back to something weaker.
 */
export function sdsSecrets(resources: readonly Resource[], namespace: string, names: Iterable<string>): Json[] {
  const out: Json[] = [];
  for (const n of new Set(names)) {
    if (!n.startsWith(SDS_PREFIX)) continue;
    const ref = n.slice(SDS_PREFIX.length);
    if (ref.endsWith(CA_SUFFIX)) {
      // `<name>-cacert`: the trust bundle of `<name>` (or of a Secret literally named so).
      const cred = credentialOf(resources, namespace, ref.slice(0, -CA_SUFFIX.length)) ?? credentialOf(resources, namespace, ref);
      if (cred?.ca) out.push({ name: n, validationContext: { trustedCa: bytes(cred.ca) } });
      continue;
    }
    const cred = credentialOf(resources, namespace, ref);
    if (cred?.certChain && cred.privateKey) out.push({ name: n, tlsCertificate: { certificateChain: bytes(cred.certChain), privateKey: bytes(cred.privateKey) } });
  }
  return out;
}
