// Istio's workload API (WDS) and its L4 authorization in proto3 JSON, as Trellis uses them: the typed contract between the
// control plane's ambient translation (which builds these values) and the ztunnel and waypoints (which read them).
// Bytes fields (addresses) travel as base64, as proto3 JSON writes them; `ipBytes`/`ipText` convert.

import { isIP } from 'node:net';

export type TunnelProtocol = 'NONE' | 'HBONE';
export type WorkloadStatus = 'HEALTHY' | 'UNHEALTHY';
export type WorkloadType = 'DEPLOYMENT' | 'CRONJOB' | 'POD' | 'JOB';

export interface NetworkAddress {
  network?: string;
  /** base64 of the 4 or 16 address bytes. */
  address?: string;
}

export interface NamespacedHostname {
  namespace?: string;
  hostname?: string;
}

/** Where a waypoint takes HBONE: its address (or hostname) and port (15008). */
export interface GatewayAddress {
  hostname?: NamespacedHostname;
  address?: NetworkAddress;
  hboneMtlsPort?: number;
}

export interface WorkloadPort {
  servicePort?: number;
  targetPort?: number;
}

export interface PortList {
  ports?: WorkloadPort[];
}

export interface Workload {
  uid?: string;
  name?: string;
  namespace?: string;
  /** base64 of each IP. */
  addresses?: string[];
  hostname?: string;
  network?: string;
  tunnelProtocol?: TunnelProtocol;
  trustDomain?: string;
  serviceAccount?: string;
  waypoint?: GatewayAddress;
  node?: string;
  canonicalName?: string;
  canonicalRevision?: string;
  workloadType?: WorkloadType;
  workloadName?: string;
  /** `namespace/hostname` → the ports it serves that service on. */
  services?: Record<string, PortList>;
  /** Selector-based AuthorizationPolicies (`namespace/name`) that apply to it. */
  authorizationPolicies?: string[];
  status?: WorkloadStatus;
  clusterId?: string;
}

export interface Service {
  name?: string;
  namespace?: string;
  hostname?: string;
  addresses?: NetworkAddress[];
  ports?: WorkloadPort[];
  subjectAltNames?: string[];
  waypoint?: GatewayAddress;
}

/** `istio.workload.Address`: a workload or a service. */
export interface Address {
  workload?: Workload;
  service?: Service;
}

// ---------------------------------------------------------------- istio.security.Authorization

export type AuthorizationScope = 'GLOBAL' | 'NAMESPACE' | 'WORKLOAD_SELECTOR';
export type AuthorizationAction = 'ALLOW' | 'DENY';

export interface StringMatch {
  exact?: string;
  prefix?: string;
  suffix?: string;
  /** google.protobuf.Empty: the value is present. */
  presence?: Record<string, never>;
}

export interface IpBlock {
  /** base64 of the address bytes. */
  address?: string;
  length?: number;
}

export interface AuthorizationMatch {
  namespaces?: StringMatch[];
  notNamespaces?: StringMatch[];
  principals?: StringMatch[];
  notPrincipals?: StringMatch[];
  sourceIps?: IpBlock[];
  notSourceIps?: IpBlock[];
  destinationIps?: IpBlock[];
  notDestinationIps?: IpBlock[];
  destinationPorts?: number[];
  notDestinationPorts?: number[];
}

export interface AuthorizationClause {
  matches?: AuthorizationMatch[];
}

export interface AuthorizationRule {
  clauses?: AuthorizationClause[];
}

export interface Authorization {
  name?: string;
  namespace?: string;
  scope?: AuthorizationScope;
  action?: AuthorizationAction;
  rules?: AuthorizationRule[];
  dryRun?: boolean;
}

// ---------------------------------------------------------------- addresses as bytes

/** An IP's bytes in proto3 JSON (base64); an IPv4-mapped IPv6 address is written as IPv4. */
export function ipBytes(ip: string): string {
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(plain) === 4) return Buffer.from(plain.split('.').map(Number)).toString('base64');
  const [head = '', tail = ''] = plain.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = plain.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const buf = Buffer.alloc(16);
  all.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return buf.toString('base64');
}

/** The text form of an IP given as base64 bytes (4 → dotted quad, 16 → IPv6); undefined for any other length. */
export function ipText(b64: string | undefined): string | undefined {
  if (!b64) return undefined;
  const b = Buffer.from(b64, 'base64');
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // The canonical form: the longest run of zero groups becomes "::".
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}
