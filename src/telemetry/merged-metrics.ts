// Istio's metrics of a proxy that runs several worker processes: each worker records the requests it served in its
// own registry; on every scrape the primary collects the workers' series (prom-client's JSON form) and sums them by
// name and label set (prom-client's AggregatorRegistry.aggregate), so each request is counted once.

import client from 'prom-client';

/** What `registry.getMetricsAsJSON()` returns: plain data that crosses the IPC channel. */
export type MetricsJson = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>;

/** Something that renders Prometheus text: one IstioMetrics, or the sum over workers. */
export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export class MergedMetrics implements MetricsSource {
  readonly contentType = client.Registry.PROMETHEUS_CONTENT_TYPE;

  /** `collect` returns every series to add up: the live workers' and those kept from workers that exited. */
  constructor(private readonly collect: () => Promise<MetricsJson[]>) {}

  async render(): Promise<string> {
    return client.AggregatorRegistry.aggregate(await this.collect()).metrics();
  }
}

/** Several workers' series summed into one (to keep exited workers' totals compact). */
export function sumSeries(list: MetricsJson[]): Promise<MetricsJson> {
  return client.AggregatorRegistry.aggregate(list).getMetricsAsJSON();
}
