// Which pod network `trellis up` uses: network namespaces with transparent capture where this machine allows them (Linux,
// root, iproute2 and iptables, the original-destination addon built), loopback addresses with HTTP_PROXY elsewhere.

import { originalDstSupport } from '../proxy/listener/original-dst.js';
import { have } from './netns/commands.js';

export type NetworkMode = 'netns' | 'loopback';

/** Whether network namespaces can be used here, and if not, why not. */
export function netnsAvailability(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces are Linux's (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'making network namespaces needs root' };
  const missing = ['ip', 'iptables-restore', 'setpriv'].filter((c) => !have(c));
  if (missing.length) return { ok: false, reason: `missing ${missing.join(', ')} (Debian: apt-get install iproute2 iptables util-linux; node scripts/system-deps.mjs demo)` };
  const od = originalDstSupport();
  if (!od.ok) return { ok: false, reason: od.reason };
  return { ok: true };
}

/** The mode asked for (or the best available); asking for netns where it cannot work is an error that says why. */
export function chooseNetworkMode(asked: NetworkMode | undefined): { mode: NetworkMode; why: string } {
  const netns = netnsAvailability();
  if (asked === 'loopback') return { mode: 'loopback', why: 'asked for (--network loopback)' };
  if (asked === 'netns') {
    if (!netns.ok) throw new Error(`--network netns cannot be used here: ${netns.reason}`);
    return { mode: 'netns', why: 'asked for (--network netns)' };
  }
  return netns.ok ? { mode: 'netns', why: 'default where namespaces can be made' } : { mode: 'loopback', why: `network namespaces unavailable: ${netns.reason}` };
}
