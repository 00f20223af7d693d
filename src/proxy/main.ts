// The proxy program's entry point: reads the command line into ProxyProgram's options, wires SIGTERM/SIGINT to its
// stop(), starts it and exits when it has stopped (0 after a drain, 1 when start-up failed). The program itself, its
// parts and their order are in proxy-program.ts.

import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PORTS } from '../ports.js';
import { nodeId } from '../xds/node.js';
import { shrinkHeapWhenIdle } from './idle-heap.js';
import { log, setLevel } from './log.js';
import { ProxyProgram, type ProxyProgramOptions } from './proxy-program.js';
import { parseConcurrency } from './workers/concurrency.js';
import type { ZtunnelProgramOptions } from './ztunnel/ztunnel-program.js';

const logger = log('main');

/** The Envoy-style proxy (sidecar, gateway, waypoint), or the node proxy (ztunnel), which is a program of its own. */
export type ProxyArgs = { logLevel?: string } & ({ options: ProxyProgramOptions; ztunnel?: undefined } | { ztunnel: ZtunnelProgramOptions; options?: undefined });

/** Where Kubernetes projects the pod's istio-ca service-account token (Istio's third-party JWT). */
export const ISTIO_TOKEN_FILE = '/var/run/secrets/tokens/istio-token';

/**
 * The command line, checked, over Istio's pod environment (POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT,
 * CA_ADDR: flags win). Everything it throws is the caller's usage error.
 */
