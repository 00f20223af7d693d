// Mesh-wide settings for the console's control-plane page: read from the one mesh config (config/mesh-config.ts) that
// the control plane applies, plus the mesh-wide PeerAuthentication, so the console shows what the mesh does.

import { X509Certificate } from 'node:crypto';
import { defaultMeshConfig, meshModelOf } from '../../config/mesh-config.js';
import type { Resource } from '../../config/resource.js';
import { meshTopologyOf } from '../../config/mesh-topology.js';
import { controlPlaneStatus } from '../../controlplane/status/maistra-status.js';
import type { CertificateInfo, ControlPlaneSummary, MeshSettings, ProxyStatus } from '../sources.js';

const DEFAULTS = defaultMeshConfig();

export const DEFAULT_MESH_SETTINGS: MeshSettings = {
  trustDomain: DEFAULTS.trustDomain,
  // Istio's default when meshMTLS.minProtocolVersion is not set.
  minProtocolVersion: 'TLSV1_2',
  rootNamespace: DEFAULTS.rootNamespace,
  autoMtls: DEFAULTS.enableAutoMtls,
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The settings as the control plane applies them: the mesh config (defaults, ServiceMeshControlPlane, `istio`
 * ConfigMap, in that precedence), then the root namespace's selector-less PeerAuthentication (or the control plane's
 * `security.dataPlane.mtls`) for the mesh-wide mTLS mode; `overrides` last (a console started with explicit values).
 */
export function meshSettings(resources: readonly Resource[], overrides: Partial<MeshSettings> = {}, controlPlaneNamespace?: string): MeshSettings {
  const model = meshModelOf(resources, undefined, controlPlaneNamespace);
  const m: MeshSettings = {
    trustDomain: model.config.trustDomain,
    minProtocolVersion: model.config.meshMTLS.minProtocolVersion ?? DEFAULT_MESH_SETTINGS.minProtocolVersion,
    rootNamespace: model.config.rootNamespace,
    autoMtls: model.config.enableAutoMtls,
    ...(model.dataPlaneMtls ? { meshWideMtlsMode: 'STRICT' } : {}),
  };
  Object.assign(m, overrides);
  for (const r of resources) {
    if (r.group !== 'security.istio.io' || r.kind !== 'PeerAuthentication' || r.metadata.namespace !== m.rootNamespace) continue;
    if (Object.keys(obj(obj(r.spec.selector)?.matchLabels) ?? {}).length) continue;
    const mode = str(obj(r.spec.mtls)?.mode);
    if (mode) m.meshWideMtlsMode = mode;
  }
  return m;
}

/**
 * Every control plane of the mesh for the Control plane page: mode, version, members and what became of each, the
 * ServiceMeshControlPlane's conditions (a gateway counts as ready when its proxy is connected and synced), and the
 * settings each one applies.
 */
export function controlPlaneSummaries(resources: readonly Resource[], proxies: readonly ProxyStatus[], overrides: Partial<MeshSettings> = {}): ControlPlaneSummary[] {
  const topology = meshTopologyOf(resources);
  const synced = (p: ProxyStatus) => Object.values(p.sync).includes('SYNCED') && !Object.values(p.sync).some((x) => x === 'STALE' || x === 'NACK');
  return topology.controlPlanes.map((plane, i) => {
    const components = [
      { name: 'istiod', ready: true },
      ...plane.settings.gateways.map((g) => ({ name: g.name, ready: proxies.some((p) => p.namespace === plane.namespace && p.pod.startsWith(g.name) && synced(p)) })),
    ];
    const status = controlPlaneStatus(plane, components)?.status as { conditions?: ControlPlaneSummary['conditions'] } | undefined;
    return {
      name: plane.name,
      namespace: plane.namespace,
      mode: plane.mode,
      declared: !!plane.smcp,
      ...(plane.settings.version ? { version: plane.settings.version } : {}),
      members: plane.memberStatuses.map((m) => ({ namespace: m.namespace, state: m.state, ...(m.claimedBy ? { claimedBy: m.claimedBy } : {}) })),
      conditions: status?.conditions ?? [],
      mesh: meshSettings(resources, i === 0 ? overrides : {}, plane.namespace),
      gateways: plane.settings.gateways.map((g) => g.name),
    };
  });
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
