// One `trellis up` run in netns mode for a benchmark part: its manifests in a temporary directory, the mesh started
// and ready, handed to `measure`, then stopped and the directory removed whatever happened. Parts that need pods in
// network namespaces (capture, ambient) share it; without netns support the part reports why it was skipped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMesh } from '../../dist/runtime/local-mesh.js';
import { netnsAvailability } from '../../dist/runtime/network-mode.js';

/** go-httpbin's stand-in behind Service `httpbin` (8000 → 8080) and an idle `client` pod to run wrk in, in `namespace`. */
export const httpbinAndClient = (namespace) => `apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: ${namespace}}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec: {containers: [{name: httpbin, image: docker.io/mccutchen/go-httpbin:v2.15.0, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: client, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}]}
`;

/**
 * @param {{ name: string, manifests: string, addressBase: number, readyMs: number }} o
 * @param {(mesh: LocalMesh) => Promise<{ text: string, goals: object[] }>} measure
 * @returns the part's { text, goals }; without netns, why it was skipped and no goal
 */
export async function withNetnsMesh(o, measure) {
  const netns = netnsAvailability();
  if (!netns.ok) return { text: `_skipped: ${netns.reason}_`, goals: [] };
  const dir = mkdtempSync(join(tmpdir(), `trellis-bench-${o.name}-`));
  let mesh;
  try {
    writeFileSync(join(dir, `${o.name}.yaml`), o.manifests);
    mesh = await LocalMesh.start({ dir, stateDir: join(dir, '.trellis'), ingressPort: 0, xdsPort: 0, debugPort: 0, caPort: 0, addressBase: o.addressBase, network: 'netns', log: () => {} });
    await mesh.waitReady(o.readyMs);
    return await measure(mesh);
  } finally {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
