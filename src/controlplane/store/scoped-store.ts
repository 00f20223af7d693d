// One control plane's view of a shared config store: only the namespaces it watches (its own and its members for a
// multi-tenant control plane; what its discovery selectors select for a cluster-wide one, mesh-topology.ts), decided
// again from the whole config on every change, plus the objects a runtime creates on its behalf (the Services of the
// gateways it runs), as OpenShift Service Mesh's operator creates them in the control plane's namespace. The Gateway API
// is in view only where the control plane serves it.

import { meshTopologyOf } from '../../config/mesh-topology.js';
import { GATEWAY_API_GROUP } from '../../config/gateway-api.js';
import type { Resource } from '../../config/resource.js';
import { BaseStore, type ConfigChange, type ConfigStore, type Rejection } from './config-store.js';
import { diffResources } from './diff.js';

export class ScopedStore extends BaseStore implements ConfigStore {
  private readonly onChange = (change: ConfigChange) => this.refresh(change.reason);
  private readonly onRejected = (rejection: Rejection) => this.emit('rejected', rejection);
  private extra: readonly Resource[] = [];

  constructor(
    private readonly source: ConfigStore,
    /** The control plane's namespace, which identifies it in the topology. */
    readonly controlPlaneNamespace: string,
    /** Close the source too (when this view is its only user, as in `trellis controlplane --kubeconfig`). */
    private readonly ownsSource = false,
  ) {
    super();
    this.refresh('initial');
    source.on('change', this.onChange);
    source.on('rejected', this.onRejected);
  }

  /** Objects the runtime adds for this control plane (they are always in view and replaced as a whole). */
  setExtra(resources: readonly Resource[], reason: string): void {
    this.extra = resources;
    this.refresh(reason);
  }

  rejections(): readonly Rejection[] {
    return this.source.rejections();
  }

  /** Whether the control plane sees a namespace now. */
  watches(namespace: string): boolean {
    return meshTopologyOf(this.source.list()).controlPlanes.find((p) => p.namespace === this.controlPlaneNamespace)?.watches(namespace) ?? false;
  }

  private refresh(reason: string): void {
    const all = this.source.list();
    const plane = meshTopologyOf(all).controlPlanes.find((p) => p.namespace === this.controlPlaneNamespace);
    // Cluster-scoped objects (Namespaces, GatewayClasses) are everyone's; a control plane that is gone sees nothing. An
    // OpenShift Service Mesh control plane serves the Gateway API only with `techPreview.gatewayAPI.enabled`.
    const inView = (r: Resource) => (!r.metadata.namespace || (plane?.watches(r.metadata.namespace) ?? false)) && (r.group !== GATEWAY_API_GROUP || plane?.settings.gatewayAPI === true);
    const next = [...all.filter(inView), ...this.extra];
    const change = diffResources(this.current, next, reason);
    if (!change) return;
    this.current = next;
    this.rev++;
    this.emit('change', change);
  }

  async close(): Promise<void> {
    this.source.off('change', this.onChange);
    this.source.off('rejected', this.onRejected);
    this.removeAllListeners();
    if (this.ownsSource) await this.source.close();
  }
}
