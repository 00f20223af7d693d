// The proxy program's parts and their order. start() brings them up one after another — admin port, data plane,
// static config file, CA agent, xDS client, stats port — and stop(why) takes down what exists in the reverse order,
// once, from any point: a signal or /quitquitquit may arrive while start() still waits for the CA or for worker
// processes, and the proxy must then drain and stop, not crash.

import fs from 'node:fs';
import type { WorkloadIdentity } from '../ca/workload-identity.js';
import type { MetricsSource } from '../telemetry/merged-metrics.js';
import { VERSION } from '../version.js';
import { AdminServer } from './admin/admin-server.js';
import { ConfigCode, formatIssue, ProxyConfigError } from './errors.js';
import { log } from './log.js';
import { readSnapshot } from './snapshot-file.js';
import type { Dataplane } from './workers/dataplane.js';
import type { WorkerPool } from './workers/pool.js';
// Modules only the xDS / CA modes use (grpc-js, protobufjs, Istio metrics, x509) load when those phases run: an idle
// sidecar on a static config does not carry them (RSS).

const logger = log('main');

/** Who this proxy is: Istio's node id and the metadata the control plane chooses its config by. */
export interface ProxyNode {
  id: string;
  role: 'sidecar' | 'router' | 'waypoint';
  pod: string;
  namespace: string;
  /** The workload's address (INSTANCE_IPS); a gateway's listeners bind here. */
  ip: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** More node metadata (WORKLOAD_NAME, GATEWAY_PORTS …). */
  metadata: Record<string, unknown>;
  serviceCluster?: string;
}

export interface ProxyProgramOptions {
  node: ProxyNode;
  admin: { address: string; port: number };
  /** How long in-flight requests may take to finish when stopping. */
  drainMs: number;
  /** Worker processes sharing the listeners; 1 is this process alone. */
  concurrency: number;
  /** A static snapshot file, applied at start and, with `watch`, on every change. */
  config?: { file: string; watch: boolean };
  /** Istio's pilot-agent role: the CA to get this workload's certificate from, and the proof of who it is. */
  ca?: { address: string; rootFile: string; trustDomain: string; token: () => string };
  /** The control plane's ADS address and flavour. */
  xds?: { address: string; mode: 'sotw' | 'delta' };
  /** The merged stats port; it serves Istio's metrics, which exist in xDS mode only. */
  stats?: { address: string; port: number; appMetricsUrl?: string };
}

/**
 * Start-up order, and why: the admin port first, so a stuck start-up can be inspected and stopped (/quitquitquit);
 * the data plane (worker processes) before any config reaches it; the static config file; the workload certificate
 * before the xDS client, so the first snapshot's TLS listeners and clusters find it; the stats port last, once
 * there are metrics to serve. stop() runs the same list backwards, so the admin port is the last thing to go.
 */
export const PHASES = ['admin', 'dataplane', 'config', 'ca', 'xds', 'stats'] as const;
export type Phase = (typeof PHASES)[number];

/** Ends start() when stop() is called: start-up stops at the step it was on. */
class Interrupted extends Error {}

export class ProxyProgram {
  /** Resolves when stop() has finished, whoever called it (a signal, /quitquitquit, a failed start-up). */
  readonly stopped: Promise<void>;
  private readonly stoppers: Array<{ phase: Phase; stop: () => unknown }> = [];
  private readonly interrupted: Promise<never>;
  private interrupt!: () => void;
  private finished!: () => void;
  private running: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private phase: Phase | 'started' | undefined;
  private dataplane!: Dataplane;
  private pool: WorkerPool | undefined;
  private admin!: AdminServer;
  private metrics: MetricsSource | undefined;

  constructor(private readonly o: ProxyProgramOptions) {
    this.interrupted = new Promise<never>((_, reject) => (this.interrupt = () => reject(new Interrupted())));
    this.interrupted.catch(() => {}); // nobody may be waiting on it when it fires
    this.stopped = new Promise((resolve) => (this.finished = resolve));
  }

  /** Brings the parts up in PHASES order. Resolves when all are up, or quietly when stop() cut start-up short. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /**
   * Drains and stops what start() brought up, in the reverse order. Idempotent (every call gets the same promise) and
   * safe at any point: during start-up it first ends start() at its current step, then stops what exists.
   */
  stop(why: string): Promise<void> {
    this.stopping ??= this.shutdown(why);
    return this.stopping;
  }

  private async run(): Promise<void> {
    const steps: Record<Phase, () => Promise<void>> = {
      admin: () => this.startAdmin(),
      dataplane: () => this.startDataplane(),
      config: () => this.loadConfig(),
      ca: () => this.startAgent(),
      xds: () => this.startXds(),
      stats: () => this.startStats(),
    };
    try {
      for (const phase of PHASES) {
        if (this.stopping) return;
        this.phase = phase;
        await steps[phase]();
      }
      this.phase = 'started';
    } catch (err) {
      if (err instanceof Interrupted || this.stopping) return; // whatever the interrupted step threw is moot now
      throw err;
    }
  }

