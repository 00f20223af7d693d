// Proxy status from the control plane's `/debug/syncz` (the ADS server's view, what istioctl proxy-status shows).

import type { ProxyStatus as AdsProxyStatus } from '../../xds/ads-server.js';
import { TypeUrl } from '../../xds/resource.js';
import type { ProxyCertificate, ProxyStatus, SyncState } from '../sources.js';

const SHORT: Record<string, string> = {
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Secret]: 'SDS',
};

/** One syncz entry; `certificate` is read when the control plane adds it (the CA issues the proxy's cert). */
export type SynczEntry = AdsProxyStatus & { certificate?: ProxyCertificate };

/** The proxy's workload as it says itself (WORKLOAD_NAME), else Istio's app-version convention from its labels. */
function workloadOf(identity: AdsProxyStatus['identity']): string | undefined {
  if (identity.workloadName) return identity.workloadName;
  return identity.labels['app'] && identity.labels['version'] ? `${identity.labels['app']}-${identity.labels['version']}` : undefined;
}

export function fromSyncz(entries: readonly SynczEntry[], trustDomain = 'cluster.local'): ProxyStatus[] {
  return entries.map((e) => {
    const sync: Record<string, SyncState> = { CDS: 'NOT SENT', LDS: 'NOT SENT', EDS: 'NOT SENT', RDS: 'NOT SENT' };
    let nack: string | undefined;
    for (const t of e.types) {
      sync[SHORT[t.typeUrl] ?? t.typeUrl.split('.').pop()!] = t.state;
      if (t.state === 'NACK' && t.nack) nack = t.nack.message;
    }
    const id = e.identity;
    const p: ProxyStatus = {
      id: e.id,
      namespace: id.namespace,
      pod: id.podName,
      role: id.role,
      sync,
      certificate: e.certificate ?? { identity: `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount || 'default'}` },
    };
    const wl = workloadOf(id);
    if (wl) p.workload = wl;
    if (id.istioVersion) p.istioVersion = id.istioVersion;
    if (e.connectedAt) p.connectedAt = e.connectedAt;
    if (nack) p.nackMessage = nack;
    return p;
  });
}

/** A `proxies` provider for YamlMeshSource that asks a control plane's debug port (15014). */
export function synczProxies(debugUrl: string, trustDomain?: string): () => Promise<ProxyStatus[]> {
  const url = `${debugUrl.replace(/\/+$/, '')}/debug/syncz`;
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return fromSyncz((await res.json()) as SynczEntry[], trustDomain);
  };
}

/** A `configDump` provider for YamlMeshSource: the control plane's `/debug/config_dump` for one pod's proxy. */
export function controlPlaneConfigDump(debugUrl: string): (namespace: string, pod: string) => Promise<Record<string, unknown> | undefined> {
  const base = `${debugUrl.replace(/\/+$/, '')}/debug/config_dump`;
  return async (namespace, pod) => {
    // The node id holds `<pod>.<namespace>~`: the control plane takes a unique part of it, as istioctl does.
    const res = await fetch(`${base}?proxyID=${encodeURIComponent(`${pod}.${namespace}`)}`, { signal: AbortSignal.timeout(5000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`${base} answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
}
