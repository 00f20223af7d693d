// One control plane in Kubernetes mode for bench/kubernetes.mjs: opens the source (the SMCP in istio-system decides the
// topology), waits until the store has every service, and prints its API calls and memory as JSON.
import { ControlPlane } from '../dist/controlplane/control-plane.js';
import { openKubernetesSource } from '../dist/k8s/kubernetes-source.js';

const [kubeconfig, services] = process.argv.slice(2);
const t0 = Date.now();
const source = await openKubernetesSource({ kubeconfig, namespace: 'istio-system', log: () => {} });
const cp = new ControlPlane({ store: source.store, log: () => {} });
const count = () => source.store.list().filter((r) => r.kind === 'Service' && r.metadata.namespace.startsWith('bench-')).length;
const deadline = Date.now() + 300_000;
while (count() < Number(services)) {
  if (Date.now() > deadline) throw new Error(`only ${count()} of ${services} services after 300 s`);
  await new Promise((r) => setTimeout(r, 50));
}
const syncMs = Date.now() - t0;
void cp.pushContext;
globalThis.gc?.();
const mem = process.memoryUsage();
const calls = source.client.calls();
const sum = (verb) => [...calls].filter(([k]) => k.startsWith(`${verb} `)).reduce((n, [, c]) => n + c, 0);
process.stdout.write(JSON.stringify({ informers: source.kubernetes.informerStats().size, lists: sum('list'), watches: sum('watch'), discovery: sum('discovery'), total: source.client.totalCalls(), syncMs, rssMiB: Math.round(mem.rss / 2 ** 20), heapMiB: Math.round(mem.heapUsed / 2 ** 20) }));
await cp.close();
process.exit(0);
