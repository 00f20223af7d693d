// Compiles a whole state-of-the-world snapshot (listeners, routes, clusters, endpoints) at once; any error rejects all of it.

import '../http/filters/builtin.js';
import { ConfigCode, IssueSink, ProxyConfigError, type ConfigIssue } from '../errors.js';
import { compileCluster, compileEndpoints, type CompiledCluster, type EndpointSpec } from './cluster-config.js';
import type { Cluster, ClusterLoadAssignment, EnvoySnapshot, Listener, RouteConfiguration } from '../../xds/envoy/index.js';
import { compileListener, type CompiledListener } from './listener-config.js';
import { compileRouteTable, type RouteTable } from './route-table.js';

export interface CompiledSnapshot {
  readonly listeners: ReadonlyMap<string, CompiledListener>;
  readonly routes: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, CompiledCluster>;
  /** Endpoints by ClusterLoadAssignment.clusterName (an EDS cluster's service name). */
  readonly endpoints: ReadonlyMap<string, EndpointSpec[]>;
  readonly raw: { listeners: Listener[]; routes: RouteConfiguration[]; clusters: Cluster[]; endpoints: ClusterLoadAssignment[] };
  /** Warnings (the snapshot had no errors). */
  readonly issues: ConfigIssue[];
}

function unique<T extends { name?: string; clusterName?: string }>(items: T[], kind: string, key: (t: T) => string, sink: IssueSink): Map<string, T> {
  const out = new Map<string, T>();
  items.forEach((it, i) => {
    const k = key(it);
    if (out.has(k)) {
      sink.at(`${kind}/${k}`).error(ConfigCode.DuplicateName, '', `${kind} "${k}" appears twice (items ${[...out.keys()].indexOf(k)} and ${i})`);
      return;
    }
    out.set(k, it);
  });
  return out;
}

export function compileSnapshot(s: EnvoySnapshot): CompiledSnapshot {
  const sink = new IssueSink();
  const raw = {
    listeners: [...(s.listeners ?? [])],
    routes: [...(s.routes ?? [])],
    clusters: [...(s.clusters ?? [])],
    endpoints: [...(s.endpoints ?? [])],
  };
  const clusters = new Map<string, CompiledCluster>();
  for (const [name, c] of unique(raw.clusters, 'Cluster', (c) => c.name ?? '', sink)) clusters.set(name, compileCluster(c, sink));
  const endpoints = new Map<string, EndpointSpec[]>();
  for (const [name, cla] of unique(raw.endpoints, 'ClusterLoadAssignment', (e) => e.clusterName ?? '', sink)) {
    sink.at(`ClusterLoadAssignment/${name}`);
    endpoints.set(name, compileEndpoints(cla, sink, false));
  }
  const routes = new Map<string, RouteTable>();
  for (const [name, rc] of unique(raw.routes, 'RouteConfiguration', (r) => r.name ?? '', sink)) routes.set(name, compileRouteTable(rc, sink));
  const listeners = new Map<string, CompiledListener>();
  for (const [name, l] of unique(raw.listeners, 'Listener', (l) => l.name ?? '', sink)) listeners.set(name, compileListener(l, sink));

  // Cross references are warnings: Envoy serves a missing route config as 404 and a missing cluster as 503 (NC).
  const bound = new Map<string, string>();
  for (const l of listeners.values()) {
    sink.at(`Listener/${l.name}`);
    if (l.bindToPort) {
      const key = `${l.address}:${l.port}`;
      const other = bound.get(key);
      if (other && l.port !== 0) sink.error(ConfigCode.DuplicateName, '/address', `address ${key} is also used by listener "${other}"`);
      bound.set(key, l.name);
    }
    for (const chain of [...l.chains, ...(l.defaultChain ? [l.defaultChain] : [])]) {
      const t = chain.terminal;
      if (t?.kind === 'http' && t.hcm.rdsName !== undefined && !routes.has(t.hcm.rdsName)) {
        sink.warn(ConfigCode.UnknownReference, '', `route configuration "${t.hcm.rdsName}" is not in the snapshot (requests get 404 until it is)`);
      }
      if (t?.kind === 'tcp') {
        for (const c of t.tcp.weighted?.map((w) => w.name) ?? [t.tcp.cluster]) {
          if (c && !clusters.has(c)) sink.warn(ConfigCode.UnknownReference, '', `cluster "${c}" is not in the snapshot`);
        }
      }
    }
  }
  for (const rt of routes.values()) {
    sink.at(`RouteConfiguration/${rt.name}`);
    for (const vh of rt.virtualHosts) {
      for (const r of vh.routes) {
        if (r.action.kind !== 'forward') continue;
        const names = r.action.weighted ? r.action.weighted.targets.map((t) => t.name) : [r.action.cluster];
        for (const n of names) {
          if (n && !clusters.has(n)) {
            const msg = `cluster "${n}" (virtual host "${vh.name}", route "${r.name}") is not in the snapshot`;
            if (rt.raw.validateClusters) sink.error(ConfigCode.UnknownReference, '', msg);
            else sink.warn(ConfigCode.UnknownReference, '', msg);
          }
        }
      }
    }
  }
  if (sink.hasErrors) throw new ProxyConfigError(sink.issues);
  return { listeners, routes, clusters, endpoints, raw, issues: sink.issues };
}
