// ProxyConfig (Istio's per-proxy settings): read from the mesh config's `defaultConfig` and from a pod's
// `proxy.istio.io/config` annotation by one reader, so both report the same problems the same way.

/** The ProxyConfig fields Trellis reads; the rest is kept as written. */
export interface ProxyConfig {
  /** Worker processes (0 = one per core). */
  concurrency?: number;
  proxyMetadata?: Record<string, string>;
  tracing?: { sampling?: number; zipkin?: { address?: string } };
  discoveryAddress?: string;
  holdApplicationUntilProxyStarts?: boolean;
  [field: string]: unknown;
}

/** A field of a ProxyConfig that cannot be used, with why (`field` is a dotted path such as `proxyMetadata.ISTIO_DELTA_XDS`). */
export interface ProxyConfigProblem {
  field: string;
  message: string;
}

type Obj = Record<string, unknown>;

/** Reads a ProxyConfig document. Fields with problems are left out of `config` and reported. */
export function readProxyConfig(doc: unknown): { config: ProxyConfig; problems: ProxyConfigProblem[] } {
  const problems: ProxyConfigProblem[] = [];
  if (doc === null || doc === undefined) return { config: {}, problems };
  if (typeof doc !== 'object' || Array.isArray(doc)) return { config: {}, problems: [{ field: '', message: `a ProxyConfig must be a mapping, not ${JSON.stringify(doc)}` }] };
  const config: ProxyConfig = { ...(doc as Obj) };
  const c = config.concurrency;
  if (c !== undefined && c !== null && (typeof c !== 'number' || !Number.isInteger(c) || c < 0)) {
    problems.push({ field: 'concurrency', message: `concurrency must be a whole number ≥ 0 (0 = one worker per core), not ${JSON.stringify(c)}` });
    delete config.concurrency;
  }
  const md = config.proxyMetadata;
  if (md !== undefined && md !== null) {
    if (typeof md !== 'object' || Array.isArray(md)) {
      problems.push({ field: 'proxyMetadata', message: `proxyMetadata must be a map of strings, not ${JSON.stringify(md)}` });
      delete config.proxyMetadata;
    } else {
      config.proxyMetadata = Object.fromEntries(Object.entries(md as Obj).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
      const delta = config.proxyMetadata.ISTIO_DELTA_XDS;
      if (delta !== undefined && !['true', 'false'].includes(delta.toLowerCase())) {
        problems.push({ field: 'proxyMetadata.ISTIO_DELTA_XDS', message: `proxyMetadata.ISTIO_DELTA_XDS must be "true" or "false", not ${JSON.stringify((md as Obj).ISTIO_DELTA_XDS)}` });
        delete config.proxyMetadata.ISTIO_DELTA_XDS;
      }
    }
  }
  return { config, problems };
}

/**
 * The xDS flavour `proxyMetadata.ISTIO_DELTA_XDS` asks for, as Istio's agent reads it (delta unless "false", the default
 * since Istio 1.22); undefined when the config does not say.
 */
export function xdsModeOf(config: ProxyConfig): 'sotw' | 'delta' | undefined {
  const v = config.proxyMetadata?.ISTIO_DELTA_XDS;
  return v === undefined ? undefined : v.toLowerCase() === 'false' ? 'sotw' : 'delta';
}

/** Istio's precedence per field: the pod's annotation over the mesh's defaultConfig (proxyMetadata merged by key). */
export function mergeProxyConfig(mesh: ProxyConfig, pod: ProxyConfig | undefined): ProxyConfig {
  if (!pod) return mesh;
  return { ...mesh, ...pod, ...(mesh.proxyMetadata || pod.proxyMetadata ? { proxyMetadata: { ...mesh.proxyMetadata, ...pod.proxyMetadata } } : {}) };
}
