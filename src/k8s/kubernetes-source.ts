// The control plane's config source in Kubernetes mode: a client from a kubeconfig or the pod's service account, the
// CRDs when asked, the informer-backed store, and the control plane's view of it (its namespace and what it watches).

import { ScopedStore } from '../controlplane/store/scoped-store.js';
import { KubeClient } from './client/kube-client.js';
import { installCrds } from './install-crds.js';
import { KubernetesStore } from './kubernetes-store.js';

export interface KubernetesSourceOptions {
  /** A kubeconfig file; without one, the in-cluster service account. */
  kubeconfig?: string;
  /** The control plane's namespace. */
  namespace: string;
  installCrds?: boolean;
  log: (line: string) => void;
}

export interface KubernetesSource {
  /** The control plane's view; closing it closes the informers and the client. */
  store: ScopedStore;
  kubernetes: KubernetesStore;
  client: KubeClient;
  /** Where config comes from, for the start-up line. */
  what: string;
}

export async function openKubernetesSource(o: KubernetesSourceOptions): Promise<KubernetesSource> {
  const client = o.kubeconfig ? await KubeClient.fromKubeconfig(o.kubeconfig) : await KubeClient.inCluster();
  try {
    if (o.installCrds) o.log(`kubernetes: installed ${(await installCrds(client)).length} CRDs`);
    const kubernetes = await KubernetesStore.open({ client, controlPlaneNamespace: o.namespace, log: o.log, ownsClient: true });
    const store = new ScopedStore(kubernetes, o.namespace, true);
    return { store, kubernetes, client, what: client.server };
  } catch (err) {
    client.close();
    throw err;
  }
}
