// Where Istio's own sample manifests are: they are data kept beside this repository (../shared/istio-samples),
// not copied into it. TRELLIS_ISTIO_SAMPLES overrides the place, e.g. for a clone made somewhere else.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = [
  () => process.env.TRELLIS_ISTIO_SAMPLES,
  () => fileURLToPath(new URL('../../shared/istio-samples', import.meta.url)), // dist/ → repo → its sibling
  () => '/work/shared/istio-samples', // the development machine's layout, for clones made elsewhere (e.g. /tmp)
];

/** The istio-samples folder, or an Error that says where it was looked for. */
export function istioSamplesDir(): string {
  const tried: string[] = [];
  for (const candidate of CANDIDATES) {
    const dir = candidate();
    if (!dir) continue;
    if (existsSync(dir)) return dir.replace(/\/$/, '');
    tried.push(dir);
  }
  throw new Error(`Istio's samples were not found (looked in ${tried.join(', ')}); set TRELLIS_ISTIO_SAMPLES to the istio-samples folder`);
}
