// Istio's metrics of a proxy that runs several worker processes: each worker records the requests it served in its
// own IstioMetrics; on every scrape the primary collects the workers' series as plain data and sums them by name
// and label set, so each request is counted once.

import { PROMETHEUS_CONTENT_TYPE, renderFamilies, sumFamilies, type MetricsJson } from './exposition.js';

export type { MetricsJson } from './exposition.js';

/** Something that renders Prometheus text: one IstioMetrics, or the sum over workers. */
export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export class MergedMetrics implements MetricsSource {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;

  /** `collect` returns every series to add up: the live workers' and those kept from workers that exited. */
  constructor(private readonly collect: () => Promise<MetricsJson[]>) {}

  async render(): Promise<string> {
    return renderFamilies(sumFamilies(await this.collect()));
  }
}

/** Several workers' series summed into one (to keep exited workers' totals compact). */
export async function sumSeries(list: MetricsJson[]): Promise<MetricsJson> {
  return sumFamilies(list);
}
