// The control plane (istiod's role) wired together: a config store feeds the service registry and a new push
// context per change; the ADS server pushes what changed to every connected proxy; the debug server reports it.

import { AdsServer } from '../xds/ads-server.js';
import type { ConfigStore } from './store/config-store.js';
import { ServiceRegistry } from './registry/service-registry.js';
import { DEFAULT_CLUSTER, PushContext, type ClusterOptions } from './translate/push-context.js';
import { MeshConfigGenerator } from './translate/generator.js';
import { JwksResolver } from './jwks/jwks-resolver.js';
import { ControlPlaneMetrics } from '../telemetry/controlplane-metrics.js';

export interface ControlPlaneOptions {
  store: ConfigStore;
  /** The cluster domain, and mesh config given on the command line (a layer over the files' mesh config). */
  cluster?: Partial<ClusterOptions>;
  /** Debounce of pushes (default 100 ms). */
  debounceMs?: number;
  log?: (line: string) => void;
}

export class ControlPlane {
  readonly registry: ServiceRegistry;
  readonly ads: AdsServer;
  readonly cluster: ClusterOptions;
  private push: PushContext;
  private version = 0;
  private readonly log: (line: string) => void;
  readonly startedAt = new Date();
  readonly metrics: ControlPlaneMetrics;
  /** JWKS of RequestAuthentication rules, fetched here and inlined into proxy config (istiod's behaviour). */
  readonly jwks: JwksResolver;

  constructor(private readonly options: ControlPlaneOptions) {
    this.log = options.log ?? ((l) => process.stderr.write(l + '\n'));
    this.cluster = { ...DEFAULT_CLUSTER, ...options.cluster };
    this.registry = new ServiceRegistry(this.cluster.domain);
    this.registry.setResources(options.store.list());
    this.jwks = new JwksResolver({ log: this.log });
    this.jwks.on('change', () => this.rebuild('JWKS fetched'));
    this.push = this.newPushContext();
    this.ads = new AdsServer({ generator: new MeshConfigGenerator(this.push), debounceMs: options.debounceMs, identifier: 'trellis', log: this.log });
    this.metrics = new ControlPlaneMetrics(this.ads, () => this.registry.services().length);
    options.store.on('change', (change) => {
      this.log(`config: ${change.reason} (+${change.added.length} ~${change.updated.length} -${change.removed.length})`);
      this.registry.setResources(options.store.list());
    });
    // Registry changes come from config (above) and from the runtime's workloads: both rebuild and push.
    this.registry.on('change', () => this.rebuild('registry changed'));
  }

  private newPushContext(): PushContext {
    return new PushContext(this.options.store.list(), this.registry.snapshot(), this.cluster, ++this.version, this.jwks);
  }

  private rebuild(reason: string): void {
    this.push = this.newPushContext();
    this.ads.setGenerator(new MeshConfigGenerator(this.push));
    this.ads.requestPush({ reason });
  }

  get pushContext(): PushContext {
    return this.push;
  }

  get store(): ConfigStore {
    return this.options.store;
  }

  async listen(host: string, xdsPort: number): Promise<number> {
    return this.ads.listen(host, xdsPort);
  }

  async close(): Promise<void> {
    this.jwks.close();
    await this.ads.close();
    await this.options.store.close();
  }
}
