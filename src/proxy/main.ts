// The proxy program: loads a snapshot file (re-applied on change), serves admin, drains and exits on SIGTERM or /quitquitquit.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { TypeUrl, type XdsResource } from '../xds/resource.js';
import { AdminServer } from './admin/admin-server.js';
import type { EnvoySnapshot } from './config/envoy-types.js';
import { ProxyConfigError } from './errors.js';
import { log, setLevel } from './log.js';
import { TrellisProxy } from './proxy.js';

const logger = log('main');

/**
 * Reads a snapshot in any of three shapes: `{listeners, routes, clusters, endpoints}`, an Envoy bootstrap with
 * `staticResources`, or a list of xDS resources (`[{typeUrl, value}]`, what the control plane produces).
 */
export function readSnapshot(text: string): EnvoySnapshot {
  const doc = YAML.parse(text) as unknown;
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
    },
  });
  if (values['log-level']) setLevel(values['log-level']);
  const drainMs = Number(values['drain-time-s']) * 1000;
  const proxy = new TrellisProxy({ nodeId: values['node-id'], serviceCluster: values['service-cluster'], listenerDrainMs: drainMs });
  let exiting = false;
  const exit = async (why: string) => {
    if (exiting) return;
    exiting = true;
    logger.info(`${why}: draining for up to ${drainMs} ms`);
    await proxy.drain(drainMs);
    await admin.close();
    await proxy.close();
    process.exit(0);
  };
  const admin = new AdminServer(proxy, { port: Number(values['admin-port']), address: values['admin-address'], onQuit: () => void exit('quitquitquit') });
  const a = await admin.start();
  logger.info(`admin listening on ${a.address}:${a.port}`);
  const load = async (file: string) => {
    try {
      const r = await proxy.apply(readSnapshot(fs.readFileSync(file, 'utf8')));
      logger.info(`applied ${file} (version ${r.version}, ${r.issues.length} warnings)`);
    } catch (err) {
      if (err instanceof ProxyConfigError) for (const i of err.issues) logger.error(`${i.code} ${i.resource}${i.field}: ${i.message}`);
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
  process.on('SIGTERM', () => void exit('SIGTERM'));
  process.on('SIGINT', () => void exit('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err) => {
    logger.error((err as Error).stack ?? String(err));
    process.exit(1);
  });
}
