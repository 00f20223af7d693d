// CIDR ranges (IPv4 and IPv6) compiled to bit masks for filter chain matching.

import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  bits: bigint;
  mask: bigint;
}

function toBigInt(ip: string): { family: 4 | 6; value: bigint } | undefined {
  let addr = ip;
  if (addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4) addr = addr.slice(7);
  const fam = isIP(addr);
  if (fam === 4) {
    return { family: 4, value: addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (fam === 6) {
    const [head, tail] = addr.split('::') as [string, string | undefined];
    const parse = (s: string | undefined) => (s ? s.split(':') : []);
    let h = parse(head);
    let t = parse(tail);
    // an embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups
    const fix = (groups: string[]) =>
      groups.flatMap((g) => {
        if (g.includes('.')) {
          const v = toBigInt(g)!.value;
          return [((v >> 16n) & 0xffffn).toString(16), (v & 0xffffn).toString(16)];
        }
        return [g];
      });
    h = fix(h);
    t = fix(t);
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
  }
  return undefined;
}

export function compileCidr(prefix: string, len: number): Cidr | undefined {
  const p = toBigInt(prefix);
  if (!p) return undefined;
  const width = p.family === 4 ? 32 : 128;
  const l = len < 0 ? width : len;
  if (l > width) return undefined;
  const mask = l === 0 ? 0n : ((1n << BigInt(l)) - 1n) << BigInt(width - l);
  return { family: p.family, bits: p.value & mask, mask };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const p = toBigInt(ip);
  if (!p || p.family !== c.family) return false;
  return (p.value & c.mask) === c.bits;
}
