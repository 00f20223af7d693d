// Istio's istio-iptables rules for one pod, as iptables-restore input per family: inbound TCP to 15006, outbound TCP to
// 15001, the proxy's own uid excluded (so its upstream connections are not captured again), the pod's
// `traffic.sidecar.istio.io/*` annotations honoured, DNS to the sidecar's DNS proxy when capture of DNS is on. Chain names
// and rule order are Istio's, so `iptables-save` in a pod reads like one of Istio's.

import { PORTS } from '../../ports.js';
import { PROXY_MARK } from '../../proxy/ztunnel/pod-sockets.js';

/** The uid (and gid) the sidecar runs as: Istio's istio-proxy user. */
export const PROXY_UID = 1337;
/** The source address of the proxy's connections to its own app (Istio's inbound passthrough), never captured. */
export const INBOUND_PASSTHROUGH_SOURCE = { v4: '127.0.0.6', v6: '::6' } as const;
/** The sidecar's DNS proxy (Istio's agent listens on 15053). */
export const DNS_PROXY_PORT = 15053;

export interface CaptureOptions {
  /** Outbound destinations captured: CIDRs, or `*` for all (Istio's default); `includeOutboundIPRanges`. */
  includeOutboundIPRanges: string[];
  excludeOutboundIPRanges: string[];
  excludeOutboundPorts: number[];
  /** Inbound ports captured: `*` for all (Istio's default) or a list; `includeInboundPorts`. */
  includeInboundPorts: '*' | number[];
  excludeInboundPorts: number[];
  /** Send the pod's DNS queries (UDP and TCP 53) to the sidecar's DNS proxy (ISTIO_META_DNS_CAPTURE). */
  dnsCapture: boolean;
  uid?: number;
}

/** Ports Istio never captures inbound: HBONE, Envoy's stats, the health port, the merged stats port. */
const ALWAYS_EXCLUDED_INBOUND = [PORTS.hbone, 15090, PORTS.readiness, PORTS.mergedStats];

export const ANNOTATIONS = {
  includeOutboundIPRanges: 'traffic.sidecar.istio.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.sidecar.istio.io/excludeOutboundIPRanges',
  excludeOutboundPorts: 'traffic.sidecar.istio.io/excludeOutboundPorts',
  includeInboundPorts: 'traffic.sidecar.istio.io/includeInboundPorts',
  excludeInboundPorts: 'traffic.sidecar.istio.io/excludeInboundPorts',
} as const;

export class CaptureAnnotationError extends Error {}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function ports(annotation: string, text: string | undefined): number[] {
  return list(text).map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CaptureAnnotationError(`${annotation}: "${p}" is not a port`);
    return n;
  });
}

function cidrs(annotation: string, text: string | undefined): string[] {
  return list(text).map((c) => {
    if (c === '*') return c;
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(c) && !/^[0-9a-fA-F:.]+$/.test(c)) throw new CaptureAnnotationError(`${annotation}: "${c}" is not a CIDR`);
    return c;
  });
}

/** Capture options from a pod's annotations over Istio's defaults; `extraInboundExclusions` are the runtime's own ports. */
export function captureOptionsOf(annotations: Record<string, string>, o: { dnsCapture: boolean; extraInboundExclusions?: number[] }): CaptureOptions {
  const a = ANNOTATIONS;
  const include = annotations[a.includeOutboundIPRanges];
  const inboundPorts = annotations[a.includeInboundPorts];
  return {
    includeOutboundIPRanges: include === undefined ? ['*'] : cidrs(a.includeOutboundIPRanges, include),
    excludeOutboundIPRanges: cidrs(a.excludeOutboundIPRanges, annotations[a.excludeOutboundIPRanges]),
    excludeOutboundPorts: ports(a.excludeOutboundPorts, annotations[a.excludeOutboundPorts]),
    includeInboundPorts: inboundPorts === undefined || inboundPorts.trim() === '*' ? '*' : ports(a.includeInboundPorts, inboundPorts),
    excludeInboundPorts: [...ports(a.excludeInboundPorts, annotations[a.excludeInboundPorts]), ...(o.extraInboundExclusions ?? [])],
    dnsCapture: o.dnsCapture,
  };
}

const isV6 = (cidr: string) => cidr.includes(':');

