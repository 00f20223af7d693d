// The proxy program: loads a snapshot file (re-applied on change) or follows the control plane over xDS, runs the CA
// agent, serves admin and stats, drains and exits on SIGTERM or /quitquitquit. With --concurrency N > 1 this process
// is the primary of N worker processes that serve the traffic (workers/pool.ts); everything else stays here.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { TypeUrl, type XdsResource } from '../xds/resource.js';
import { AdminServer } from './admin/admin-server.js';
import type { EnvoySnapshot } from '../xds/envoy/index.js';
import { formatIssue, ProxyConfigError } from './errors.js';
import { log, setLevel } from './log.js';
import type { AdsClient } from '../xds/ads-client.js';
import { nodeId } from '../xds/node.js';
import type { WorkloadIdentity } from '../ca/workload-identity.js';
import { VERSION } from '../version.js';
import type { StatsServer } from '../telemetry/stats-server.js';
import type { MetricsSource } from '../telemetry/merged-metrics.js';
import { parseConcurrency } from './workers/concurrency.js';
import type { Dataplane } from './workers/dataplane.js';
import type { WorkerPool } from './workers/pool.js';
// Modules only the xDS / CA modes use (grpc-js, protobufjs, Istio metrics, x509) load when those modes start: an idle
// sidecar on a static config does not carry them (RSS).

const logger = log('main');

/**
 * Reads a snapshot in any of three shapes: `{listeners, routes, clusters, endpoints}`, an Envoy bootstrap with
 * `staticResources`, or a list of xDS resources (`[{typeUrl, value}]`, what the control plane produces).
 */
