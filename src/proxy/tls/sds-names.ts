// Which SDS secret names a proxy fetches from the control plane and which its own agent provides, as Istio splits
// them: `default` and `ROOTCA` are the workload identity (pilot-agent, locally); `kubernetes://<name>` (and its
// `-cacert` half) are Kubernetes Secrets that istiod reads and serves over ADS.

/** SDS names served by the control plane from Kubernetes Secrets. */
export const KUBERNETES_SECRET_PREFIX = 'kubernetes://';

/** Of the secret names a configuration references, those to subscribe to on the control plane. */
export function controlPlaneSecrets(names: readonly string[]): string[] {
  return names.filter((n) => n.startsWith(KUBERNETES_SECRET_PREFIX));
}