/** iptables-restore input for one family (`iptables-restore` for 4, `ip6tables-restore` for 6). */
export function captureRules(o: CaptureOptions, family: 4 | 6): string {
  const uid = o.uid ?? PROXY_UID;
  const localhost = family === 4 ? '127.0.0.1/32' : '::1/128';
  const passthroughSource = family === 4 ? `${INBOUND_PASSTHROUGH_SOURCE.v4}/32` : `${INBOUND_PASSTHROUGH_SOURCE.v6}/128`;
  const sameFamily = (c: string) => c === '*' || isV6(c) === (family === 6);
  const r: string[] = ['*nat', ':ISTIO_INBOUND - [0:0]', ':ISTIO_REDIRECT - [0:0]', ':ISTIO_IN_REDIRECT - [0:0]', ':ISTIO_OUTPUT - [0:0]'];
  // Inbound: everything (or the listed ports) but the proxy's own ports goes to virtualInbound.
  r.push('-A PREROUTING -p tcp -j ISTIO_INBOUND');
  for (const p of [...new Set([...ALWAYS_EXCLUDED_INBOUND, ...o.excludeInboundPorts])]) r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
  if (o.includeInboundPorts === '*') r.push('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
  else for (const p of o.includeInboundPorts) r.push(`-A ISTIO_INBOUND -p tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
  r.push(`-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${PORTS.inbound}`);
  // Outbound.
  r.push('-A OUTPUT -p tcp -j ISTIO_OUTPUT');
  for (const p of o.excludeOutboundPorts) r.push(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j RETURN`);
  // The proxy's connections to its own app come from 127.0.0.6: never captured.
  r.push(`-A ISTIO_OUTPUT -o lo -s ${passthroughSource} -j RETURN`);
  // The proxy calling its own pod's address (a service whose endpoint is itself) goes through its inbound side.
  r.push(`-A ISTIO_OUTPUT ! -d ${localhost} -o lo -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`);
  r.push(`-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`);
  if (o.dnsCapture) r.push(`-A ISTIO_OUTPUT -p tcp --dport 53 -m owner ! --uid-owner ${uid} -j REDIRECT --to-ports ${DNS_PROXY_PORT}`);
  r.push(`-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`);
  r.push(`-A ISTIO_OUTPUT -o lo ! -d ${localhost} -m owner --gid-owner ${uid} -j ISTIO_IN_REDIRECT`);
  r.push(`-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${uid} -j RETURN`);
  r.push(`-A ISTIO_OUTPUT -m owner --gid-owner ${uid} -j RETURN`);
  r.push(`-A ISTIO_OUTPUT -d ${localhost} -j RETURN`);
  for (const c of o.excludeOutboundIPRanges.filter(sameFamily)) r.push(`-A ISTIO_OUTPUT -d ${c} -j RETURN`);
  const include = o.includeOutboundIPRanges.filter(sameFamily);
  if (include.includes('*')) r.push('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  else for (const c of include) r.push(`-A ISTIO_OUTPUT -d ${c} -j ISTIO_REDIRECT`);
  r.push(`-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${PORTS.outbound}`);
  if (o.dnsCapture) {
    // UDP DNS from anyone but the proxy (which forwards what it cannot answer) to the DNS proxy.
    r.push(`-A OUTPUT -p udp --dport 53 -m owner --uid-owner ${uid} -j RETURN`);
    r.push(`-A OUTPUT -p udp --dport 53 -j REDIRECT --to-ports ${DNS_PROXY_PORT}`);
  }
  r.push('COMMIT');
  return r.join('\n') + '\n';
}

/**
 * Istio's in-pod redirection for an ambient pod (istio-cni's nat rules, the REDIRECT variant), as iptables-restore input
 * for the whole nat table: TCP the pod sends goes to the node proxy's 15001 and TCP arriving for it (but HBONE on 15008)
 * to its 15006 — the node proxy listens on both inside the pod. Its own sockets carry the mark 0x539 and pass; so does
 * traffic to the pod itself over `lo`. No DNAT for ClusterIPs: the node proxy balances services itself.
 */
export function ambientRules(family: 4 | 6): string {
  const localhost = family === 4 ? '127.0.0.1/32' : '::1/128';
  const mark = `0x${PROXY_MARK.toString(16)}/0xfff`;
  return [
    '*nat',
    ':ISTIO_PRERT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    '-A PREROUTING -j ISTIO_PRERT',
    '-A OUTPUT -j ISTIO_OUTPUT',
    `-A ISTIO_PRERT -m mark --mark ${mark} -j ACCEPT`,
    `-A ISTIO_PRERT ! -d ${localhost} -p tcp ! --dport ${PORTS.hbone} -j REDIRECT --to-ports ${PORTS.inbound}`,
    `-A ISTIO_OUTPUT -m mark --mark ${mark} -j ACCEPT`,
    `-A ISTIO_OUTPUT ! -d ${localhost} -o lo -j ACCEPT`,
    `-A ISTIO_OUTPUT ! -d ${localhost} -p tcp -j REDIRECT --to-ports ${PORTS.outbound}`,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * For a pod without a sidecar: each service address:port DNATs to one of its endpoints (kube-proxy's iptables mode,
 * random choice with the statistic match), so ClusterIPs work outside the mesh too.
 */
export function serviceDnatRules(services: ReadonlyArray<{ address: string; port: number; endpoints: ReadonlyArray<{ address: string; port: number }> }>, family: 4 | 6): string {
  const r: string[] = ['*nat', ':TRELLIS_SERVICES - [0:0]', '-A OUTPUT -p tcp -j TRELLIS_SERVICES'];
  for (const s of services) {
    if (isV6(s.address) !== (family === 6)) continue;
    const eps = s.endpoints.filter((e) => isV6(e.address) === (family === 6));
    eps.forEach((e, i) => {
      const left = eps.length - i;
      const chance = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(5)}` : '';
      const to = family === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
      r.push(`-A TRELLIS_SERVICES -d ${s.address}/${family === 4 ? 32 : 128} -p tcp --dport ${s.port}${chance} -j DNAT --to-destination ${to}`);
    });
  }
  r.push('COMMIT');
  return r.join('\n') + '\n';
}