export function readSnapshot(text: string): EnvoySnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // YAML (a superset of JSON) only when needed
    const YAML = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = YAML.parse(text);
  }
  if (Array.isArray(doc)) {
    const snap: Required<EnvoySnapshot> = { listeners: [], routes: [], clusters: [], endpoints: [] };
    for (const r of doc as XdsResource[]) {
      if (r.typeUrl === TypeUrl.Listener) snap.listeners.push(r.value);
      else if (r.typeUrl === TypeUrl.RouteConfiguration) snap.routes.push(r.value);
      else if (r.typeUrl === TypeUrl.Cluster) snap.clusters.push(r.value);
      else if (r.typeUrl === TypeUrl.ClusterLoadAssignment) snap.endpoints.push(r.value);
    }
    return snap;
  }
  const o = (doc ?? {}) as Record<string, unknown> & { staticResources?: EnvoySnapshot; static_resources?: EnvoySnapshot };
  const s = o.staticResources ?? o.static_resources;
  if (s) return { listeners: s.listeners ?? [], clusters: s.clusters ?? [], routes: [], endpoints: [] };
  return o as EnvoySnapshot;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'admin-port': { type: 'string', default: '15000' },
      'admin-address': { type: 'string', default: '127.0.0.1' },
      'node-id': { type: 'string' },
      'service-cluster': { type: 'string' },
      'drain-time-s': { type: 'string', default: '5' },
      'log-level': { type: 'string', short: 'l' },
      watch: { type: 'boolean', default: false },
      // Worker processes sharing the listeners (Envoy's --concurrency; 0 = one per core).
      concurrency: { type: 'string' },
      // xDS mode: the control plane's address and who this proxy is (Istio's node id and metadata).
      xds: { type: 'string' },
      'xds-mode': { type: 'string' },
      role: { type: 'string', default: 'sidecar' },
      pod: { type: 'string' },
      namespace: { type: 'string', default: 'default' },
      ip: { type: 'string', default: '127.0.0.1' },
      labels: { type: 'string', default: '' },
      'service-account': { type: 'string', default: 'default' },
      metadata: { type: 'string' },
      'stats-port': { type: 'string' },
      // The agent: the CA to get this workload's certificate from (the token comes in TRELLIS_CA_TOKEN).
      'ca-address': { type: 'string' },
      'ca-root': { type: 'string' },
      'trust-domain': { type: 'string', default: 'cluster.local' },
      'app-metrics': { type: 'string' },
    },
  });
  if (values['log-level']) setLevel(values['log-level']);
  const drainMs = Number(values['drain-time-s']) * 1000;
  const concurrency = parseConcurrency(values.concurrency);
  const role = values.role === 'gateway' ? 'router' : values.role!;
  if (!['sidecar', 'router'].includes(role)) throw new Error(`--role must be sidecar or gateway, not "${values.role}"`);
  // Delta xDS unless asked otherwise, as Istio's agent since 1.22 (ISTIO_DELTA_XDS=false turns it off there too).
  const xdsMode = values['xds-mode'] ?? (process.env.ISTIO_DELTA_XDS?.toLowerCase() === 'false' ? 'sotw' : 'delta');
  if (xdsMode !== 'sotw' && xdsMode !== 'delta') throw new Error(`--xds-mode must be sotw or delta, not "${xdsMode}"`);
  const pod = values.pod ?? `${role === 'router' ? 'istio-ingressgateway' : 'proxy'}-${process.pid}`;
  const nodeIdValue = values['node-id'] ?? nodeId(role as 'sidecar' | 'router', values.ip!, pod, values.namespace!);
  const proxyOptions = { nodeId: nodeIdValue, serviceCluster: values['service-cluster'], listenerDrainMs: drainMs };
  let pool: WorkerPool | undefined;
  let dataplane: Dataplane;
  // The primary of a worker pool serves no traffic: it does not even load the data plane's modules.
  if (concurrency > 1) {
    const { WorkerPool } = await import('./workers/pool.js');
    dataplane = pool = new WorkerPool({ count: concurrency, proxy: proxyOptions });
  } else {
    const { InProcessDataplane } = await import('./workers/in-process.js');
    dataplane = new InProcessDataplane(proxyOptions, (l) => logger.warn(l));
  }
  const labels = Object.fromEntries(values.labels!.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  const extra = values.metadata ? (JSON.parse(values.metadata) as Record<string, unknown>) : {};
  let metrics: MetricsSource | undefined;
  if (values.xds) {
    // Istio's standard metrics, access logs and traces for this workload (in every worker, summed here).
    const { workloadMetadata, workloadOfPod } = await import('../telemetry/workload-metadata.js');
    const local = workloadMetadata({ workload: typeof extra.WORKLOAD_NAME === 'string' ? extra.WORKLOAD_NAME : workloadOfPod(pod), namespace: values.namespace!, labels, serviceAccount: values['service-account'] });
    metrics = await dataplane.enableTelemetry({ nodeId: nodeIdValue, local });
  }
  let xdsClient: AdsClient | undefined;
  let stats: StatsServer | undefined;
  let exiting = false;
  const exit = async (why: string) => {
    if (exiting) return;
    exiting = true;
    logger.info(`${why}: draining for up to ${drainMs} ms`);
    xdsClient?.close();
    identity?.stop();
    await stats?.close();
    await dataplane.shutdown(drainMs);
    await admin.close();
    process.exit(0);
  };
  const admin = new AdminServer(dataplane.admin, { port: Number(values['admin-port']), address: values['admin-address'], onQuit: () => void exit('quitquitquit') });
  if (pool) {
    const p = pool;
    admin.register('/workers', 'worker processes: pid, state, config version, restarts, connections and requests served', false, async () => ({ type: 'application/json', body: JSON.stringify({ concurrency: p.count, version: p.configVersion, workers: await p.workers() }, null, 2) + '\n' }));
  }
  const a = await admin.start();
  logger.info(`admin listening on ${a.address}:${a.port}`);
  await dataplane.start();
  if (pool) logger.info(`${pool.count} workers started (pids ${(await pool.workers()).map((w) => w.pid).join(', ')})`);
  const load = async (file: string) => {
    try {
      const r = await dataplane.apply(readSnapshot(fs.readFileSync(file, 'utf8')));
      logger.info(`applied ${file} (version ${r.version}, ${r.issues.length} warnings${pool ? `, ${pool.count} workers` : ''})`);
    } catch (err) {
      if (err instanceof ProxyConfigError) for (const i of err.issues) logger.error(formatIssue(i));
      else logger.error(`cannot apply ${file}: ${(err as Error).message}`);
    }
  };
  if (values.config) {
    const file = values.config;
    await load(file);
    if (values.watch) {
      let timer: NodeJS.Timeout | undefined;
      fs.watch(file, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void load(file), 100);
      });
    }
  }
  let identity: WorkloadIdentity | undefined;
  if (values['ca-address']) {
    // Istio's pilot-agent role: a key and a certificate for this workload before any TLS listener needs them.
    const rootPem = fs.readFileSync(values['ca-root']!, 'utf8');
    const { WorkloadIdentity } = await import('../ca/workload-identity.js');
    identity = new WorkloadIdentity({
      identity: { trustDomain: values['trust-domain']!, namespace: values.namespace!, serviceAccount: values['service-account']! },
      caAddress: values['ca-address'],
      rootPem,
      token: () => process.env.TRELLIS_CA_TOKEN ?? '',
      serverName: 'istiod.istio-system.svc',
    });
    identity.on('rotated', (c) => {
      dataplane.setSecret('default', { certChain: c.certChain, privateKey: c.privateKey });
      dataplane.setSecret('ROOTCA', { trustedCa: c.rootCert });
      logger.info(`ca: certificate for spiffe://${values['trust-domain']}/ns/${values.namespace}/sa/${values['service-account']} valid until ${c.notAfter.toISOString()}`);
    });
    identity.on('error', (err) => logger.error(`ca: renewing the certificate failed: ${err.message}`));
    await identity.start();
  }
  if (values.xds) {
    const [{ AdsClient }, { referencedNames }, { controlPlaneSecrets }, { StatsServer }] = await Promise.all([
      import('../xds/ads-client.js'),
      import('../xds/references.js'),
      import('./tls/sds-names.js'),
      import('../telemetry/stats-server.js'),
    ]);
    xdsClient = new AdsClient({
      address: values.xds,
      mode: xdsMode,
      node: {
        id: nodeIdValue,
        cluster: labels.app ?? pod,
        metadata: { NAMESPACE: values.namespace, LABELS: labels, SERVICE_ACCOUNT: values['service-account'], NAME: pod, INSTANCE_IPS: values.ip, ISTIO_VERSION: VERSION, CLUSTER_ID: 'Kubernetes', ...extra },
      },
      log: (l) => logger.warn(l),
      // Certificates come from this process's agent (SDS names `default`/`ROOTCA` resolve locally, as Envoy's do
      // from pilot-agent); credentials the control plane resolves from Kubernetes Secrets (`kubernetes://<name>`,
      // gateway certificates and DestinationRule credentialName) are fetched from it over SDS.
      follow: (s) => ({ ...referencedNames(s), secrets: controlPlaneSecrets(referencedNames(s).secrets) }),
      // With workers, this resolves only when every worker applied the update: the ACK means the whole proxy has it.
      onUpdate: async (snapshot) => {
        try {
          const r = await dataplane.apply(snapshot, snapshot.secrets);
          logger.info(`xds: applied version ${r.version} (${snapshot.listeners.length} listeners, ${snapshot.clusters.length} clusters${pool ? `, ${pool.count} workers` : ''})`);
        } catch (err) {
          if (err instanceof ProxyConfigError) for (const i of err.issues) logger.error(formatIssue(i));
          throw err; // NACK: the control plane is told, the proxy keeps its last good config
        }
      },
    });
    xdsClient.start();
    const m = metrics!;
    admin.register('/stats/prometheus', 'print server stats in Prometheus format', false, async () => ({ body: await m.render(), type: m.contentType }));
    if (values['stats-port']) {
      stats = new StatsServer({ metrics: m, appMetricsUrl: values['app-metrics'], ready: () => dataplane.ready });
      const p = await stats.listen(values.ip!, Number(values['stats-port']));
      logger.info(`stats listening on ${values.ip}:${p}`);
    }
    logger.info(`xds: connecting to ${values.xds} as ${nodeIdValue}`);
  }
  process.on('SIGTERM', () => void exit('SIGTERM'));
  process.on('SIGINT', () => void exit('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err) => {
    logger.error((err as Error).stack ?? String(err));
    process.exit(1);
  });
}
