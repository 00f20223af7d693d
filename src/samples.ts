// For tests (and benchmarks) that check Trellis against Istio's own sample manifests: those are data kept beside the
// repository (../shared/istio-samples), never copied into it. TRELLIS_SHARED names that shared folder when the clone
// is not beside it. Nothing a user runs needs them: `trellis demo` runs examples/bookinfo (examples.ts).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of shared test data: $TRELLIS_SHARED, else the repository's sibling ../shared. */
export function sharedDir(): string {
  return (process.env.TRELLIS_SHARED || fileURLToPath(new URL('../../shared', import.meta.url))).replace(/\/$/, ''); // dist/ → repo → sibling
}

/** The istio-samples folder, or an Error that says where it was looked for and how to point at it. */
export function istioSamplesDir(): string {
  const dir = join(sharedDir(), 'istio-samples');
  if (existsSync(dir)) return dir;
  throw new Error(`Istio's samples were not found at ${dir}; set TRELLIS_SHARED to the folder that holds istio-samples/ (the repository's ../shared)`);
}

/** Istio's analyzer test table as data (README.md, cases.json, testdata/), or an Error that says where it was looked for. */
export function istioAnalyzerTableDir(): string {
  const dir = join(sharedDir(), 'conformance', 'istio-analyzers');
  if (existsSync(join(dir, 'cases.json'))) return dir;
  throw new Error(`Istio's analyzer table was not found at ${dir}; set TRELLIS_SHARED to the folder that holds conformance/istio-analyzers/ (the repository's ../shared)`);
}
