// Istio's NameTable (NDS) for a sidecar whose DNS proxy captures its pod's queries (ISTIO_META_DNS_CAPTURE): every
// service the proxy sees, by its fully qualified name, with its addresses; ServiceEntry hosts without addresses get
// auto-allocated ones when the proxy asks (ISTIO_META_DNS_AUTO_ALLOCATE), from Istio's ranges (Class E 240.240.0.0/16
// and 2001:2::/48), numbered over the whole registry in one stable order so every proxy gives a host the same address.

import type { NameInfo, NameTable } from '../../xds/resource.js';
import type { MeshService } from '../registry/service-registry.js';
import type { ProxyScope } from './listeners.js';

/** Auto-allocated addresses (IPv4 and IPv6) of ServiceEntry hosts that have none, by hostname. */
export function autoAllocatedAddresses(services: readonly MeshService[]): Map<string, string[]> {
  const hosts = [...new Set(services.filter((s) => s.origin === 'ServiceEntry' && !s.addresses.length && !s.hostname.includes('*')).map((s) => s.hostname))].sort();
  return new Map(hosts.map((h, i) => [h, [`240.240.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`, `2001:2::${(i + 1).toString(16)}`]]));
}

export function nameTable(s: ProxyScope, autoAllocate: boolean): NameTable {
  const auto = autoAllocate ? autoAllocatedAddresses(s.push.registry.services()) : new Map<string, string[]>();
  const table: Record<string, NameInfo> = {};
  for (const svc of s.services) {
    if (svc.hostname.includes('*') || table[svc.hostname]) continue;
    const ips = svc.addresses.length ? svc.addresses : (auto.get(svc.hostname) ?? []);
    if (!ips.length) continue;
    table[svc.hostname] = svc.origin === 'Kubernetes' ? { ips: [...ips], registry: 'Kubernetes', shortname: svc.name, namespace: svc.namespace } : { ips: [...ips], registry: 'External' };
  }
  return { table };
}
