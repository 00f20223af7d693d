// Sockets inside an ambient pod's network namespace, owned by the one node proxy (Istio's in-pod redirection): its
// listeners (15001 outbound, 15006 inbound plaintext, 15008 HBONE) and its connections from the pod (to the app, to
// other pods' HBONE ports, to outside destinations) are made in the pod's namespace by the native addon
// native/pod-socket (setns + socket + SO_MARK), then served by Node on the file descriptor. The mark is Istio's 0x539:
// the pod's capture rules skip the proxy's own packets.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Where the addon is built (`npm ci` runs scripts/build-native.mjs). */
export const POD_SOCKET_ADDON = fileURLToPath(new URL('../../../native/pod-socket/build/Release/pod_socket.node', import.meta.url));

/** Istio's in-pod mark (1337): packets of the node proxy's own sockets, which the pod's rules never redirect. */
export const PROXY_MARK = 0x539;

interface Addon {
  listenInNetns(path: string, host: string, port: number, mark: number): number;
  socketInNetns(path: string, family: 4 | 6, mark: number): number;
}

let addon: Addon | undefined;
let problem: string | undefined;

/** Whether this process can make sockets in pods' namespaces, and if not, why (for the runtime's choice and the logs). */
export function podSocketSupport(): { ok: true } | { ok: false; reason: string } {
  if (addon) return { ok: true };
  if (problem) return { ok: false, reason: problem };
  if (process.platform !== 'linux') problem = `network namespaces are Linux's (this is ${process.platform})`;
  else if (!existsSync(POD_SOCKET_ADDON)) problem = `the pod-socket addon is not built (${POD_SOCKET_ADDON}): run \`node scripts/build-native.mjs\` (it needs python3, make and a C compiler)`;
  else {
    try {
      addon = createRequire(import.meta.url)(POD_SOCKET_ADDON) as Addon;
      return { ok: true };
    } catch (err) {
      problem = `the pod-socket addon does not load (${(err as Error).message.split('\n')[0]})`;
    }
  }
  return { ok: false, reason: problem! };
}

function need(): Addon {
  const s = podSocketSupport();
  if (!s.ok) throw new Error(s.reason);
  return addon!;
}

/** A server listening on `host:port` inside the namespace at `netnsPath`; resolves once it accepts connections. */
export function listenInPod(server: net.Server, netnsPath: string, host: string, port: number): Promise<void> {
  const fd = need().listenInNetns(netnsPath, host, port, PROXY_MARK);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * A TCP connection to `host:port` made from inside the namespace (marked, so it is not captured again). The socket is
 * returned at once; it emits `connect` (or `error`) as net.connect's does, and buffers writes until then.
 */
export function connectFromPod(netnsPath: string, host: string, port: number): net.Socket {
  const family = net.isIP(host) === 6 ? 6 : 4;
  const fd = need().socketInNetns(netnsPath, family, PROXY_MARK);
  // pauseOnCreate: an unconnected socket must not start reading (it would read EOF at once); whoever consumes it (a
  // pipe, a TLS layer) starts reading once it is connected.
  const socket = new net.Socket({ fd, pauseOnCreate: true, allowHalfOpen: true } as net.SocketConstructorOpts);
  socket.setNoDelay(true);
  socket.connect({ host, port });
  return socket;
}
