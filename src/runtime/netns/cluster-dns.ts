// The cluster's DNS (kube-dns's role) for pods in network namespaces: answers `<service>.<namespace>.svc.<domain>` with
// the service's ClusterIPs (A and AAAA), NXDOMAIN for other names, over UDP and TCP on the bridge's addresses — which
// every pod's resolv.conf names, with Kubernetes' search path so short names resolve too.

import { answerQuery, DnsServer, type NameLookup } from '../../dns/dns-server.js';

/** The cluster DNS: Services' names from `lookup`, NXDOMAIN for the rest (nothing outside this machine to ask). */
export function clusterDns(lookup: NameLookup): DnsServer {
  return new DnsServer((query) => answerQuery(query, lookup));
}

/** resolv.conf for a pod in `namespace`: Kubernetes' search path and ndots, the cluster DNS as its server. */
export function podResolvConf(nameservers: readonly string[], namespace: string, domain: string): string {
  return [...nameservers.map((n) => `nameserver ${n}`), `search ${namespace}.svc.${domain} svc.${domain} ${domain}`, 'options ndots:5', ''].join('\n');
}

/** /etc/hosts for a pod, as the kubelet writes it: localhost, then the pod's own name on its addresses. */
export function podHosts(podName: string, addresses: readonly string[]): string {
  return ['# Kubernetes-managed hosts file (written by trellis up).', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...addresses.map((a) => `${a}\t${podName}`), ''].join('\n');
}
