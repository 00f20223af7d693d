// Status of OpenShift Service Mesh's resources as its operator reports it: ServiceMeshControlPlane conditions
// (Installed, Reconciled, Ready) with the readiness of each component, ServiceMeshMemberRoll members (configured,
// pending, terminating, with a status per namespace), ServiceMeshMember conditions, and the `maistra.io/member-of`
// label on member namespaces — computed from the mesh topology and what the runtime reports ready.

import { MEMBER_OF_LABEL, type ControlPlaneInfo, type MeshTopology } from '../../config/mesh-topology.js';
import type { Resource } from '../../config/resource.js';
import type { ServiceMeshMemberSpec } from '../../config/types/maistra.js';
import { VERSION } from '../../version.js';
import { condition, withStatus, type ObjectWithStatus } from './object-status.js';

/** A part of a control plane (istiod, a gateway, Prometheus, the console) and whether it serves now. */
export interface ComponentReadiness {
  name: string;
  ready: boolean;
}

/** The version a control plane reports it reconciled: its own `spec.version`, else Trellis's. */
const reconciledVersion = (plane: ControlPlaneInfo) => plane.settings.version ?? `trellis-${VERSION}`;

export function controlPlaneStatus(plane: ControlPlaneInfo, components: readonly ComponentReadiness[]): ObjectWithStatus | undefined {
  if (!plane.smcp) return undefined;
  const ready = components.filter((c) => c.ready).map((c) => c.name).sort();
  const unready = components.filter((c) => !c.ready).map((c) => c.name).sort();
  const allReady = unready.length === 0;
  return withStatus(plane.smcp, {
    conditions: [
      condition('Installed', true, 'InstallSuccessful', 'Successfully installed all mesh components'),
      condition('Reconciled', true, 'InstallSuccessful', `Successfully installed version ${reconciledVersion(plane)}`),
      allReady ? condition('Ready', true, 'ComponentsReady', 'All component deployments are Available') : condition('Ready', false, 'ComponentsNotReady', `Some components are not fully available: ${unready.join(', ')}`),
    ],
    observedGeneration: plane.smcp.metadata.generation ?? 1,
    operatorVersion: `trellis-${VERSION}`,
    chartVersion: reconciledVersion(plane),
    appliedSpec: { mode: plane.mode, version: reconciledVersion(plane) },
    readiness: { components: { ready, unready, pending: [] } },
    annotations: { readyComponentCount: `${ready.length}/${components.length}` },
  });
}

export function memberRollStatus(plane: ControlPlaneInfo): ObjectWithStatus | undefined {
  if (!plane.memberRoll) return undefined;
  const configured = plane.memberStatuses.filter((s) => s.state === 'Configured').map((s) => s.namespace);
  const pending = plane.memberStatuses.filter((s) => s.state !== 'Configured').map((s) => s.namespace);
  const memberStatuses = plane.memberStatuses.map((s) => ({
    namespace: s.namespace,
    conditions: [
      s.state === 'Configured'
        ? condition('Reconciled', true, 'Configured', `namespace joined the mesh of ${plane.namespace}/${plane.name}`)
        : s.state === 'Conflict'
          ? condition('Reconciled', false, 'ReconcileError', `namespace "${s.namespace}" is already a member of another control plane (${s.claimedBy})`)
          : condition('Reconciled', false, 'NamespaceNotFound', `namespace "${s.namespace}" does not exist`),
    ],
  }));
  const allConfigured = pending.length === 0;
  return withStatus(plane.memberRoll, {
    conditions: [
      allConfigured
        ? condition('Ready', true, 'Configured', 'All namespaces have been configured successfully')
        : condition('Ready', false, 'ReconcileError', `Not all namespaces have been configured: ${pending.join(', ')}`),
    ],
    annotations: { configuredMemberCount: `${configured.length}/${plane.memberStatuses.length}` },
    members: plane.memberStatuses.map((s) => s.namespace),
    configuredMembers: configured,
    pendingMembers: pending,
    terminatingMembers: [],
    memberStatuses,
    meshReconciledVersion: reconciledVersion(plane),
    observedGeneration: plane.memberRoll.metadata.generation ?? 1,
  });
}

export function memberStatus(member: Resource<ServiceMeshMemberSpec>, topology: MeshTopology): ObjectWithStatus {
  const ref = member.spec.controlPlaneRef;
  const plane = topology.controlPlanes.find((p) => p.namespace === ref?.namespace && (ref?.name === undefined || p.name === ref.name));
  const owner = topology.ownerOf(member.metadata.namespace);
  const joined = !!plane && owner === plane;
  const why = !plane ? `no ServiceMeshControlPlane ${ref?.namespace}/${ref?.name}` : `the namespace is already a member of ${owner?.namespace}/${owner?.name}`;
  return withStatus(member, {
    conditions: [joined ? condition('Ready', true, 'Configured', 'The namespace has been configured successfully') : condition('Ready', false, plane ? 'ReconcileError' : 'SMCPMissing', why)],
    ...(plane ? { meshReconciledVersion: reconciledVersion(plane) } : {}),
    observedGeneration: member.metadata.generation ?? 1,
  });
}

/** Every known namespace as a Namespace object, member namespaces labelled `maistra.io/member-of: <control plane ns>`. */
export function namespaceObjects(topology: MeshTopology, declared: readonly Resource[]): ObjectWithStatus[] {
  return [...topology.namespaces.keys()].sort().map((name) => {
    const owner = topology.ownerOf(name);
    const memberOf: Record<string, string> = owner?.smcp && owner.namespace !== name ? { [MEMBER_OF_LABEL]: owner.namespace } : {};
    const r = declared.find((d) => d.group === '' && d.kind === 'Namespace' && d.metadata.name === name);
    const status = { phase: 'Active' };
    if (r) return withStatus(r, status, memberOf);
    const object: ObjectWithStatus = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...memberOf } }, status };
    return object;
  });
}

/** The maistra.io objects a control plane owns, with their status. */
export function maistraObjects(plane: ControlPlaneInfo, topology: MeshTopology, resources: readonly Resource[], components: readonly ComponentReadiness[]): ObjectWithStatus[] {
  const out: ObjectWithStatus[] = [];
  const smcp = controlPlaneStatus(plane, components);
  if (smcp) out.push(smcp);
  const smmr = memberRollStatus(plane);
  if (smmr) out.push(smmr);
  for (const r of resources) {
    if (r.group !== 'maistra.io' || r.kind !== 'ServiceMeshMember') continue;
    if ((r.spec as ServiceMeshMemberSpec).controlPlaneRef?.namespace !== plane.namespace) continue;
    out.push(memberStatus(r as Resource<ServiceMeshMemberSpec>, topology));
  }
  return out;
}
