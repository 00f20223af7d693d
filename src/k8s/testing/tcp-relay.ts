// A TCP relay on 127.0.0.1 in front of a server, that a test can cut (every connection dropped, new ones refused) and
// restore: a control plane behind it loses its watches while the test changes the cluster through the real address.

import net from 'node:net';

export class TcpRelay {
  private readonly sockets = new Set<net.Socket>();
  private cut = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpRelay> {
    let relay: TcpRelay | undefined;
    const server = net.createServer((client) => {
      if (!relay || relay.cut) return void client.destroy();
      const upstream = net.connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        relay.sockets.add(s);
        s.on('close', () => relay!.sockets.delete(s));
        s.on('error', () => (client.destroy(), upstream.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
    relay = new TcpRelay(server, port);
    return relay;
  }

  /** Drops every connection and refuses new ones until restore(). */
  sever(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  close(): Promise<void> {
    this.sever();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
