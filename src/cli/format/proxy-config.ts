// istioctl-style tables of an Envoy config dump (`/config_dump` of a proxy, or the control plane's dump for one).

import { columns } from './columns.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** The entries of one `*ConfigDump` section, whatever form the dump takes (full dump or `?resource=` list). */
function section(dump: Json, type: string): Json[] {
  return arr(dump.configs).map(obj).filter((c) => str(c['@type']).endsWith(`.${type}`));
}

export function clustersOf(dump: Json): Json[] {
  return section(dump, 'ClustersConfigDump').flatMap((s) => [...arr(s.staticClusters), ...arr(s.dynamicActiveClusters)].map((c) => obj(obj(c).cluster)));
}
export function listenersOf(dump: Json): Json[] {
  return section(dump, 'ListenersConfigDump').flatMap((s) => [
    ...arr(s.staticListeners).map((l) => obj(obj(l).listener)),
    ...arr(s.dynamicListeners).map((l) => obj(obj(obj(l).activeState).listener)),
  ]);
}
export function routesOf(dump: Json): Json[] {
  return section(dump, 'RoutesConfigDump').flatMap((s) => [...arr(s.staticRouteConfigs), ...arr(s.dynamicRouteConfigs)].map((r) => obj(obj(r).routeConfig)));
}
export function endpointsOf(dump: Json): Json[] {
  return section(dump, 'EndpointsConfigDump').flatMap((s) => [...arr(s.staticEndpointConfigs), ...arr(s.dynamicEndpointConfigs)].map((e) => obj(obj(e).endpointConfig)));
}

/** `/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews` → `reviews.default` (istioctl's form). */
function istioConfigName(metadata: unknown): string {
  const config = str(obj(obj(obj(metadata).filterMetadata).istio).config);
  const m = /\/namespaces\/([^/]+)\/[^/]+\/([^/]+)$/.exec(config);
  return m ? `${m[2]}.${m[1]}` : '';
}

/** A table as rows of cells under its headers: the CLI prints it in columns, the console's Envoy tab draws it. */
export interface ConfigTable {
  headers: string[];
  rows: string[][];
}

export function clustersTable(dump: Json, filter: { fqdn?: string; port?: number; subset?: string; direction?: string } = {}): string {
  const t = clusterRows(dump, filter);
  return columns(t.headers, t.rows);
}

export function clusterRows(dump: Json, filter: { fqdn?: string; port?: number; subset?: string; direction?: string } = {}): ConfigTable {
  const rows: string[][] = [];
  for (const c of clustersOf(dump)) {
    const name = str(c.name);
    const parts = name.split('|');
    const istio = parts.length === 4;
    const [direction, port, subset, fqdn] = istio ? parts : [ '', '', '', name];
    if (filter.fqdn && fqdn !== filter.fqdn) continue;
    if (filter.port && Number(port) !== filter.port) continue;
    if (filter.subset && subset !== filter.subset) continue;
    if (filter.direction && direction !== filter.direction) continue;
    const type = str(c.type) || (c.clusterType ? str(obj(c.clusterType).name) : 'EDS');
    rows.push([fqdn || '-', port || '-', subset || '-', direction || '-', type, istioConfigName(c.metadata)]);
  }
  rows.sort((a, b) => a[0]!.localeCompare(b[0]!) || Number(a[1]) - Number(b[1]) || a[2]!.localeCompare(b[2]!));
  return { headers: ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'], rows };
}

function chainMatch(chain: Json): string {
  const m = obj(chain.filterChainMatch);
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`Port: ${str(m.destinationPort)}`);
  const ranges = arr(m.prefixRanges).map(obj);
  if (ranges.length) parts.push(`Addr: ${ranges.map((r) => `${str(r.addressPrefix)}/${str(r.prefixLen ?? 32)}`).join(',')}`);
  if (m.transportProtocol) parts.push(`Trans: ${str(m.transportProtocol)}`);
  const alpn = arr(m.applicationProtocols).map(str);
  if (alpn.length) parts.push(`App: ${alpn.join(',')}`);
  const sni = arr(m.serverNames).map(str);
  if (sni.length) parts.push(`SNI: ${sni.join(',')}`);
  return parts.length ? parts.join('; ') : 'ALL';
}

