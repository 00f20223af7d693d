// The merged metrics port (Istio's 15020): the proxy's Istio metrics together with the application's own, when the
// pod's prometheus.io annotations name them (Istio's metrics merging), and the readiness endpoint.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSource } from './merged-metrics.js';

export interface StatsServerOptions {
  /** The proxy's Istio metrics (one registry, or the sum over worker processes). */
  metrics: MetricsSource;
  /** The app's own metrics endpoint (from prometheus.io/port and prometheus.io/path), scraped and appended. */
  appMetricsUrl?: string;
  ready?: () => boolean;
}

export class StatsServer {
  private readonly server: http.Server;

  constructor(private readonly o: StatsServerOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/stats/prometheus' || path === '/metrics') {
      let body = await this.o.metrics.render();
      if (this.o.appMetricsUrl) {
        try {
          const app = await fetch(this.o.appMetricsUrl, { signal: AbortSignal.timeout(2000) });
          if (app.ok) body += '\n' + (await app.text());
        } catch {
          /* the app's metrics are optional: the mesh's still serve */
        }
      }
      res.writeHead(200, { 'content-type': this.o.metrics.contentType });
      res.end(body);
      return;
    }
    if (path === '/healthz/ready') {
      const ok = this.o.ready?.() ?? true;
      res.writeHead(ok ? 200 : 503).end(ok ? '' : 'not ready\n');
      return;
    }
    res.writeHead(404).end('not found\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
