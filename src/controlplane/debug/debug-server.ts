// The control plane's debug endpoints (istiod's /debug on its monitoring port): syncz, config_dump, registryz, configz,
// and the Gateway API status istiod would write to the objects (status).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VERSION } from '../../version.js';
import type { ControlPlane } from '../control-plane.js';
import { configDump } from './config-dump.js';
import { meshObjects, type MeshRuntime } from './objects.js';
import { gatewayApiStatus, stampTransitions, type ObjectStatus } from '../translate/gateway-api/status.js';

export class DebugServer {
  private readonly server: http.Server;
  /** The status last served, so a condition keeps its lastTransitionTime while it does not change. */
  private lastStatus: ObjectStatus[] = [];

  /** The Gateway API status now, each condition keeping its lastTransitionTime while it holds. */
  private gatewayStatus(): ObjectStatus[] {
    this.lastStatus = stampTransitions(this.lastStatus, gatewayApiStatus(this.cp.pushContext), new Date());
    return this.lastStatus;
  }

  /** @param runtime the run this control plane is part of (`trellis up`); alone, it reports on its own config. */
  constructor(
    private readonly cp: ControlPlane,
    private readonly runtime?: MeshRuntime,
  ) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, 2));
    };
    switch (url.pathname) {
      case '/ready':
      case '/healthz/ready':
        res.writeHead(200).end('ok\n');
        return;
      case '/metrics':
        void this.cp.metrics.render().then((body) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(body);
        });
        return;
      case '/version':
        return json(200, { version: VERSION, startedAt: this.cp.startedAt.toISOString() });
      case '/debug/syncz':
        return json(200, this.cp.ads.proxies());
      case '/debug/config_dump': {
        const id = url.searchParams.get('proxyID');
        if (!id) return json(400, { error: 'proxyID is required' });
        const found = this.cp.ads.configFor(id);
        if (!found) return json(404, { error: `no connected proxy matches "${id}" (see /debug/syncz)` });
        return json(200, configDump(found.id, found.resources, found.versions));
      }
      case '/debug/registryz':
        return json(200, { services: this.cp.registry.services().map(({ resource: _r, ...s }) => s), workloads: this.cp.registry.workloads() });
      case '/debug/objects':
        // The objects this control plane serves, with the status it computes (what `trellis get` prints).
        return json(200, meshObjects(this.cp, this.runtime, this.gatewayStatus()));
      case '/debug/controlplanes':
        // Every control plane of the run, so a client that knows one finds the others.
        return json(200, this.runtime?.controlPlanes() ?? [{ namespace: this.cp.cluster.controlPlaneNamespace ?? this.cp.pushContext.meshModel.controlPlaneNamespace, name: '', debug: '' }]);
      case '/debug/configz':
        return json(200, {
          revision: this.cp.store.revision(),
          resources: this.cp.store.list().map((r) => ({ kind: r.kind, apiVersion: r.apiVersion, namespace: r.metadata.namespace, name: r.metadata.name, file: r.source?.file })),
          rejections: this.cp.store.rejections(),
        });
      case '/debug/status': {
        this.gatewayStatus();
        const want = (field: 'kind' | 'namespace' | 'name', o: ObjectStatus) => !url.searchParams.has(field) || url.searchParams.get(field) === o[field];
        return json(200, this.lastStatus.filter((o) => want('kind', o) && want('namespace', o) && want('name', o)));
      }
      default:
        return json(404, { error: 'not found', endpoints: ['/debug/syncz', '/debug/config_dump?proxyID=', '/debug/registryz', '/debug/configz', '/debug/objects', '/debug/controlplanes', '/debug/status?kind=&namespace=&name=', '/ready', '/version'] });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
