// The control plane's own metrics with istiod's names (pilot_*), fed by the ADS server's events.

import client from 'prom-client';
import type { AdsServer } from '../xds/ads-server.js';
import { TYPE_SHORT } from '../xds/ads-server.js';

export class ControlPlaneMetrics {
  readonly registry = new client.Registry();

  constructor(ads: AdsServer, services: () => number) {
    const r = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    const xds = new client.Gauge({ name: 'pilot_xds', help: 'Number of endpoints connected to this pilot using XDS.', labelNames: ['version'], registers: r });
    const pushes = new client.Counter({ name: 'pilot_xds_pushes', help: 'Pilot build and send errors for lds, rds, cds and eds.', labelNames: ['type'], registers: r });
    const rejects = new client.Counter({ name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', labelNames: ['type'], registers: r });
    const convergence = new client.Histogram({ name: 'pilot_proxy_convergence_time', help: 'Delay in seconds between config change and a proxy receiving all required configuration.', buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30], registers: r });
    const pushTime = new client.Histogram({ name: 'pilot_xds_push_time', help: 'Total time in seconds Pilot takes to push lds, rds, cds and eds.', buckets: [0.01, 0.1, 1, 3, 5, 10, 20, 30], registers: r });
    new client.Gauge({ name: 'pilot_services', help: 'Total services known to pilot.', registers: r, collect() { this.set(services()); } });
    let connected = 0;
    ads.on('connect', () => xds.set({ version: 'trellis' }, ++connected));
    ads.on('disconnect', () => xds.set({ version: 'trellis' }, --connected));
    ads.on('push', (p) => pushTime.observe(p.durationMs / 1000));
    ads.on('ack', (a) => {
      pushes.inc({ type: (TYPE_SHORT[a.typeUrl] ?? 'other').toLowerCase() });
      convergence.observe(a.latencyMs / 1000);
    });
    ads.on('nack', (n) => rejects.inc({ type: (TYPE_SHORT[n.typeUrl] ?? 'other').toLowerCase() }));
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
