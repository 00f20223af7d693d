// DNS over UDP and TCP for the mesh's two resolvers — the runtime's cluster DNS (kube-dns's role) and the sidecar's DNS
// proxy (Istio's, port 15053): answering a query from a table of names, and serving a handler on addresses.

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

/** Answers one DNS message (a query) with a reply, or nothing (not a query: dropped). */
export type DnsHandler = (query: Buffer) => Buffer | undefined | Promise<Buffer | undefined>;

/** The name and record type a query asks for. */
export function questionOf(query: Buffer): { name: string; type: string } | undefined {
  try {
    const q = dnsPacket.decode(query);
    const question = q.type === 'query' ? q.questions?.[0] : undefined;
    return question ? { name: question.name.toLowerCase().replace(/\.$/, ''), type: question.type } : undefined;
  } catch {
    return undefined;
  }
}

export class DnsServer {
  private readonly udp: dgram.Socket[] = [];
  private readonly tcp: net.Server[] = [];

  constructor(private readonly handle: DnsHandler) {}

  /** Serves on each address (UDP and TCP); resolves once all are bound. */
  async listen(addresses: readonly string[], port: number): Promise<void> {
    for (const address of addresses) {
      const u = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
      u.on('message', (msg, from) => {
        void Promise.resolve(this.handle(msg)).then((out) => out && u.send(out, from.port, from.address), () => undefined);
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
        const query = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void Promise.resolve(this.handle(query)).then((out) => {
          if (!out) return s.destroy();
          const head = Buffer.alloc(2);
          head.writeUInt16BE(out.length);
          s.write(Buffer.concat([head, out]));
        }, () => s.destroy());
      }
    });
  }

  async close(): Promise<void> {
    for (const u of this.udp.splice(0)) u.close();
    await Promise.all(this.tcp.splice(0).map((t) => new Promise<void>((r) => t.close(() => r()))));
  }
}

