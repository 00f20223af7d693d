// The one way Trellis talks to a Kubernetes API server: @kubernetes/client-node loads the kubeconfig (a file or the
// pod's in-cluster service account) and supplies TLS and credentials; requests go out as raw JSON over one keep-alive
// agent (watches through client-node's Watch, see informer.ts), and every call is counted by verb and resource (the
// benchmark compares topologies by them).

import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export type Verb = 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete' | 'discovery';

/** A failed call: the HTTP status and the API's Status object when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeList {
  metadata: { resourceVersion?: string; continue?: string };
  items: KubeObject[];
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** For PATCH: `application/merge-patch+json` (default), `application/json-patch+json`, `application/apply-patch+yaml`. */
  contentType?: string;
  /** What the call is counted as (default: from the method). */
  verb?: Verb;
  /** Give up after this long without an answer (default 30 s): a stuck connection must not stall an informer. */
  timeoutMs?: number;
}

const METHOD_VERB: Record<string, Verb> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The resource a path names, for counting: `/api/v1/namespaces/a/pods/x` → `pods`. */
function resourceOfPath(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const start = parts[0] === 'api' ? 2 : 3; // api/v1 | apis/group/version
  const rest = parts.slice(start);
  if (rest[0] === 'namespaces' && rest.length >= 3) return rest[2]!;
  return rest[0] ?? parts.join('/');
}

export class KubeClient {
  /** Calls made so far, by `verb resource` (`list pods`, `watch virtualservices`). */
  private readonly counts = new Map<string, number>();
  private readonly agent: https.Agent;
  readonly server: string;

  private constructor(
    private readonly config: KubeConfig,
    tls: https.AgentOptions,
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.agent = new https.Agent({ ...tls, keepAlive: true });
  }

  /** From a kubeconfig file, or (no file) the default rules: $KUBECONFIG, ~/.kube/config, else the pod's service account. */
  static async fromKubeconfig(file?: string): Promise<KubeClient> {
    const config = new KubeConfig();
    if (file) config.loadFromFile(file);
    else config.loadFromDefault();
    return KubeClient.of(config);
  }

  /** Inside a pod: the service account's token and CA, and KUBERNETES_SERVICE_HOST/PORT. */
  static async inCluster(): Promise<KubeClient> {
    const config = new KubeConfig();
    config.loadFromCluster();
    return KubeClient.of(config);
  }

  private static async of(config: KubeConfig): Promise<KubeClient> {
    const opts: https.RequestOptions = {};
    await config.applyToHTTPSOptions(opts);
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = opts;
    return new KubeClient(config, { ca, cert, key, pfx, passphrase, servername, ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}) });
  }

  /** Counts of the calls made so far, by `verb resource`. */
  calls(): ReadonlyMap<string, number> {
    return this.counts;
  }

  totalCalls(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** The kubeconfig, for client-node's own Watch (src/k8s/informer.ts), which counts its calls with record(). */
  get kubeConfig(): KubeConfig {
    return this.config;
  }

  /** Counts one call made outside request(). */
  record(verb: Verb, path: string): void {
    const key = `${verb} ${verb === 'discovery' ? path : resourceOfPath(path)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Credentials are asked for on every call: a projected token file is rotated under a long-running process. */
  private async headers(extra: Record<string, string>): Promise<Record<string, string>> {
    const opts: https.RequestOptions = { headers: {} };
    await this.config.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return headers;
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  /** One request; resolves with the parsed JSON body, rejects with a KubeApiError for any status >= 400. */
  async request<T = KubeObject>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const verb = options.verb ?? METHOD_VERB[method] ?? 'get';
    this.record(verb, path);
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const contentType = options.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    const headers = await this.headers(body === undefined ? {} : { 'content-type': contentType });
    return new Promise<T>((resolve, reject) => {
      const req = https.request(this.url(path, options.query), { method, agent: this.agent, headers, timeout: options.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = undefined;
          }
          if ((res.statusCode ?? 0) >= 400) {
            const status = parsed as { reason?: string; message?: string } | undefined;
            reject(new KubeApiError(res.statusCode!, status?.reason ?? '', `${method} ${path}: ${res.statusCode} ${status?.message ?? text.slice(0, 200)}`));
          } else if (parsed === undefined) reject(new Error(`${method} ${path}: the response is not JSON`));
          else resolve(parsed as T);
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${options.timeoutMs ?? 30_000} ms`)));
      req.end(body);
    });
  }

  /** A discovery document (`/apis/discovery.k8s.io`); undefined when the server does not serve that group. */
  async discover<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path, { verb: 'discovery' });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
