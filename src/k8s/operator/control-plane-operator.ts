// The operator loop (OpenShift Service Mesh's operator role): for every ServiceMeshControlPlane in the cluster, apply
// the control plane's objects (src/k8s/install), write the SMCP's and its member roll's status as the operator reports
// it, label member namespaces maistra.io/member-of, and delete what it made when the SMCP goes. It reconciles when the
// store changes (SMCP, SMMR, SMM, Namespaces) and when one of its Deployments does (their readiness is the SMCP's).

import { MEMBER_OF_LABEL, meshTopologyOf, type ControlPlaneInfo, type MeshTopology } from '../../config/mesh-topology.js';
import { controlPlaneStatus, memberRollStatus, memberStatus } from '../../controlplane/status/maistra-status.js';
import type { ServiceMeshMemberSpec } from '../../config/types/maistra.js';
import type { Resource } from '../../config/resource.js';
import type { KubeClient, KubeObject } from '../client/kube-client.js';
import { KubeApiError } from '../client/kube-client.js';
import { Informer } from '../informer.js';
import type { KubernetesStore } from '../kubernetes-store.js';
import { SerialLoop } from '../serial-loop.js';
import { StatusPatcher } from '../status/status-patcher.js';
import { renderControlPlane, type RenderOptions } from '../install/control-plane-manifests.js';

type Json = Record<string, unknown>;

/** Where each kind the renderer makes lives in the API. */
const API_PATHS: Record<string, { base: string; plural: string; namespaced: boolean }> = {
  ServiceAccount: { base: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  Service: { base: '/api/v1', plural: 'services', namespaced: true },
  Deployment: { base: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  Role: { base: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  RoleBinding: { base: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true },
  ClusterRole: { base: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { base: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
};

function pathOf(o: Json): string {
  const meta = o.metadata as { name: string; namespace?: string };
  const api = API_PATHS[o.kind as string];
  if (!api) throw new Error(`the operator does not apply ${String(o.kind)}`);
  return `${api.base}${api.namespaced ? `/namespaces/${meta.namespace}` : ''}/${api.plural}/${meta.name}`;
}

export interface ControlPlaneOperatorOptions extends RenderOptions {
  store: KubernetesStore;
  client: KubeClient;
  log?: (line: string) => void;
}

export class ControlPlaneOperator {
  /** What was applied, by control plane (`namespace/name`): API paths. */
  private readonly applied = new Map<string, Set<string>>();
  /** Status writes, each only when changed: a status write comes back as a change and must not loop. */
  private readonly status: StatusPatcher;
  private readonly loop = new SerialLoop(() => this.reconcile(), (err) => this.log(`operator: ${(err as Error).message}`));
  private readonly deployments: Informer;
  private readonly onChange = () => this.schedule();

  constructor(private readonly o: ControlPlaneOperatorOptions) {
    this.status = new StatusPatcher(o.client);
    this.deployments = new Informer({ client: o.client, path: '/apis/apps/v1/deployments', labelSelector: 'app.kubernetes.io/managed-by=trellis', log: o.log });
  }

  async start(): Promise<void> {
    this.o.store.on('change', this.onChange);
    this.deployments.on('change', this.onChange);
    await this.deployments.start();
    this.schedule();
    await this.idle();
  }

  /** Resolves once no reconcile is running or due. */
  async idle(): Promise<void> {
    await this.loop.idle();
  }

  async stop(): Promise<void> {
    this.o.store.off('change', this.onChange);
    await this.deployments.stop();
    await this.loop.stop();
  }

  private log(line: string): void {
    (this.o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  /** One reconcile at a time; changes meanwhile make one more. */
  private schedule(): void {
    this.loop.request();
  }

  private async reconcile(): Promise<void> {
    const topology = meshTopologyOf(this.o.store.list());
    const planes = topology.controlPlanes.filter((p) => p.smcp);
    const live = new Set(planes.map((p) => `${p.namespace}/${p.name}`));
    for (const [key, paths] of this.applied) {
      if (live.has(key)) continue;
      for (const path of [...paths].reverse()) await this.o.client.request('DELETE', path).catch((err) => (err instanceof KubeApiError && err.status === 404 ? undefined : Promise.reject(err)));
      this.applied.delete(key);
      this.log(`operator: ${key} deleted: removed ${paths.size} objects`);
    }
    for (const plane of planes) await this.reconcilePlane(plane, topology);
    // Every ServiceMeshMember says whether its namespace joined (a member of a missing SMCP too).
    for (const member of this.o.store.list()) {
      if (member.group !== 'maistra.io' || member.kind !== 'ServiceMeshMember') continue;
      const status = memberStatus(member as Resource<ServiceMeshMemberSpec>, topology).status;
      await this.writeStatus(member.group, member.kind, member.metadata.namespace, member.metadata.name, status);
    }
  }

  private async reconcilePlane(plane: ControlPlaneInfo, topology: MeshTopology): Promise<void> {
    const key = `${plane.namespace}/${plane.name}`;
    const smcp = plane.smcp!;
    const uid = (smcp.raw.metadata as { uid?: string } | undefined)?.uid;
    const paths = new Set<string>();
    for (const object of renderControlPlane(plane, this.o)) {
      const meta = object.metadata as { namespace?: string };
      // Objects in the SMCP's namespace belong to it, so the cluster's garbage collector removes them with it too.
      if (uid && meta.namespace === plane.namespace) (object.metadata as Json).ownerReferences = [{ apiVersion: smcp.apiVersion, kind: smcp.kind, name: smcp.metadata.name, uid, controller: true, blockOwnerDeletion: false }];
      const path = pathOf(object);
      await this.o.client.request('PATCH', path, { body: object, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'trellis-operator', force: true } });
      paths.add(path);
    }
    // Objects the SMCP no longer renders (a member that left: its Role and RoleBinding).
    for (const path of this.applied.get(key) ?? []) if (!paths.has(path)) await this.o.client.request('DELETE', path).catch(() => undefined);
    this.applied.set(key, paths);

    const istiod = [...this.deployments.objects()].find((d) => d.metadata?.namespace === plane.namespace && d.metadata?.name === `istiod-${plane.name}`);
    const available = Number((istiod?.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0);
    await this.writeStatus(smcp.group, smcp.kind, plane.namespace, smcp.metadata.name, controlPlaneStatus(plane, [{ name: 'istiod', ready: available > 0 }])?.status);
    if (plane.memberRoll) await this.writeStatus(plane.memberRoll.group, plane.memberRoll.kind, plane.namespace, plane.memberRoll.metadata.name, memberRollStatus(plane)?.status);
    for (const member of plane.members) {
      if (member === plane.namespace || topology.namespaces.get(member)?.[MEMBER_OF_LABEL] === plane.namespace) continue;
      await this.o.client.request('PATCH', `/api/v1/namespaces/${member}`, { body: { metadata: { labels: { [MEMBER_OF_LABEL]: plane.namespace } } } });
    }
  }

  /** Writes an object's status subresource when it differs from what was last written. */
  private async writeStatus(group: string, kind: string, namespace: string, name: string, status: unknown): Promise<void> {
    const type = this.o.store.typeOf(group, kind);
    if (type && status !== undefined) await this.status.write(type, namespace, name, status);
  }
}
