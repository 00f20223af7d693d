// OpenShift Service Mesh's control-plane resources: the ServiceMeshControlPlane fields Trellis does not apply (reported
// where they are written, never dropped silently) and namespaces that two control planes claim.

import { pointer, type Resource } from '../../resource.js';
import { GATEWAY_API_GROUP } from '../../gateway-api.js';
import { buildMeshTopology } from '../../mesh-topology.js';
import type { Analyzer } from '../analyzer.js';
import { Messages } from '../messages.js';

/**
 * What Trellis applies of a ServiceMeshControlPlane (v2): `true` for a field taken as a whole, a nested table for a
 * field whose own fields are checked, `'*'` for a map whose every entry has the shape of the nested table.
 */
type Applied = { [field: string]: true | Applied | { '*': Applied } };

const GATEWAY: Applied = { enabled: true, service: { ports: true } };
const APPLIED: Applied = {
  version: true,
  mode: true,
  profiles: true,
  meshConfig: true,
  techPreview: { meshConfig: true, gatewayAPI: { enabled: true } },
  security: {
    trust: { domain: true, additionalDomains: true },
    dataPlane: { mtls: true, automtls: true },
    controlPlane: { tls: { minProtocolVersion: true, maxProtocolVersion: true, cipherSuites: true } },
    certificateAuthority: { type: true, certManager: { address: true }, custom: { address: true } },
  },
  gateways: { enabled: true, ingress: GATEWAY, egress: GATEWAY, additionalIngress: { '*': GATEWAY }, additionalEgress: { '*': GATEWAY } },
  proxy: { concurrency: true, networking: { trafficControl: { outbound: { policy: true } } }, accessLogging: { file: { name: true, format: true, encoding: true } } },
  tracing: { type: true, sampling: true },
  addons: { prometheus: { enabled: true }, kiali: { enabled: true } },
};

/** The paths under `value` that `applied` does not cover. */
function ignored(value: unknown, applied: Applied, path: Array<string | number>): Array<Array<string | number>> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: Array<Array<string | number>> = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const rule = applied[key] ?? ('*' in applied ? applied['*'] : undefined);
    if (rule === undefined) out.push([...path, key]);
    else if (rule !== true) out.push(...ignored(v, rule as Applied, [...path, key]));
  }
  return out;
}

export const controlPlaneAnalyzer: Analyzer = {
  name: 'maistra.ControlPlaneAnalyzer',
  description: 'Reports ServiceMeshControlPlane fields Trellis does not apply, namespaces two control planes claim, and Gateway API objects a control plane does not serve',
  analyze(ctx) {
    for (const smcp of ctx.resources) {
      if (smcp.group !== 'maistra.io' || smcp.kind !== 'ServiceMeshControlPlane' || smcp.version !== 'v2') continue;
      for (const path of ignored(smcp.spec, APPLIED, ['spec'])) {
        ctx.report(Messages.ControlPlaneFieldIgnored, smcp, pointer(...path), `${path.join('.')} is not applied by Trellis: the control plane runs as if it were not set`);
      }
    }
    const topology = buildMeshTopology(ctx.index.all);
    for (const r of ctx.resources) {
      if (r.group !== GATEWAY_API_GROUP || !r.metadata.namespace) continue;
      const plane = topology.ownerOf(r.metadata.namespace);
      if (!plane?.smcp || plane.settings.gatewayAPI) continue;
      ctx.report(Messages.GatewayApiNotEnabled, r, '', `${r.kind} ${r.metadata.namespace}/${r.metadata.name} is ignored: control plane ${plane.namespace}/${plane.name} does not serve the Gateway API (set spec.techPreview.gatewayAPI.enabled: true on its ServiceMeshControlPlane)`);
    }
    for (const plane of topology.controlPlanes) {
      const roll = plane.memberRoll;
      for (const s of plane.memberStatuses) {
        if (s.state !== 'Conflict' || !roll) continue;
        const i = (roll.spec.members ?? []).indexOf(s.namespace);
        ctx.report(Messages.NamespaceClaimedTwice, roll as unknown as Resource, i >= 0 ? pointer('spec', 'members', i) : '/spec', `Namespace ${JSON.stringify(s.namespace)} is already a member of control plane ${s.claimedBy}; it does not join ${plane.namespace}/${plane.name}`);
      }
    }
  },
};
