// Listeners that ask for port 0 get one concrete port for all workers. Node's cluster shares a listening socket by
// (address, port, per-worker listen index); with port 0 the index depends on each worker's history, so a worker
// started later would get a different port. The primary therefore picks the port once (a short bind to port 0 on the
// listener's address) and every worker listens on that port; the pin is kept while the listener keeps its name and
// address. A process that binds the same port in the moment between the pick and the workers' listen would make the
// listener fail to bind (reported as TRL2007, like any bind failure).

import net from 'node:net';
import type { EnvoySnapshot, Listener } from '../../xds/envoy/index.js';

type SocketAddress = { address?: string; portValue?: number };

function socketAddressOf(l: Listener): SocketAddress | undefined {
  return (l.address as { socketAddress?: SocketAddress } | undefined)?.socketAddress;
}

/** A free port on `address` right now. */
export function pickPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: address, port: 0, ipv6Only: false }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class PortPins {
  private readonly pins = new Map<string, { address: string; port: number }>();

  constructor(private readonly pick: (address: string) => Promise<number> = pickPort) {}

  /** The snapshot with every port-0 listener that binds given its pinned port (the input is not modified). */
  async pin(snapshot: EnvoySnapshot): Promise<EnvoySnapshot> {
    const keep = new Set<string>();
    const listeners = await Promise.all(
      (snapshot.listeners ?? []).map(async (l) => {
        const sa = socketAddressOf(l);
        if (!sa || (sa.portValue ?? 0) !== 0 || (l.bindToPort ?? true) === false || !l.name) return l;
        const address = sa.address ?? '0.0.0.0';
        let pin = this.pins.get(l.name);
        if (!pin || pin.address !== address) {
          try {
            pin = { address, port: await this.pick(address) };
          } catch {
            return l; // the address cannot be bound at all: the workers report it
          }
          this.pins.set(l.name, pin);
        }
        keep.add(l.name);
        return { ...l, address: { ...l.address, socketAddress: { ...sa, portValue: pin.port } } } as Listener;
      }),
    );
    for (const name of this.pins.keys()) if (!keep.has(name)) this.pins.delete(name);
    return { ...snapshot, listeners };
  }
}
