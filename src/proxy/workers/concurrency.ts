// `--concurrency N`: how many worker processes share the proxy's listeners (Envoy's --concurrency, Istio's ProxyConfig
// `concurrency`). 1 is the single-process proxy; 0 means one per core, as in Istio.

import os from 'node:os';

export function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d+$/.test(text.trim())) throw new Error(`--concurrency must be a whole number of workers (0 = one per core), not "${text}"`);
  const n = Number(text.trim());
  if (n > 256) throw new Error(`--concurrency ${n} is more workers than any machine here has cores for (at most 256)`);
  return n === 0 ? os.availableParallelism() : n;
}
