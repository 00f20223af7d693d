// The cluster's DNS (kube-dns's role) for pods in network namespaces: answers `<service>.<namespace>.svc.<domain>` with
// the service's ClusterIPs (A and AAAA), NXDOMAIN for other names, over UDP and TCP on the bridge's addresses — which
// every pod's resolv.conf names, with Kubernetes' search path so short names resolve too.

import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

/** The addresses of a name, or undefined when the name does not exist (NXDOMAIN). */
export type NameLookup = (name: string) => readonly string[] | undefined;

const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
const TTL_S = 5;

/** The answer to one DNS query message (the same for UDP and TCP), or undefined for what is not a query. */
export function answerQuery(query: Buffer, lookup: NameLookup): Buffer | undefined {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(query);
  } catch {
    return undefined;
  }
  if (q.type !== 'query' || !q.questions?.length) return undefined;
  const question = q.questions[0]!;
  const qtype: string = question.type;
  const recursion = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const reply = (rcode: number, answers: dnsPacket.Answer[] = []) =>
    dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER | recursion | rcode, questions: q.questions, answers });
  if (question.class !== 'IN' || (qtype !== 'A' && qtype !== 'AAAA' && qtype !== 'ANY')) {
    // Names we know have no other records; the rest are not ours.
    return reply(lookup(question.name.toLowerCase().replace(/\.$/, '')) ? 0 : RCODE_NOTIMP);
  }
  const addresses = lookup(question.name.toLowerCase().replace(/\.$/, ''));
  if (!addresses) return reply(RCODE_NXDOMAIN);
  const want = (a: string) => (qtype === 'ANY' ? true : qtype === 'AAAA' ? a.includes(':') : !a.includes(':'));
  return reply(0, addresses.filter(want).map((a) => ({ type: a.includes(':') ? ('AAAA' as const) : ('A' as const), name: question.name, ttl: TTL_S, class: 'IN' as const, data: a })));
}

/** Starts a bind or listen; resolves when it is done, rejects with its error. */
function bound(target: dgram.Socket | net.Server, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    target.once('error', reject);
    start(() => {
      target.removeListener('error', reject);
      resolve();
    });
  });
}

export class DnsServer {
  private readonly udp: dgram.Socket[] = [];
  private readonly tcp: net.Server[] = [];

  constructor(private readonly lookup: NameLookup) {}

  /** Serves on each address (UDP and TCP); resolves once all are bound. */
  async listen(addresses: readonly string[], port: number): Promise<void> {
    for (const address of addresses) {
      const u = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
      u.on('message', (msg, from) => {
        const out = answerQuery(msg, this.lookup);
        if (out) u.send(out, from.port, from.address);
      });
      await bound(u, (done) => u.bind(port, address, done));
      this.udp.push(u);
      const t = net.createServer((s) => this.serveTcp(s));
      await bound(t, (done) => t.listen(port, address, done));
      this.tcp.push(t);
    }
  }

  /** DNS over TCP: each message behind a two-byte length. */
  private serveTcp(s: net.Socket): void {
    let buf = Buffer.alloc(0);
    s.on('error', () => s.destroy());
    s.setTimeout(10_000, () => s.destroy());
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const out = answerQuery(buf.subarray(2, 2 + len), this.lookup);
        buf = buf.subarray(2 + len);
        if (!out) return s.destroy();
        const head = Buffer.alloc(2);
        head.writeUInt16BE(out.length);
        s.write(Buffer.concat([head, out]));
      }
    });
  }

  async close(): Promise<void> {
    for (const u of this.udp.splice(0)) u.close();
    await Promise.all(this.tcp.splice(0).map((t) => new Promise<void>((r) => t.close(() => r()))));
  }
}

/** resolv.conf for a pod in `namespace`: Kubernetes' search path and ndots, the cluster DNS as its server. */
export function podResolvConf(nameservers: readonly string[], namespace: string, domain: string): string {
  return [...nameservers.map((n) => `nameserver ${n}`), `search ${namespace}.svc.${domain} svc.${domain} ${domain}`, 'options ndots:5', ''].join('\n');
}

/** /etc/hosts for a pod, as the kubelet writes it: localhost, then the pod's own name on its addresses. */
export function podHosts(podName: string, addresses: readonly string[]): string {
  return ['# Kubernetes-managed hosts file (written by trellis up).', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...addresses.map((a) => `${a}\t${podName}`), ''].join('\n');
}
