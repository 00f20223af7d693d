// Istio's host name rules: DNS names with an optional leading wildcard, overlap and subset tests, and namespace/host entries.

import { isDnsLabel } from './metadata.js';
import { isIp } from './object-check.js';

const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

function hostPreconditions(name: string): string | undefined {
  if (name === '') return 'host name must not be empty';
  if (name.length > 255) return `"${name.slice(0, 40)}…" is too long for a host name (at most 255 characters)`;
  return undefined;
}

/** Dot-separated DNS-1123 labels; a trailing dot is allowed (`istio.io.`) and the top-level label cannot be all digits. */
function labelsProblem(part: string, whole: string): string | undefined {
  const labels = part.split('.');
  const tld = labels[labels.length - 1]!;
  if (/^\d+$/.test(tld)) return `"${whole}" is not a valid host name: its top-level domain "${tld}" is all digits`;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (i === labels.length - 1 && label === '') return undefined;
    if (!isDnsLabel(label)) return `"${whole}" is not a valid host name: "${label}" is not a DNS label (lower-case letters, digits and '-', at most 63)`;
  }
  return undefined;
}

/** Why `name` is not a fully qualified (or short) DNS name, or undefined when it is one. */
export function fqdnProblem(name: string): string | undefined {
  return hostPreconditions(name) ?? labelsProblem(name, name);
}

/** As `fqdnProblem`, but the first label may be a wildcard (`*`, `*.example.com`, `*-foo.example.com`). */
export function wildcardDomainProblem(name: string): string | undefined {
  const pre = hostPreconditions(name);
  if (pre) return pre;
  const dot = name.indexOf('.');
  const first = dot < 0 ? name : name.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) {
    return `"${name}" is not a valid host name: "${first}" is not a DNS label (lower-case letters, digits and '-'; '*' only as the first label)`;
  }
  return dot < 0 ? undefined : labelsProblem(name.slice(dot + 1), name);
}

/** Istio allows `outbound_.<port>_.<subset>_.<host>` SNI names in VirtualServices bound to gateways (for multi-network passthrough). */
export function gatewayHostProblem(name: string, sni: boolean): string | undefined {
  if (sni && name.split('.')[0] === 'outbound_') {
    return /outbound_.([0-8].*).*/.test(name) ? undefined : `"${name}" is not a valid host name`;
  }
  return wildcardDomainProblem(name);
}

export function isWildcardHost(name: string): boolean {
  return name.startsWith('*');
}

/** Whether two hosts overlap (either one's wildcard covers the other), as Istio's host.Name.Matches. */
export function hostsOverlap(a: string, b: string): boolean {
  const aw = isWildcardHost(a);
  const bw = isWildcardHost(b);
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Whether every name `sub` stands for is also covered by `sup`, as Istio's host.Name.SubsetOf. */
export function hostSubsetOf(sub: string, sup: string): boolean {
  if (isWildcardHost(sup)) {
    if (isWildcardHost(sub)) return sub.length >= sup.length && sub.slice(1).endsWith(sup.slice(1));
    return sub.endsWith(sup.slice(1));
  }
  return !isWildcardHost(sub) && sub === sup;
}

/** A wildcard anywhere but as the whole first label (`*.example.com`, `*`). */
export function isPartialWildcard(name: string): boolean {
  return name.includes('*') && name !== '*' && !name.startsWith('*.');
}

/** The host part of a Sidecar egress or Gateway server host: `*` or a dotted, possibly wildcarded name (Gateways also take IPs). */
function sidecarOrGatewayHostProblems(name: string, isGateway: boolean): string[] {
  const out: string[] = [];
  if (name !== '*' && !name.includes('.')) out.push(`short name "${name}" is not allowed here: write the fully qualified name (e.g. ${name}.default.svc.cluster.local) or a wildcard`);
  const problem = wildcardDomainProblem(name);
  if (problem && !(isGateway && isIp(name))) out.push(problem);
  if (isPartialWildcard(name)) out.push(`partial wildcard "${name}" is not allowed: '*' must be the whole first label`);
  return out;
}

/** Problems of a `namespace/host` entry (Sidecar egress hosts, Gateway server hosts; Gateways also accept a bare host). */
export function namespacedHostProblems(entry: string, isGateway: boolean): string[] {
  const slash = entry.indexOf('/');
  if (slash < 0) {
    if (isGateway) return sidecarOrGatewayHostProblems(entry, true);
    return [`"${entry}" must be of the form namespace/host, e.g. "./*", "istio-system/*" or "*/reviews.default.svc.cluster.local"`];
  }
  const ns = entry.slice(0, slash);
  const host = entry.slice(slash + 1);
  if (ns === '' || host === '') return [`"${entry}": both the namespace and the host must be set`];
  const out: string[] = [];
  const nsOk = ns === '*' || ns === '.' || (!isGateway && ns === '~') || isDnsLabel(ns);
  if (!nsOk) out.push(`"${ns}" is not a valid namespace: use a namespace name, "." (this namespace)${isGateway ? '' : ', "~" (none)'} or "*" (any)`);
  out.push(...sidecarOrGatewayHostProblems(host, isGateway));
  return out;
}
