// The pod network's address plan for one run: a pod CIDR and a service CIDR per IP family, chosen so they overlap
// nothing on the host and no other live run (IPv4: /20 blocks in 10.200.0.0/13; IPv6: a random ULA /48, RFC 4193).
// Pods are numbered from 2 (.1 / ::1 is the bridge, the host's side), services from 1.

import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6' | 'dual';

export interface FamilyPlan {
  /** The pods' subnet, on the bridge (`10.200.16.0/20`, `fdxx:xxxx:xxxx::/64`). */
  podCidr: string;
  /** The bridge's address: the pods' default gateway and where the host (control plane, CA, DNS) answers them. */
  gateway: string;
  /** Virtual service addresses (ClusterIPs): never on any interface, resolved only by the mesh or DNAT rules. */
  serviceCidr: string;
  /** First address of each range as a number, and its size (IPv4 only; IPv6 hosts are formatted from the /48). */
  readonly prefixLen: number;
}

export interface AddressPlan {
  family: IpFamily;
  v4?: FamilyPlan;
  v6?: FamilyPlan;
}

const V4_POOL_START = ipv4ToInt('10.200.0.0');
const V4_BLOCK = 4096; // a /20
const V4_PAIRS = 64; // 10.200.0.0/13 holds 64 pairs of /20s

export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function v4Overlaps(cidr: string, other: string): boolean {
  const [a, al] = cidr.split('/') as [string, string];
  const [b, bl] = other.split('/') as [string, string];
  if (!isIPv4(a) || !isIPv4(b)) return false;
  const len = Math.min(Number(al), Number(bl ?? 32));
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((ipv4ToInt(a) & mask) >>> 0) === ((ipv4ToInt(b) & mask) >>> 0);
}

/** The plan for a run, given the IPv4 prefixes already in use (host routes and addresses, other runs' ranges). */
export function planAddresses(family: IpFamily, usedV4: readonly string[], usedUla: readonly string[] = []): AddressPlan {
  const plan: AddressPlan = { family };
  if (family !== 'ipv6') {
    for (let i = 0; i < V4_PAIRS && !plan.v4; i++) {
      const base = V4_POOL_START + i * 2 * V4_BLOCK;
      const pods = `${intToIpv4(base)}/20`;
      const services = `${intToIpv4(base + V4_BLOCK)}/20`;
      if (usedV4.some((u) => v4Overlaps(pods, u) || v4Overlaps(services, u))) continue;
      plan.v4 = { podCidr: pods, gateway: intToIpv4(base + 1), serviceCidr: services, prefixLen: 20 };
    }
    if (!plan.v4) throw new RangeError('no free /20 pair left in 10.200.0.0/13 for pods and services (other runs or host routes use them all)');
  }
  if (family !== 'ipv4') {
    let ula: string;
    // fd + 40 random bits (RFC 4193), avoiding the host's own fd00::/64 and other runs' prefixes.
    do {
      const h = randomBytes(5).toString('hex');
      ula = `fd${h.slice(0, 2)}:${h.slice(2, 6)}:${h.slice(6, 10)}`;
    } while (usedUla.includes(ula) || ula.startsWith('fd00:0000'));
    plan.v6 = { podCidr: `${ula}::/64`, gateway: `${ula}::1`, serviceCidr: `${ula}:1::/112`, prefixLen: 64 };
  }
  return plan;
}

/** The /48 a plan's IPv6 ranges come from (recorded so other runs avoid it). */
export function ulaOf(plan: AddressPlan): string | undefined {
  return plan.v6?.gateway.slice(0, -3);
}

/** Pod `n` (from 2) in each family the plan has, the primary family first (IPv4 in dual stack, as Kubernetes orders it). */
export function podAddresses(plan: AddressPlan, n: number): string[] {
  if (n < 2 || n > V4_BLOCK - 2) throw new RangeError(`pod number ${n} is outside 2-${V4_BLOCK - 2}`);
  const out: string[] = [];
  if (plan.v4) out.push(intToIpv4(ipv4ToInt(plan.v4.podCidr.split('/')[0]!) + n));
  if (plan.v6) out.push(`${plan.v6.gateway.slice(0, -1)}${n.toString(16)}`);
  return out;
}

/** Service `n` (from 1): its ClusterIPs, one per family, the primary first. */
export function serviceAddresses(plan: AddressPlan, n: number): string[] {
  if (n < 1 || n > V4_BLOCK - 2) throw new RangeError(`service number ${n} is outside 1-${V4_BLOCK - 2}`);
  const out: string[] = [];
  if (plan.v4) out.push(intToIpv4(ipv4ToInt(plan.v4.serviceCidr.split('/')[0]!) + n));
  if (plan.v6) out.push(`${plan.v6.serviceCidr.split('::/')[0]}::${n.toString(16)}`);
  return out;
}

/** The host-side addresses of the bridge (with their prefix lengths). */
export function gatewayAddresses(plan: AddressPlan): string[] {
  return [...(plan.v4 ? [`${plan.v4.gateway}/${plan.v4.prefixLen}`] : []), ...(plan.v6 ? [`${plan.v6.gateway}/${plan.v6.prefixLen}`] : [])];
}

/** The pod CIDRs and service CIDRs of the plan, primary family first. */
export function cidrsOf(plan: AddressPlan): { pods: string[]; services: string[] } {
  const fams = [plan.v4, plan.v6].filter((f): f is FamilyPlan => !!f);
  return { pods: fams.map((f) => f.podCidr), services: fams.map((f) => f.serviceCidr) };
}
