// Runs the graph queries for each namespace against a MetricsSource and builds the graph from the answers.

import type { MetricsSource, Sample } from '../sources.js';
import { buildGraph, type GraphInput, type GraphOptions } from './build.js';
import { graphQueries } from './queries.js';
import type { Graph } from './types.js';

export async function fetchGraph(metrics: MetricsSource, options: GraphOptions & { queryTime?: number }): Promise<Graph> {
  const time = options.queryTime ?? Math.floor(Date.now() / 1000);
  const input: Required<GraphInput> = { requests: [], tcp: [], responseTime: [], security: [], waypointRequests: [] };
  const run = async (queries: string[]): Promise<Sample[]> => (await Promise.all(queries.map((q) => metrics.query(q, time)))).flat();
  await Promise.all(
    options.namespaces.map(async (ns) => {
      const q = graphQueries(ns, options.duration);
      const [requests, tcp, responseTime, security, waypointRequests] = await Promise.all([run(q.requests), run(q.tcp), run(q.responseTime), run(q.security), run(q.waypointRequests)]);
      input.requests.push(...requests);
      input.tcp.push(...tcp);
      input.responseTime.push(...responseTime);
      input.security.push(...security);
      input.waypointRequests.push(...waypointRequests);
    }),
  );
  return buildGraph(input, { ...options, timestamp: time });
}
