// The data plane in this process: one TrellisProxy, plus Istio's metrics and the Telemetry API's logs and traces when
// enabled. The single-process proxy uses it directly; each worker process runs one behind the IPC channel.

import { proxyTarget, type AdminTarget } from '../admin/admin-target.js';
import type { EnvoySnapshot, Secret } from '../../xds/envoy/index.js';
import { TrellisProxy, type ApplyResult, type ProxyOptions } from '../proxy.js';
import type { TlsSecret } from '../tls/tls-context.js';
import type { IstioMetrics } from '../../telemetry/istio-metrics.js';
import { ProxyTelemetry, registerTelemetryFilters } from '../../telemetry/proxy-telemetry.js';
import type { Dataplane } from './dataplane.js';
import type { TelemetrySetup } from './protocol.js';

export class InProcessDataplane implements Dataplane {
  readonly proxy: TrellisProxy;
  readonly admin: AdminTarget;
  private telemetry: ProxyTelemetry | undefined;
  metrics: IstioMetrics | undefined;

  constructor(options: ProxyOptions, private readonly warn: (line: string) => void = () => {}) {
    registerTelemetryFilters(); // before any snapshot: the control plane may configure istio.stats and trellis.tracing
    this.proxy = new TrellisProxy(options);
    this.admin = proxyTarget(this.proxy);
  }

  get ready(): boolean {
    return this.proxy.ready;
  }

  async enableTelemetry(setup: TelemetrySetup): Promise<IstioMetrics> {
    // The metrics modules load only here: an idle proxy on a static config does not carry them (RSS).
    const [{ IstioMetrics }, { MetricsCollector }] = await Promise.all([import('../../telemetry/istio-metrics.js'), import('../../telemetry/collector.js')]);
    const metrics = new IstioMetrics();
    const local = setup.local;
    const t = new ProxyTelemetry({ nodeId: setup.nodeId, serviceName: `${local.canonicalService}.${local.namespace}`, log: this.warn });
    this.telemetry = t;
    this.metrics = metrics;
    this.proxy.observe(new MetricsCollector({ metrics, local, ...(setup.waypoint ? { waypoint: true } : {}), policy: (prefix) => t.statsPolicy(prefix) }));
    this.proxy.observe(t);
    return metrics;
  }

  async start(): Promise<void> {}

  async apply(snapshot: EnvoySnapshot, sds?: readonly Secret[]): Promise<ApplyResult> {
    if (sds) this.proxy.secrets.applySds(sds);
    const r = await this.proxy.apply(snapshot);
    this.telemetry?.configure(snapshot);
    return r;
  }

  setSecret(name: string, secret: TlsSecret): void {
    this.proxy.secrets.set(name, secret);
  }

  /** Drains the listeners and flushes spans; the proxy stays for close(). */
  async drain(ms: number): Promise<void> {
    await this.proxy.drain(ms);
    await this.telemetry?.exporter.flush(); // spans of the requests that finished while draining too
  }

  async shutdown(ms: number): Promise<void> {
    await this.drain(ms);
    await this.proxy.close();
  }
}
