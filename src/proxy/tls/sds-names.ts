// Which SDS secret names a proxy fetches from the control plane and which its own agent provides, as Istio splits
// them: `default` and `ROOTCA` are the workload identity (pilot-agent, locally); `kubernetes://<name>` (and its
// `-cacert` half) are Kubernetes Secrets that istiod reads and serves over ADS, as is `kubernetes-gateway://<ns>/<name>`
// (a Gateway API listener's certificate in another namespace, which a ReferenceGrant allowed).

/** SDS names served by the control plane from Kubernetes Secrets. */
export const KUBERNETES_SECRET_PREFIX = 'kubernetes://';
export const KUBERNETES_GATEWAY_SECRET_PREFIX = 'kubernetes-gateway://';

/** Of the secret names a configuration references, those to subscribe to on the control plane. */
export function controlPlaneSecrets(names: readonly string[]): string[] {
  return names.filter((n) => n.startsWith(KUBERNETES_SECRET_PREFIX) || n.startsWith(KUBERNETES_GATEWAY_SECRET_PREFIX));
}