export function parseProxyArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ProxyArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'admin-port': { type: 'string', default: String(PORTS.proxyAdmin) },
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
      namespace: { type: 'string' },
      ip: { type: 'string' },
      labels: { type: 'string', default: '' },
      'service-account': { type: 'string' },
      metadata: { type: 'string' },
      'stats-port': { type: 'string' },
      // Where the stats port listens when not on --ip (a gateway's listeners bind --ip, its own ports elsewhere).
      'stats-address': { type: 'string' },
      // The agent: the CA to get this workload's certificate from (the token comes in TRELLIS_CA_TOKEN).
      'ca-address': { type: 'string' },
      'ca-root': { type: 'string' },
      // The CA token: TRELLIS_CA_TOKEN, else this file, read at each request (Kubernetes rotates it).
      'ca-token-file': { type: 'string' },
      'trust-domain': { type: 'string', default: 'cluster.local' },
      'app-metrics': { type: 'string' },
      // The node proxy (ztunnel): the CNI agent's ZDS socket and the node it serves.
      'zds-socket': { type: 'string' },
      node: { type: 'string' },
    },
  });
  values.pod ??= env.POD_NAME;
  values.namespace ??= env.POD_NAMESPACE ?? 'default';
  values.ip ??= env.INSTANCE_IP ?? '127.0.0.1';
  values['service-account'] ??= env.SERVICE_ACCOUNT ?? 'default';
  values['ca-address'] ??= env.CA_ADDR;
  const tokenFile = values['ca-token-file'] ?? ISTIO_TOKEN_FILE;
  const token = () => env.TRELLIS_CA_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
  const role = values.role === 'gateway' ? 'router' : values.role;
  if (role !== 'sidecar' && role !== 'router' && role !== 'ztunnel' && role !== 'waypoint') throw new Error(`--role must be sidecar, gateway, waypoint or ztunnel, not "${values.role}"`);
  // Delta xDS unless asked otherwise, as Istio's agent since 1.22 (ISTIO_DELTA_XDS=false turns it off there too).
  const mode = values['xds-mode'] ?? (process.env.ISTIO_DELTA_XDS?.toLowerCase() === 'false' ? 'sotw' : 'delta');
  if (mode !== 'sotw' && mode !== 'delta') throw new Error(`--xds-mode must be sotw or delta, not "${mode}"`);
  if (values['ca-address'] && !values['ca-root']) throw new Error('--ca-address needs --ca-root (the CA\'s root certificate, PEM)');
  const port = (name: 'admin-port' | 'stats-port', text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number, not "${text}"`);
    return n;
  };
  const drainS = Number(values['drain-time-s']);
  if (!Number.isFinite(drainS) || drainS < 0) throw new Error(`--drain-time-s must be a number of seconds, not "${values['drain-time-s']}"`);
  const ip = values.ip!;
  const pod = values.pod ?? `${role === 'router' ? 'istio-ingressgateway' : role === 'sidecar' ? 'proxy' : role}-${process.pid}`;
  if (role === 'ztunnel') {
    if (!values.xds || !values['ca-address'] || !values['zds-socket']) throw new Error('--role ztunnel needs --xds, --ca-address (with --ca-root) and --zds-socket');
    return {
      logLevel: values['log-level'],
      ztunnel: {
        node: { id: values['node-id'] ?? nodeId('ztunnel', ip, pod, values.namespace!), pod, namespace: values.namespace!, ip, serviceAccount: values['service-account']! },
        nodeName: values.node ?? 'local',
        admin: { address: values['admin-address']!, port: port('admin-port', values['admin-port']!) },
        stats: { address: values['stats-address'] ?? ip, port: port('stats-port', values['stats-port'] ?? String(PORTS.mergedStats)) },
        xds: { address: values.xds },
        ca: { address: values['ca-address'], rootFile: values['ca-root']!, trustDomain: values['trust-domain']!, token },
        zdsSocket: values['zds-socket'],
      },
    };
  }
  const labels = Object.fromEntries(values.labels!.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  let metadata: Record<string, unknown> = {};
  if (values.metadata) {
    try {
      metadata = JSON.parse(values.metadata) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--metadata must be a JSON object: ${(err as Error).message}`);
    }
  }
  return {
    logLevel: values['log-level'],
    options: {
      node: { id: values['node-id'] ?? nodeId(role, ip, pod, values.namespace!), role, pod, namespace: values.namespace!, ip, labels, serviceAccount: values['service-account']!, metadata, serviceCluster: values['service-cluster'] },
      admin: { address: values['admin-address']!, port: port('admin-port', values['admin-port']!) },
      drainMs: drainS * 1000,
      concurrency: parseConcurrency(values.concurrency),
      ...(values.config ? { config: { file: values.config, watch: values.watch! } } : {}),
      ...(values['ca-address'] ? { ca: { address: values['ca-address'], rootFile: values['ca-root']!, trustDomain: values['trust-domain']!, token } } : {}),
      ...(values.xds ? { xds: { address: values.xds, mode } } : {}),
      ...(values['stats-port'] ? { stats: { address: values['stats-address'] ?? ip, port: port('stats-port', values['stats-port']), appMetricsUrl: values['app-metrics'] } } : {}),
    },
  };
}

/** Runs the proxy until a signal or /quitquitquit has drained it, then exits the process. */
export async function runProxy(args: ProxyArgs): Promise<never> {
  if (args.logLevel) setLevel(args.logLevel);
  const program = args.ztunnel ? new (await import('./ztunnel/ztunnel-program.js')).ZtunnelProgram(args.ztunnel) : new ProxyProgram(args.options);
  // Wired before start(): a signal during start-up drains and exits like one later does.
  process.on('SIGTERM', () => void program.stop('SIGTERM'));
  process.on('SIGINT', () => void program.stop('SIGINT'));
  let code = 0;
  // An idle sidecar gives back the young generation that start-up or traffic grew (see idle-heap.ts).
  const idle = shrinkHeapWhenIdle();
  try {
    await program.start();
  } catch (err) {
    code = 1;
    logger.error(`start-up failed: ${(err as Error).stack ?? String(err)}`);
    void program.stop('start-up failed');
  }
  await program.stopped;
  idle.stop();
  process.exit(code);
}

export function main(argv: string[]): Promise<never> {
  return runProxy(parseProxyArgs(argv));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err) => {
    logger.error((err as Error).message);
    process.exit(2);
  });
}