function chainDestination(chain: Json): string {
  for (const f of arr(chain.filters).map(obj)) {
    const tc = obj(f.typedConfig);
    const type = str(tc['@type']);
    if (type.endsWith('.HttpConnectionManager')) {
      const rds = obj(tc.rds);
      if (rds.routeConfigName) return `Route: ${str(rds.routeConfigName)}`;
      const inline = obj(tc.routeConfig);
      const first = obj(obj(arr(inline.virtualHosts)[0]).routes ? arr(obj(arr(inline.virtualHosts)[0]).routes)[0] : {});
      const cluster = str(obj(first.route).cluster);
      return cluster ? `Inline Route: ${routeMatch(obj(first.match))} → ${cluster}` : 'Inline Route';
    }
    if (type.endsWith('.TcpProxy')) {
      if (tc.cluster) return `Cluster: ${str(tc.cluster)}`;
      const weighted = arr(obj(tc.weightedClusters).clusters).map((w) => str(obj(w).name));
      return `Clusters: ${weighted.join(', ')}`;
    }
  }
  return 'Non-HTTP/Non-TCP';
}

export function listenersTable(dump: Json, filter: { port?: number; address?: string } = {}): string {
  const t = listenerRows(dump, filter);
  return columns(t.headers, t.rows);
}

export function listenerRows(dump: Json, filter: { port?: number; address?: string } = {}): ConfigTable {
  const rows: string[][] = [];
  for (const l of listenersOf(dump)) {
    const sa = obj(obj(l.address).socketAddress);
    const apiListener = l.apiListener !== undefined;
    const address = apiListener ? str(l.name) : str(sa.address);
    const port = apiListener ? '-' : str(sa.portValue);
    if (filter.port && Number(port) !== filter.port) continue;
    if (filter.address && address !== filter.address) continue;
    if (apiListener) {
      rows.push([address, port, 'ALL', 'API listener (proxyless gRPC)']);
      continue;
    }
    for (const chain of arr(l.filterChains).map(obj)) rows.push([address, port, chainMatch(chain), chainDestination(chain)]);
    if (l.defaultFilterChain) rows.push([address, port, 'ALL (default)', chainDestination(obj(l.defaultFilterChain))]);
  }
  return { headers: ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'], rows };
}

function routeMatch(m: Json): string {
  if (m.prefix !== undefined) return `${str(m.prefix)}*`;
  if (m.path !== undefined) return str(m.path);
  if (m.safeRegex !== undefined) return str(obj(m.safeRegex).regex);
  if (m.pathSeparatedPrefix !== undefined) return `${str(m.pathSeparatedPrefix)}/*`;
  return '/*';
}

function domainsCell(domains: string[]): string {
  // istioctl shows the shortest forms first and folds the rest.
  const shown = [...domains].sort((a, b) => a.length - b.length).slice(0, 2);
  const more = domains.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` + ${more} more...` : '');
}

export function routesTable(dump: Json, filter: { name?: string } = {}): string {
  const t = routeRows(dump, filter);
  return columns(t.headers, t.rows);
}

export function routeRows(dump: Json, filter: { name?: string } = {}): ConfigTable {
  const rows: string[][] = [];
  for (const rc of routesOf(dump)) {
    const name = str(rc.name);
    if (filter.name && name !== filter.name) continue;
    for (const vh of arr(rc.virtualHosts).map(obj)) {
      const routes = arr(vh.routes).map(obj);
      for (const r of routes.length ? routes : [{}]) {
        rows.push([name, str(vh.name), domainsCell(arr(vh.domains).map(str)), routeMatch(obj(r.match)), istioConfigName(r.metadata) || (obj(r.directResponse).status === 404 ? '404' : '')]);
      }
    }
  }
  return { headers: ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], rows };
}

export function endpointsTable(dump: Json, filter: { cluster?: string } = {}): string {
  const rows: string[][] = [];
  for (const cla of endpointsOf(dump)) {
    const cluster = str(cla.clusterName);
    if (filter.cluster && cluster !== filter.cluster) continue;
    for (const locality of arr(cla.endpoints).map(obj)) {
      for (const lb of arr(locality.lbEndpoints).map(obj)) {
        const sa = obj(obj(obj(lb.endpoint).address).socketAddress);
        const status = str(lb.healthStatus) || 'HEALTHY';
        rows.push([`${str(sa.address)}:${str(sa.portValue)}`, status, 'OK', cluster]);
      }
    }
  }
  rows.sort((a, b) => a[3]!.localeCompare(b[3]!) || a[0]!.localeCompare(b[0]!));
  return columns(['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], rows);
}
