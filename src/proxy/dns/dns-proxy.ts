// The sidecar's DNS proxy (Istio's agent, port 15053, ISTIO_META_DNS_CAPTURE): the pod's queries reach it through the
// capture rules; names in the NameTable the control plane sends over NDS (services and ServiceEntry hosts, with
// auto-allocated addresses) are answered here, short names through the pod's search path; every other query goes on
// to the pod's own nameservers (its /etc/resolv.conf), from this process's uid, which the rules never capture.

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { answerQuery, DnsServer, questionOf } from '../../dns/dns-server.js';
import type { NameTable } from '../../xds/resource.js';

export const DNS_PROXY_PORT = 15053;
const FORWARD_TIMEOUT_MS = 2_000;

/** nameserver and search lines of a resolv.conf. */
export function readResolvConf(text: string): { nameservers: string[]; search: string[] } {
  const nameservers: string[] = [];
  const search: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) nameservers.push(rest[0]);
    if (key === 'search') search.push(...rest);
  }
  return { nameservers, search };
}

export class DnsProxy {
  private table = new Map<string, string[]>();
  private server: DnsServer | undefined;
  private readonly resolv: { nameservers: string[]; search: string[] };

  constructor(resolvConf = safeRead('/etc/resolv.conf')) {
    this.resolv = readResolvConf(resolvConf);
  }

  /** A new table from the control plane replaces the old one whole. */
  setTable(t: NameTable): void {
    this.table = new Map(Object.entries(t.table ?? {}).map(([host, info]) => [host.toLowerCase(), info.ips ?? []]));
  }

  /** The addresses of a name: as written, else as the pod's search path completes it. */
  lookup(name: string): string[] | undefined {
    const n = name.toLowerCase().replace(/\.$/, '');
    return this.table.get(n) ?? this.resolv.search.map((d) => this.table.get(`${n}.${d}`)).find((x) => x !== undefined);
  }

  async handle(query: Buffer): Promise<Buffer | undefined> {
    const q = questionOf(query);
    if (q && this.lookup(q.name)) return answerQuery(query, (name) => this.lookup(name));
    return this.forward(query);
  }

  /** Asks the pod's first nameserver; no answer in time is no answer (the client retries). */
  private forward(query: Buffer): Promise<Buffer | undefined> {
    const upstream = this.resolv.nameservers[0];
    if (!upstream) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const s = dgram.createSocket(upstream.includes(':') ? 'udp6' : 'udp4');
      const done = (reply: Buffer | undefined) => {
        clearTimeout(timer);
        s.close();
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
      s.on('error', () => done(undefined));
      s.on('message', (msg) => done(msg));
      s.send(query, 53, upstream);
    });
  }

  /** Listens on 127.0.0.1 and ::1 (where the capture rules send DNS); IPv6 only where the pod has it. */
  async listen(port = DNS_PROXY_PORT): Promise<void> {
    const server = new DnsServer((q) => this.handle(q));
    await server.listen(['127.0.0.1'], port);
    await server.listen(['::1'], port).catch(() => undefined);
    this.server = server;
  }

  close(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