  private async shutdown(why: string): Promise<void> {
    try {
      const during = this.phase && this.phase !== 'started' ? ` (start-up stopped at the ${this.phase} phase)` : '';
      logger.info(`${why}: draining for up to ${this.o.drainMs} ms${during}`);
      this.interrupt();
      // Every wait in start() races the interrupt, so it ends at once; only then is the list of parts final.
      await this.running?.catch(() => {});
      for (const s of this.stoppers.reverse()) {
        try {
          await s.stop();
        } catch (err) {
          logger.warn(`stopping the ${s.phase}: ${(err as Error).message}`);
        }
      }
    } finally {
      this.finished();
    }
  }

  /** A step's wait, cut short by stop(). */
  private until<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.interrupted]);
  }

  /** The data plane object comes first (it opens nothing): the admin API serves its state from the start. */
  private async startAdmin(): Promise<void> {
    const { node, concurrency } = this.o;
    const proxy = { nodeId: node.id, serviceCluster: node.serviceCluster, listenerDrainMs: this.o.drainMs };
    // The primary of a worker pool serves no traffic: it does not even load the data plane's modules.
    if (concurrency > 1) {
      const { WorkerPool } = await this.until(import('./workers/pool.js'));
      this.dataplane = this.pool = new WorkerPool({ count: concurrency, proxy });
    } else {
      const { InProcessDataplane } = await this.until(import('./workers/in-process.js'));
      this.dataplane = new InProcessDataplane(proxy, (l) => logger.warn(l));
    }
    if (this.o.xds) {
      // Istio's standard metrics, access logs and traces for this workload (in every worker, summed here).
      const { workloadMetadata, workloadOfPod } = await this.until(import('../telemetry/workload-metadata.js'));
      const workload = typeof node.metadata.WORKLOAD_NAME === 'string' ? node.metadata.WORKLOAD_NAME : workloadOfPod(node.pod);
      const local = workloadMetadata({ workload, namespace: node.namespace, labels: node.labels, serviceAccount: node.serviceAccount });
      this.metrics = await this.until(this.dataplane.enableTelemetry({ nodeId: node.id, local, ...(node.role === 'waypoint' ? { waypoint: true } : {}) }));
    }
    const admin = (this.admin = new AdminServer(this.dataplane.admin, { ...this.o.admin, onQuit: () => void this.stop('quitquitquit') }));
    const pool = this.pool;
    if (pool) {
      admin.register('/workers', 'worker processes: pid, state, config version, restarts, connections and requests served', false, async () => ({ type: 'application/json', body: JSON.stringify({ concurrency: pool.count, version: pool.configVersion, workers: await pool.workers() }, null, 2) + '\n' }));
    }
    const listening = admin.start();
    this.stoppers.push({ phase: 'admin', stop: () => listening.then(() => admin.close(), () => undefined) });
    const a = await this.until(listening);
    logger.info(`admin listening on ${a.address}:${a.port}`);
  }

  private async startDataplane(): Promise<void> {
    // Registered before it starts: stopping while workers are still forking drains (or kills) those that exist.
    this.stoppers.push({ phase: 'dataplane', stop: () => this.dataplane.shutdown(this.o.drainMs) });
    await this.until(this.dataplane.start());
    if (this.pool) logger.info(`${this.pool.count} workers started (pids ${(await this.until(this.pool.workers())).map((w) => w.pid).join(', ')})`);
  }

  private async loadConfig(): Promise<void> {
    const config = this.o.config;
    if (!config) return;
    const load = async () => {
      try {
        const r = await this.dataplane.apply(readSnapshot(fs.readFileSync(config.file, 'utf8')));
        logger.info(`applied ${config.file} (version ${r.version}, ${r.issues.length} warnings${this.pool ? `, ${this.pool.count} workers` : ''})`);
      } catch (err) {
        if (err instanceof ProxyConfigError) for (const i of err.issues) logger.error(formatIssue(i));
        else logger.error(`cannot apply ${config.file}: ${(err as Error).message}`);
      }
    };
    await this.until(load());
    if (!config.watch) return;
    let timer: NodeJS.Timeout | undefined;
    const watcher = fs.watch(config.file, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 100);
    });
    this.stoppers.push({
      phase: 'config',
      stop: () => {
        clearTimeout(timer);
        watcher.close();
      },
    });
  }

  /** Istio's pilot-agent role: a key and a certificate for this workload before any TLS listener needs them. */
  private async startAgent(): Promise<void> {
    const ca = this.o.ca;
    if (!ca) return;
    const { node } = this.o;
    const rootPem = fs.readFileSync(ca.rootFile, 'utf8');
    const { WorkloadIdentity } = await this.until(import('../ca/workload-identity.js'));
    const identity: WorkloadIdentity = new WorkloadIdentity({
      identity: { trustDomain: ca.trustDomain, namespace: node.namespace, serviceAccount: node.serviceAccount },
      caAddress: ca.address,
      rootPem,
      token: ca.token,
      serverName: 'istiod.istio-system.svc',
    });
    identity.on('rotated', (c) => {
      this.dataplane.setSecret('default', { certChain: c.certChain, privateKey: c.privateKey });
      this.dataplane.setSecret('ROOTCA', { trustedCa: c.rootCert });
      logger.info(`ca: certificate for spiffe://${ca.trustDomain}/ns/${node.namespace}/sa/${node.serviceAccount} valid until ${c.notAfter.toISOString()}`);
    });
    identity.on('error', (err) => logger.error(`ca: renewing the certificate failed: ${err.message}`));
    this.stoppers.push({ phase: 'ca', stop: () => identity.stop() });
    await this.until(identity.start());
  }

  private async startXds(): Promise<void> {
    const xds = this.o.xds;
    if (!xds) return;
    const { node } = this.o;
    const [{ AdsClient }, { referencedNames }, { controlPlaneSecrets }, { TypeUrl }] = await this.until(Promise.all([import('../xds/ads-client.js'), import('../xds/references.js'), import('./tls/sds-names.js'), import('../xds/resource.js')]));
    // Istio's DNS proxy (ISTIO_META_DNS_CAPTURE → DNS_CAPTURE): answers the pod's queries from the NDS name table.
    let dns: import('./dns/dns-proxy.js').DnsProxy | undefined;
    if (String(node.metadata.DNS_CAPTURE) === 'true') {
      const { DnsProxy, DNS_PROXY_PORT } = await this.until(import('./dns/dns-proxy.js'));
      dns = new DnsProxy();
      const proxy = dns;
      this.stoppers.push({ phase: 'xds', stop: () => proxy.close() });
      await this.until(proxy.listen());
      logger.info(`dns: proxy listening on 127.0.0.1:${DNS_PROXY_PORT}`);
    }
    const client = new AdsClient({
      ...(dns ? { extraTypes: { [TypeUrl.NameTable]: (rs: Array<Record<string, unknown>>) => dns!.setTable((rs[0] ?? {}) as import('../xds/resource.js').NameTable) } } : {}),
      address: xds.address,
      mode: xds.mode,
      node: {
        id: node.id,
        cluster: node.labels.app ?? node.pod,
        metadata: { NAMESPACE: node.namespace, LABELS: node.labels, SERVICE_ACCOUNT: node.serviceAccount, NAME: node.pod, INSTANCE_IPS: node.ip, ISTIO_VERSION: VERSION, CLUSTER_ID: 'Kubernetes', ...node.metadata },
      },
      log: (l) => logger.warn(l),
      // Certificates come from this process's agent (SDS names `default`/`ROOTCA` resolve locally, as Envoy's do
      // from pilot-agent); credentials the control plane resolves from Kubernetes Secrets (`kubernetes://<name>`,
      // gateway certificates and DestinationRule credentialName) are fetched from it over SDS.
      follow: (s) => ({ ...referencedNames(s), secrets: controlPlaneSecrets(referencedNames(s).secrets) }),
      // With workers, this resolves only when every worker applied the update: the ACK means the whole proxy has it.
      onUpdate: async (snapshot) => {
        try {
          const r = await this.dataplane.apply(snapshot, snapshot.secrets);
          // A port that cannot be bound (taken, or below 1024 without root) is only a warning to the update: say it.
          for (const i of r.issues) if (i.code === ConfigCode.BindFailed) logger.warn(formatIssue(i));
          logger.info(`xds: applied version ${r.version} (${snapshot.listeners.length} listeners, ${snapshot.clusters.length} clusters${this.pool ? `, ${this.pool.count} workers` : ''})`);
        } catch (err) {
          if (err instanceof ProxyConfigError) for (const i of err.issues) logger.error(formatIssue(i));
          throw err; // NACK: the control plane is told, the proxy keeps its last good config
        }
      },
    });
    this.stoppers.push({ phase: 'xds', stop: () => client.close() });
    client.start();
    const metrics = this.metrics!;
    this.admin.register('/stats/prometheus', 'print server stats in Prometheus format', false, async () => ({ body: await metrics.render(), type: metrics.contentType }));
    logger.info(`xds: connecting to ${xds.address} as ${node.id}`);
  }

  private async startStats(): Promise<void> {
    const stats = this.o.stats;
    const metrics = this.metrics;
    if (!stats || !metrics) return;
    const { StatsServer } = await this.until(import('../telemetry/stats-server.js'));
    const server = new StatsServer({ metrics, appMetricsUrl: stats.appMetricsUrl, ready: () => this.dataplane.ready });
    const listening = server.listen(stats.address, stats.port);
    this.stoppers.push({ phase: 'stats', stop: () => listening.then(() => server.close(), () => undefined) });
    const port = await this.until(listening);
    logger.info(`stats listening on ${stats.address}:${port}`);
  }
}
