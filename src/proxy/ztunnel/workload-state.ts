// What the node proxy knows of the mesh, from Istio's workload discovery (WDS): workloads by uid and by IP, services by
// `namespace/hostname` and by VIP, L4 policies by `namespace/name`. Rebuilt from each update's full set (the xDS client
// keeps the delta state), read on every connection: which service or workload an address is, its endpoints, its
// identity, the policies that apply to it.

import { ipText, type Address, type Authorization, type GatewayAddress } from '../../xds/istio/workload.js';

/** Where a waypoint takes HBONE; without an address (not deployed yet) traffic for it has nowhere to go. */
export interface WaypointTarget {
  address?: string;
  hostname?: string;
  port: number;
}

export interface MeshWorkload {
  uid: string;
  name: string;
  namespace: string;
  ips: string[];
  /** It takes HBONE (through its node proxy, or itself) rather than plaintext. */
  hbone: boolean;
  trustDomain: string;
  serviceAccount: string;
  waypoint?: WaypointTarget;
  node: string;
  canonicalName: string;
  canonicalRevision: string;
  workloadName: string;
  /** `namespace/hostname` → service port → the port it listens on for it. */
  services: ReadonlyMap<string, ReadonlyMap<number, number>>;
  authorizationPolicies: readonly string[];
  healthy: boolean;
}

export interface MeshServiceInfo {
  key: string;
  name: string;
  namespace: string;
  hostname: string;
  vips: string[];
  /** Service port → target port (0: the workload's own, from its `services` map). */
  ports: ReadonlyMap<number, number>;
  waypoint?: WaypointTarget;
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>`: a workload's identity. */
export const principalOf = (w: Pick<MeshWorkload, 'trustDomain' | 'namespace' | 'serviceAccount'>): string => `spiffe://${w.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;

function waypointTarget(g: GatewayAddress | undefined): WaypointTarget | undefined {
  if (!g) return undefined;
  const address = ipText(g.address?.address);
  return { ...(address ? { address } : {}), ...(g.hostname?.hostname ? { hostname: g.hostname.hostname } : {}), port: g.hboneMtlsPort ?? 15008 };
}

export class WorkloadState {
  private workloads = new Map<string, MeshWorkload>();
  private byIp = new Map<string, MeshWorkload>();
  private services = new Map<string, MeshServiceInfo>();
  private byVip = new Map<string, MeshServiceInfo>();
  private policies = new Map<string, Authorization>();
  /** Endpoints of a service, computed on first use per update. */
  private endpointsOf = new Map<string, MeshWorkload[]>();
  private rr = new Map<string, number>();

  /** The whole WDS Address set, as the xDS client holds it after an update. */
  setAddresses(list: readonly Address[]): void {
    const workloads = new Map<string, MeshWorkload>();
    const byIp = new Map<string, MeshWorkload>();
    const services = new Map<string, MeshServiceInfo>();
    const byVip = new Map<string, MeshServiceInfo>();
    for (const a of list) {
      if (a.workload) {
        const w = a.workload;
        const ips = (w.addresses ?? []).map(ipText).filter((x): x is string => !!x);
        const svcPorts = new Map<string, Map<number, number>>();
        for (const [key, pl] of Object.entries(w.services ?? {})) svcPorts.set(key, new Map((pl.ports ?? []).map((p) => [p.servicePort ?? 0, p.targetPort ?? 0])));
        const mw: MeshWorkload = {
          uid: w.uid ?? '',
          name: w.name ?? '',
          namespace: w.namespace ?? '',
          ips,
          hbone: w.tunnelProtocol === 'HBONE',
          trustDomain: w.trustDomain || 'cluster.local',
          serviceAccount: w.serviceAccount || 'default',
          ...(w.waypoint ? { waypoint: waypointTarget(w.waypoint) } : {}),
          node: w.node ?? '',
          canonicalName: w.canonicalName ?? w.workloadName ?? w.name ?? '',
          canonicalRevision: w.canonicalRevision ?? 'latest',
          workloadName: w.workloadName ?? w.name ?? '',
          services: svcPorts,
          authorizationPolicies: w.authorizationPolicies ?? [],
          healthy: w.status !== 'UNHEALTHY',
        };
        workloads.set(mw.uid, mw);
        for (const ip of ips) if (!byIp.has(ip)) byIp.set(ip, mw);
      } else if (a.service) {
        const s = a.service;
        const info: MeshServiceInfo = {
          key: `${s.namespace ?? ''}/${s.hostname ?? ''}`,
          name: s.name ?? '',
          namespace: s.namespace ?? '',
          hostname: s.hostname ?? '',
          vips: (s.addresses ?? []).map((n) => ipText(n.address)).filter((x): x is string => !!x),
          ports: new Map((s.ports ?? []).map((p) => [p.servicePort ?? 0, p.targetPort ?? 0])),
          ...(s.waypoint ? { waypoint: waypointTarget(s.waypoint) } : {}),
        };
        services.set(info.key, info);
        for (const vip of info.vips) byVip.set(vip, info);
      }
    }
    Object.assign(this, { workloads, byIp, services, byVip, endpointsOf: new Map() });
  }

