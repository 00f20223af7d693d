// Kubernetes mode: API calls and control-plane memory of a ClusterWide vs a MultiTenant control plane over the same
// cluster (a genuine kube-apiserver + etcd on loopback, src/k8s/testing): N services with a pod each across M
// namespaces, every namespace a member. OpenShift Service Mesh's claim is that cluster-wide "significantly reduces the
// number of Kubernetes API Server calls in large meshes": a multi-tenant control plane lists and watches each kind in
// each member namespace, a cluster-wide one once. Each topology runs in a fresh process (bench/kubernetes-worker.mjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { table } from './lib/table.mjs';

const WORKER = fileURLToPath(new URL('./kubernetes-worker.mjs', import.meta.url));

function objects(namespaces, perNamespace) {
  const docs = [];
  for (let n = 0; n < namespaces; n++) {
    const ns = `bench-${String(n).padStart(3, '0')}`;
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}`);
    for (let s = 0; s < perNamespace; s++) {
      docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${s}, namespace: ${ns}}\nspec: {selector: {app: svc-${s}}, ports: [{name: http, port: 80, targetPort: 8080}]}`);
      docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: svc-${s}-0, namespace: ${ns}, labels: {app: svc-${s}}}\nspec: {serviceAccountName: default, containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]}`);
    }
  }
  return { yaml: docs.join('\n---\n'), names: Array.from({ length: namespaces }, (_, n) => `bench-${String(n).padStart(3, '0')}`) };
}

const controlPlane = (mode, members) => `apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec: {version: v2.4, mode: ${mode}}
---
apiVersion: maistra.io/v1
kind: ServiceMeshMemberRoll
metadata: {name: default, namespace: istio-system}
spec: {members: [${members.join(', ')}]}
`;

function runWorker(kubeconfig, services) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', WORKER, kubeconfig, String(services)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`kubernetes worker exited ${code}`))));
  });
}

export async function runKubernetes(o = { namespaces: 100, perNamespace: 10 }) {
  const { TestCluster, testClusterUnavailable } = await import('../dist/k8s/testing/test-cluster.js');
  const why = await testClusterUnavailable();
  if (why) return `(skipped: ${why})`;
  const { KubeClient } = await import('../dist/k8s/client/kube-client.js');
  const { installCrds } = await import('../dist/k8s/install-crds.js');
  const cluster = await TestCluster.start({ log: () => {} });
  try {
    const client = await KubeClient.fromKubeconfig(cluster.kubeconfig);
    await installCrds(client);
    client.close();
    const { yaml, names } = objects(o.namespaces, o.perNamespace);
    const t0 = Date.now();
    await cluster.kubectlAsync(['apply', '-f', '-'], yaml);
    const createMs = Date.now() - t0;
    const rows = [];
    for (const mode of ['ClusterWide', 'MultiTenant']) {
      await cluster.kubectlAsync(['apply', '-f', '-'], controlPlane(mode, names));
      const r = await runWorker(cluster.kubeconfig, o.namespaces * o.perNamespace);
      rows.push([mode, r.informers, r.lists, r.watches, r.discovery, r.total, r.syncMs, r.rssMiB, r.heapMiB]);
    }
    return [
      `### Kubernetes mode: ${o.namespaces * o.perNamespace} services and pods in ${o.namespaces} member namespaces (created in ${Math.round(createMs / 1000)} s)`,
      '',
      table(['topology', 'informers', 'list calls', 'watch calls', 'discovery calls', 'API calls to sync', 'sync (ms)', 'RSS (MiB)', 'heap (MiB)'], rows),
      '',
      'API calls are counted by the control plane\'s client from start to a synced store with every service; memory is the control-plane process (store, registry, push context) after a GC.',
    ].join('\n');
  } finally {
    await cluster.stop();
  }
}
