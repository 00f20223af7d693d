// One `trellis up` run in netns mode for a benchmark part: its manifests in a temporary directory, the mesh started
// and ready, handed to `measure`, then stopped and the directory removed whatever happened. Parts that need pods in
// network namespaces (capture, ambient) share it; without netns support the part prints why it was skipped.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalMesh } from '../../dist/runtime/local-mesh.js';
import { netnsAvailability } from '../../dist/runtime/network-mode.js';

/**
 * @param {{ name: string, manifests: string, addressBase: number, readyMs: number }} o
 * @param {(mesh: LocalMesh) => Promise<string>} measure
 */
export async function withNetnsMesh(o, measure) {
  const netns = netnsAvailability();
  if (!netns.ok) return `_skipped: ${netns.reason}_`;
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
