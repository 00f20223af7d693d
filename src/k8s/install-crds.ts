// Installs (server-side applies) the CRDs Trellis serves and waits until the API server serves them.

import type { KubeClient } from './client/kube-client.js';
import { trellisCrds } from './crds.js';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface CrdStatus {
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** Applies every CRD with field manager `trellis` and resolves once each is Established (or rejects at the deadline). */
export async function installCrds(client: KubeClient, options: { timeoutMs?: number } = {}): Promise<string[]> {
  const crds = trellisCrds();
  const names = crds.map((c) => (c.metadata as { name: string }).name);
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    await client.request('PATCH', `${CRD_PATH}/${name}`, { body: crd, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'trellis', force: true } });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const name of names) {
    for (;;) {
      const crd = await client.request<CrdStatus>('GET', `${CRD_PATH}/${name}`);
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      if (established?.status === 'True') break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established: ${JSON.stringify(crd.status?.conditions ?? [])}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}
