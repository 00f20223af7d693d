// Reads the control plane's debug endpoints (and proxies' admin ports) for the status commands, with errors a user can act on.

import { PORTS } from '../ports.js';

/** Where `trellis controlplane` serves /debug by default (Istio serves it on the monitoring port 15014 too). */
export const DEFAULT_DEBUG = `http://127.0.0.1:${PORTS.controlPlaneMonitoring}`;

export async function fetchJson(url: string, timeoutMs = 5_000): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new Error(`cannot reach ${new URL(url).origin} (${cause}); is \`trellis controlplane\` (or \`trellis up\`) running? Use --controlplane URL to point elsewhere`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${new URL(url).pathname}: ${res.status} ${text.trim() || res.statusText}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${url} did not answer with JSON`);
  }
}
