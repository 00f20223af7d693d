// `trellis proxy --role ztunnel`: the node proxy program and its start/stop order. The admin port first (so a stuck
// start-up can be inspected and stopped), the stats port, the certificate cache (Istio's CA API, the node's token),
// workload discovery over delta ADS (Istio's Address and Authorization types), and last ZDS, the CNI agent's hand-over of
// ambient pods: a pod is served only once the proxy knows the mesh. stop() takes them down in the reverse order.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdsClient } from '../../xds/ads-client.js';
import { TypeUrl } from '../../xds/resource.js';
import type { Address, Authorization } from '../../xds/istio/workload.js';
import { IstioMetrics } from '../../telemetry/istio-metrics.js';
import { StatsServer } from '../../telemetry/stats-server.js';
import { VERSION } from '../../version.js';
import { log } from '../log.js';
import { IdentityCache } from './identities.js';
import { WorkloadState } from './workload-state.js';
import { ZdsClient } from './zds-client.js';
import { Ztunnel } from './ztunnel.js';

const logger = log('ztunnel');

export interface ZtunnelProgramOptions {
  /** Istio's node id (`ztunnel~<ip>~<pod>.<ns>~…`), its pod, namespace, address and service account. */
  node: { id: string; pod: string; namespace: string; ip: string; serviceAccount: string };
  /** The Kubernetes node it serves (its token names it; workloads carry it). */
  nodeName: string;
  admin: { address: string; port: number };
  stats: { address: string; port: number };
  xds: { address: string };
  ca: { address: string; rootFile: string; trustDomain: string; token: () => string };
  /** The CNI agent's ZDS socket. */
  zdsSocket: string;
}

export class ZtunnelProgram {
  readonly stopped: Promise<void>;
  private finished!: () => void;
  private readonly stoppers: Array<() => unknown> = [];
  private stopping: Promise<void> | undefined;
  private readonly state = new WorkloadState();
  private readonly metrics = new IstioMetrics();
  private ztunnel: Ztunnel | undefined;
  private identities: IdentityCache | undefined;
  private zds: ZdsClient | undefined;
  private discovered = false;

  constructor(private readonly o: ZtunnelProgramOptions) {
    this.stopped = new Promise((resolve) => (this.finished = resolve));
  }

  /** Ready once workload discovery answered and the CNI agent's snapshot is served. */
  get ready(): boolean {
    return this.discovered && !!this.zds?.synced;
  }

  async start(): Promise<void> {
    await this.startAdmin();
    await this.startStats();
    const rootPem = fs.readFileSync(this.o.ca.rootFile, 'utf8');
    const identities = (this.identities = new IdentityCache({ caAddress: this.o.ca.address, rootPem, token: this.o.ca.token, trustDomain: this.o.ca.trustDomain, serverName: 'istiod.istio-system.svc', log: (l) => logger.info(l) }));
    this.stoppers.push(() => identities.stop());
    const ztunnel = (this.ztunnel = new Ztunnel({ state: this.state, identities, metrics: this.metrics, trustDomain: this.o.ca.trustDomain, log: (l) => logger.info(l) }));
    this.stoppers.push(() => ztunnel.close());
    await this.startDiscovery();
    const zds = (this.zds = new ZdsClient(this.o.zdsSocket, { add: (p) => ztunnel.addPod(p), remove: (uid) => ztunnel.removePod(uid), uids: () => ztunnel.enrolled().map((p) => p.uid) }, (l) => logger.warn(l)));
    this.stoppers.push(() => zds.close());
    zds.start();
    logger.info(`zds: connecting to ${this.o.zdsSocket}`);
  }

  /** Workload discovery: the full Address and Authorization sets after each update; the first makes the proxy ready. */
  private startDiscovery(): Promise<void> {
    const { node } = this.o;
    return new Promise((resolve) => {
      let first = true;
      const client = new AdsClient({
        address: this.o.xds.address,
        mode: 'delta',
        envoyTypes: false,
        node: { id: node.id, cluster: 'ztunnel', metadata: { NAMESPACE: node.namespace, SERVICE_ACCOUNT: node.serviceAccount, NAME: node.pod, NODE_NAME: this.o.nodeName, INSTANCE_IPS: node.ip, ISTIO_VERSION: VERSION, CLUSTER_ID: 'Kubernetes' } },
        onUpdate: () => undefined,
        extraTypes: {
          [TypeUrl.Authorization]: (rs) => this.state.setAuthorizations(rs as Authorization[]),
          [TypeUrl.Address]: (rs) => {
            this.state.setAddresses(rs as Address[]);
            this.discovered = true;
            if (first) {
              first = false;
              logger.info(`xds: workload discovery from ${this.o.xds.address}: ${rs.length} addresses`);
              resolve();
            }
          },
        },
        log: (l) => logger.warn(l),
      });
      this.stoppers.push(() => client.close());
      client.start();
    });
  }

  private async startStats(): Promise<void> {
    const server = new StatsServer({ metrics: this.metrics, ready: () => this.ready });
    const port = await server.listen(this.o.stats.address, this.o.stats.port);
    this.stoppers.push(() => server.close());
    logger.info(`stats listening on ${this.o.stats.address}:${port}`);
  }

  /** Istio's ztunnel admin: the config it holds, readiness, and a way to stop it. */
  private async startAdmin(): Promise<void> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n');
      if (path === '/config_dump') return json({ ...this.state.dump(), pods: this.ztunnel?.enrolled() ?? [], certificates: this.identities?.list() ?? [] });
      if (path === '/ready' || path === '/healthz/ready') return void res.writeHead(this.ready ? 200 : 503).end(this.ready ? 'LIVE\n' : 'not ready\n');
      if (path === '/stats/prometheus') return void this.metrics.render().then((body) => res.writeHead(200, { 'content-type': this.metrics.contentType }).end(body));
      if (path === '/quitquitquit' && req.method === 'POST') {
        res.writeHead(200).end('OK\n');
        return void this.stop('quitquitquit');
      }
      res.writeHead(404).end('not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.admin.port, this.o.admin.address, () => resolve());
    });
    this.stoppers.push(() => {
      server.closeAllConnections();
      server.close();
    });
    logger.info(`admin listening on ${this.o.admin.address}:${(server.address() as AddressInfo).port}`);
  }

  stop(why: string): Promise<void> {
    this.stopping ??= (async () => {
      logger.info(`${why}: stopping`);
      for (const s of this.stoppers.reverse()) {
        try {
          await s();
        } catch (err) {
          logger.warn(`stopping: ${(err as Error).message}`);
        }
      }
      this.finished();
    })();
    return this.stopping;
  }
}
