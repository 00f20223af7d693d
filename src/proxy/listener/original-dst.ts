// A captured connection's original destination (Envoy's original_dst listener filter): iptables REDIRECTs a pod's
// traffic to the sidecar, and only getsockopt(SO_ORIGINAL_DST) on the accepted socket says where it was going. Node does
// not expose that call, so a small native addon (native/original-dst, built at install) makes it; without the addon the
// proxy serves useOriginalDst listeners as before (HTTP requests name their target) and says why capture cannot work.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Where the addon is built (`npm ci` runs scripts/build-native.mjs; `node scripts/build-native.mjs` again by hand). */
export const ORIGINAL_DST_ADDON = fileURLToPath(new URL('../../../native/original-dst/build/Release/original_dst.node', import.meta.url));

interface Addon {
  originalDst(fd: number): [string, number] | null;
}

export type OriginalDstSupport = { ok: true } | { ok: false; reason: string };

let addon: Addon | undefined;
let support: OriginalDstSupport | undefined;

/** Whether this process can read original destinations, and if not, what to do about it. */
export function originalDstSupport(): OriginalDstSupport {
  if (support) return support;
  if (process.platform !== 'linux') return (support = { ok: false, reason: `SO_ORIGINAL_DST is Linux's (this is ${process.platform})` });
  if (!existsSync(ORIGINAL_DST_ADDON)) {
    return (support = { ok: false, reason: `the original-destination addon is not built (${ORIGINAL_DST_ADDON}): it needs python3, make and a C compiler; install them and run \`node scripts/build-native.mjs\`` });
  }
  try {
    addon = createRequire(import.meta.url)(ORIGINAL_DST_ADDON) as Addon;
    return (support = { ok: true });
  } catch (err) {
    return (support = { ok: false, reason: `the original-destination addon does not load (${(err as Error).message.split('\n')[0]}): rebuild it with \`node scripts/build-native.mjs\`` });
  }
}

/**
 * The destination a redirected connection was addressed to, or undefined when it was not redirected (a client that
 * connected to the listener itself, as HTTP_PROXY clients do) or the addon is missing.
 */
export function originalDestination(socket: net.Socket): { address: string; port: number } | undefined {
  if (!originalDstSupport().ok) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return undefined;
  const got = addon!.originalDst(fd);
  if (!got) return undefined;
  const [address, port] = got;
  // conntrack answers for every connection; one that was not NATed names the listener's own address and port.
  const local = socket.localAddress?.startsWith('::ffff:') ? socket.localAddress.slice(7) : socket.localAddress;
  if (port === socket.localPort && address === local) return undefined;
  return { address, port };
}
