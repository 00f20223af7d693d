// Test helper: a packet capture of a run's pod network with Debian's tcpdump (a real capture of what crosses the
// bridge, read back from its pcap file), and the TCP segments in it. Tests use it to show what an observer on the wire
// sees. A Linux bridge forwards between its ports without handing frames to its own interface, so the capture is on
// every interface (`-i any`: the bridge's ports, the pods' veth ends) with a filter on the run's pod addresses.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Segment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface Capture {
  /** Payload bytes of the TCP segments written so far (tcpdump -U writes each packet as it comes). */
  bytesSoFar(): number;
  /** Stops tcpdump (once its buffered packets are written) and returns the TCP segments with a payload. */
  stop(): Promise<Segment[]>;
}

/** Starts tcpdump on `iface` with a BPF `filter`; resolves once it is capturing. */
export async function startCapture(iface: string, filter: string): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pcap-'));
  const file = join(dir, 'capture.pcap');
  // -U writes each packet as it comes; -s 0 keeps whole packets; -n: no name lookups.
  const child = spawn('tcpdump', ['-i', iface, '-U', '-n', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${stderr.trim()}`)));
  });
  return {
    bytesSoFar: () => {
      try {
        return segments(readFileSync(file)).reduce((n, s) => n + s.payload.length, 0);
      } catch {
        return 0; // not even the file header yet
      }
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
      try {
        return segments(readFileSync(file));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Where a link type's header says which protocol follows, and how long it is: Ethernet, Linux cooked (v1, v2). */
const LINK_TYPES: Record<number, { typeAt: number; length: number }> = { 1: { typeAt: 12, length: 14 }, 113: { typeAt: 14, length: 16 }, 276: { typeAt: 0, length: 20 } };

/** TCP segments with a payload in a pcap file (Ethernet or `-i any`'s cooked headers; IPv4 and IPv6). */
export function segments(pcap: Buffer): Segment[] {
  const out: Segment[] = [];
  const le = pcap.readUInt32LE(0) === 0xa1b2c3d4 || pcap.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (at: number) => (le ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const link = LINK_TYPES[u32(20)];
  if (!link) throw new Error(`unexpected pcap link type ${u32(20)}`);
  for (let at = 24; at + 16 <= pcap.length; ) {
    const captured = u32(at + 8);
    if (at + 16 + captured > pcap.length) break; // a record still being written
    const frame = pcap.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    const type = frame.readUInt16BE(link.typeAt);
    let ip = frame.subarray(link.length);
    let proto: number;
    let src: string;
    let dst: string;
    if (type === 0x0800) {
      const ihl = (ip[0]! & 0x0f) * 4;
      proto = ip[9]!;
      src = [...ip.subarray(12, 16)].join('.');
      dst = [...ip.subarray(16, 20)].join('.');
      ip = ip.subarray(ihl, ip.readUInt16BE(2));
    } else if (type === 0x86dd) {
      proto = ip[6]!;
      const hex = (b: Buffer) => [0, 2, 4, 6, 8, 10, 12, 14].map((i) => b.readUInt16BE(i).toString(16)).join(':');
      src = hex(ip.subarray(8, 24));
      dst = hex(ip.subarray(24, 40));
      ip = ip.subarray(40, 40 + ip.readUInt16BE(4));
    } else continue;
    if (proto !== 6) continue;
    const payload = ip.subarray(((ip[12]! >> 4) & 0x0f) * 4);
    if (payload.length) out.push({ src, dst, srcPort: ip.readUInt16BE(0), dstPort: ip.readUInt16BE(2), payload });
  }
  return out;
}

/** Whether a TCP stream's bytes (both directions' segments in order) are TLS records: each a known content type and version 3.x. */
export function tlsRecordsOnly(stream: readonly Buffer[]): boolean {
  const bytes = Buffer.concat(stream);
  let at = 0;
  while (at + 5 <= bytes.length) {
    const type = bytes[at]!;
    if (type < 20 || type > 23 || bytes[at + 1] !== 3) return false;
    at += 5 + bytes.readUInt16BE(at + 3);
  }
  return true;
}
