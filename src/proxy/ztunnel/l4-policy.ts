// The node proxy's L4 authorization, ztunnel's rules over Istio's `istio.security.Authorization`: a connection is
// refused when a DENY policy matches it; else allowed when no ALLOW policy applies or one matches. A rule matches when
// every clause does; a clause when one of its matches does; a match when each field it sets holds (values ORed, `not_`
// values none). Principals and namespaces come from the peer's certificate: a plaintext connection has neither.

import { isIP } from 'node:net';
import { ipBytes, type Authorization, type AuthorizationMatch, type IpBlock, type StringMatch } from '../../xds/istio/workload.js';
import { parseSpiffeId } from '../../ca/identity.js';

/** What L4 policy can see of a connection. */
export interface L4Connection {
  /** The peer's SPIFFE ID (mutual TLS), undefined for plaintext. */
  sourcePrincipal: string | undefined;
  sourceIp: string;
  destinationIp: string;
  destinationPort: number;
}

export interface L4Verdict {
  allowed: boolean;
  /** The policy that decided (`namespace/name`), when one did. */
  policy?: string;
}

function stringMatches(m: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.presence) return value !== '';
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  if (m.suffix !== undefined) return value.endsWith(m.suffix);
  return false;
}

/** An IP's bytes, for prefix matches in its own family (IPv4-mapped addresses as IPv4). */
function ipBits(ip: string): Buffer | undefined {
  const plain = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  return isIP(plain) ? Buffer.from(ipBytes(plain), 'base64') : undefined;
}

function inBlock(block: IpBlock, ip: string): boolean {
  const net = Buffer.from(block.address ?? '', 'base64');
  const addr = ipBits(ip);
  if (!addr || addr.length !== net.length) return false;
  const len = block.length ?? net.length * 8;
  for (let bit = 0; bit < len; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((net[bit >> 3]! & mask) !== (addr[bit >> 3]! & mask)) return false;
  }
  return true;
}

const some = <T>(list: readonly T[] | undefined, test: (t: T) => boolean) => (list ?? []).some(test);
const set = <T>(list: readonly T[] | undefined) => !!list && list.length > 0;

function matches(m: AuthorizationMatch, c: L4Connection): boolean {
  // Policies name principals without the scheme (`cluster.local/ns/x/sa/y`), as AuthorizationPolicy writes them.
  const principal = c.sourcePrincipal?.replace(/^spiffe:\/\//, '');
  const namespace = c.sourcePrincipal ? parseSpiffeId(c.sourcePrincipal)?.namespace : undefined;
  const checks: Array<[boolean, boolean]> = [
    [set(m.principals), some(m.principals, (s) => stringMatches(s, principal))],
    [set(m.notPrincipals), !some(m.notPrincipals, (s) => stringMatches(s, principal))],
    [set(m.namespaces), some(m.namespaces, (s) => stringMatches(s, namespace))],
    [set(m.notNamespaces), !some(m.notNamespaces, (s) => stringMatches(s, namespace))],
    [set(m.sourceIps), some(m.sourceIps, (b) => inBlock(b, c.sourceIp))],
    [set(m.notSourceIps), !some(m.notSourceIps, (b) => inBlock(b, c.sourceIp))],
    [set(m.destinationIps), some(m.destinationIps, (b) => inBlock(b, c.destinationIp))],
    [set(m.notDestinationIps), !some(m.notDestinationIps, (b) => inBlock(b, c.destinationIp))],
    [set(m.destinationPorts), (m.destinationPorts ?? []).includes(c.destinationPort)],
    [set(m.notDestinationPorts), !(m.notDestinationPorts ?? []).includes(c.destinationPort)],
  ];
  return checks.every(([isSet, holds]) => !isSet || holds);
}

function policyMatches(p: Authorization, c: L4Connection): boolean {
  return (p.rules ?? []).some((rule) => (rule.clauses ?? []).every((clause) => (clause.matches ?? []).some((m) => matches(m, c))));
}

const keyOf = (p: Authorization) => `${p.namespace ?? ''}/${p.name ?? ''}`;

/** ztunnel's decision for one connection under the policies that apply to its destination (dry-run ones only observe). */
export function authorize(policies: readonly Authorization[], c: L4Connection): L4Verdict {
  const enforced = policies.filter((p) => !p.dryRun);
  const deny = enforced.find((p) => p.action === 'DENY' && policyMatches(p, c));
  if (deny) return { allowed: false, policy: keyOf(deny) };
  const allows = enforced.filter((p) => (p.action ?? 'ALLOW') === 'ALLOW');
  if (!allows.length) return { allowed: true };
  const allow = allows.find((p) => policyMatches(p, c));
  return allow ? { allowed: true, policy: keyOf(allow) } : { allowed: false };
}