  /** The whole WDS Authorization set. */
  setAuthorizations(list: readonly Authorization[]): void {
    this.policies = new Map(list.map((p) => [`${p.namespace ?? ''}/${p.name ?? ''}`, p]));
  }

  workload(uid: string): MeshWorkload | undefined {
    return this.workloads.get(uid);
  }

  workloadByIp(ip: string): MeshWorkload | undefined {
    return this.byIp.get(ip);
  }

  serviceByVip(ip: string): MeshServiceInfo | undefined {
    return this.byVip.get(ip);
  }

  /** A service by its WDS key, `namespace/hostname`. */
  serviceByKey(key: string): MeshServiceInfo | undefined {
    return this.services.get(key);
  }

  /** The healthy workloads behind a service (any port). */
  endpoints(svc: MeshServiceInfo): MeshWorkload[] {
    let list = this.endpointsOf.get(svc.key);
    if (!list) this.endpointsOf.set(svc.key, (list = [...this.workloads.values()].filter((w) => w.healthy && w.ips.length && w.services.has(svc.key))));
    return list;
  }

  /** One endpoint of a service port and the port it listens on for it, round robin; undefined when none. */
  pickEndpoint(svc: MeshServiceInfo, port: number): { workload: MeshWorkload; port: number } | undefined {
    const candidates = this.endpoints(svc)
      .map((w) => ({ workload: w, port: w.services.get(svc.key)?.get(port) || svc.ports.get(port) || 0 }))
      .filter((c) => c.port > 0);
    if (!candidates.length) return undefined;
    const key = `${svc.key}|${port}`;
    const i = (this.rr.get(key) ?? 0) % candidates.length;
    this.rr.set(key, i + 1);
    return candidates[i];
  }

  /** The L4 policies that apply to a workload: mesh-wide, its namespace's, and the selector-based ones it names. */
  policiesFor(w: MeshWorkload): Authorization[] {
    const named = new Set(w.authorizationPolicies);
    return [...this.policies.entries()].filter(([key, p]) => p.scope === 'GLOBAL' || (p.scope === 'NAMESPACE' && p.namespace === w.namespace) || (p.scope === 'WORKLOAD_SELECTOR' && named.has(key))).map(([, p]) => p);
  }

  /** For the admin port's config dump. */
  dump(): { workloads: MeshWorkload[]; services: MeshServiceInfo[]; policies: Authorization[] } {
    const plain = (w: MeshWorkload) => ({ ...w, services: Object.fromEntries([...w.services].map(([k, m]) => [k, Object.fromEntries(m)])) }) as unknown as MeshWorkload;
    return { workloads: [...this.workloads.values()].map(plain), services: [...this.services.values()].map((s) => ({ ...s, ports: Object.fromEntries(s.ports) }) as unknown as MeshServiceInfo), policies: [...this.policies.values()] };
  }
}
