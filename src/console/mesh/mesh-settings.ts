// Mesh-wide settings as the manifests state them: Istio's `istio` ConfigMap, a ServiceMeshControlPlane, root PeerAuthentication.

import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import type { Resource } from '../../config/resource.js';
import type { CertificateInfo, MeshSettings } from '../sources.js';

export const DEFAULT_MESH_SETTINGS: MeshSettings = {
  trustDomain: 'cluster.local',
  // Istio's default when meshMTLS.minProtocolVersion is not set.
  minProtocolVersion: 'TLSV1_2',
  rootNamespace: 'istio-system',
  autoMtls: true,
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Read the settings, later sources winning: defaults, a ServiceMeshControlPlane (Maistra's `spec.security`), the
 * `istio` ConfigMap's `mesh` (MeshConfig, what istiod reads), then explicit overrides.
 */
export function meshSettings(resources: readonly Resource[], overrides: Partial<MeshSettings> = {}): MeshSettings {
  const m: MeshSettings = { ...DEFAULT_MESH_SETTINGS };
  for (const r of resources) {
    if (r.group !== 'maistra.io' || r.kind !== 'ServiceMeshControlPlane') continue;
    const security = obj(r.spec.security);
    const trust = str(obj(security?.trust)?.domain);
    if (trust) m.trustDomain = trust;
    const tls = obj(obj(security?.controlPlane)?.tls);
    const min = str(tls?.minProtocolVersion);
    if (min) m.minProtocolVersion = min;
    const dataPlaneMtls = obj(security?.dataPlane)?.mtls;
    if (dataPlaneMtls === true) m.meshWideMtlsMode = 'STRICT';
  }
  for (const r of resources) {
    if (r.group !== '' || r.kind !== 'ConfigMap' || r.metadata.name !== 'istio' || r.metadata.namespace !== m.rootNamespace) continue;
    const text = str(obj(r.raw.data)?.mesh);
    if (!text) continue;
    let mesh: Obj | undefined;
    try {
      mesh = obj(parse(text));
    } catch {
      continue; // the analyzers report a broken ConfigMap; the defaults stand
    }
    const min = str(obj(mesh?.meshMTLS)?.minProtocolVersion);
    if (min) m.minProtocolVersion = min;
    const td = str(mesh?.trustDomain);
    if (td) m.trustDomain = td;
    const root = str(mesh?.rootNamespace);
    if (root) m.rootNamespace = root;
    if (mesh?.enableAutoMtls === false) m.autoMtls = false;
  }
  Object.assign(m, overrides);
  for (const r of resources) {
    if (r.group !== 'security.istio.io' || r.kind !== 'PeerAuthentication' || r.metadata.namespace !== m.rootNamespace) continue;
    if (obj(r.spec.selector)) continue;
    const mode = str(obj(r.spec.mtls)?.mode);
    if (mode) m.meshWideMtlsMode = mode;
  }
  return m;
}

/** Subject and validity of a PEM certificate (the CA root), read with Node's own X.509 parser. */
export function certificateInfo(pem: string): CertificateInfo {
  const c = new X509Certificate(pem);
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    serialNumber: c.serialNumber,
  };
}
